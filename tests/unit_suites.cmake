# Run after each build of the test binary (cmake -P): writes OUTPUT, a CTest file with one test
# per GoogleTest suite of TEST_EXECUTABLE, named "Suite.*", running that suite's tests except those
# EXCLUDE (a gtest filter) names, labelled unit. One process per suite, not per test: starting the
# binary (loading LibTorch) takes longer than most unit tests.
execute_process(COMMAND "${TEST_EXECUTABLE}" --gtest_list_tests "--gtest_filter=-${EXCLUDE}"
  OUTPUT_VARIABLE listing ERROR_VARIABLE errors RESULT_VARIABLE rc TIMEOUT 120)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${TEST_EXECUTABLE} --gtest_list_tests failed (${rc}):\n${listing}${errors}")
endif()
string(REPLACE "\n" ";" lines "${listing}")
set(content "")
foreach(line IN LISTS lines)
  # Suite lines start at column 0 and end in '.' (parameterized: "Prefix/Suite.  # TypeParam");
  # test lines are indented.
  if(line MATCHES "^([^ #]+)\\.( |$)")
    set(name "${CMAKE_MATCH_1}.*")
    string(APPEND content
      "add_test([=[${name}]=] [=[${TEST_EXECUTABLE}]=] [=[--gtest_filter=${name}-${EXCLUDE}]=])\n"
      "set_tests_properties([=[${name}]=] PROPERTIES LABELS unit ENVIRONMENT OMP_NUM_THREADS=1)\n")
  endif()
endforeach()
file(WRITE "${OUTPUT}" "${content}")
