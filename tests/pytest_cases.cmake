# Run by the build (cmake -P) once the Python module is built: writes OUTPUT, a CTest file with one
# test per pytest case of the folder DIR (pytest --collect-only, with PYTHON), each running that
# case alone, named "PREFIX/FILE::CASE", with LABEL, the ENVIRONMENT (a ;-list given with |) and
# TIMEOUT. One test a case lets `ctest -j` spread the suites and start the long cases first.
string(REPLACE "|" ";" environment "${ENVIRONMENT}")
execute_process(COMMAND ${CMAKE_COMMAND} -E env ${environment} "${PYTHON}" -m pytest --collect-only -q -p no:cacheprovider "${DIR}"
  WORKING_DIRECTORY "${WORKING_DIRECTORY}"
  OUTPUT_VARIABLE listing ERROR_VARIABLE errors RESULT_VARIABLE rc TIMEOUT 300)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "pytest --collect-only ${DIR} failed (${rc}):\n${listing}${errors}")
endif()
string(REPLACE "\n" ";" lines "${listing}")
set(content "")
set(count 0)
foreach(line IN LISTS lines)
  # A case's node id: "tests/python/test_x.py::test_name" (parameterized: "...::test_name[a-b]").
  if(line MATCHES "^[^ ]+\\.py::[^ ]+$")
    string(REGEX REPLACE "^.*/" "" name "${line}")
    set(name "${PREFIX}/${name}")
    string(APPEND content
      "add_test([=[${name}]=] [=[${PYTHON}]=] -m pytest -q -p no:cacheprovider [=[${line}]=])\n"
      "set_tests_properties([=[${name}]=] PROPERTIES LABELS ${LABEL} TIMEOUT ${TIMEOUT}"
      " WORKING_DIRECTORY [=[${WORKING_DIRECTORY}]=] ENVIRONMENT [=[${environment}]=])\n")
    math(EXPR count "${count} + 1")
  endif()
endforeach()
if(count EQUAL 0)
  message(FATAL_ERROR "pytest --collect-only ${DIR}: got no test case, expected at least one:\n${listing}")
endif()
file(WRITE "${OUTPUT}" "${content}")
