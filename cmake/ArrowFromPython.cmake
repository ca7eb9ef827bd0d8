# Arrow/Parquet: a CMake package (ArrowConfig) if one is installed, else the pyarrow wheel's headers
# and libraries in TWOTOWER_PYTHON's environment. Sets TWOTOWER_ARROW_TARGETS.
find_package(Parquet CONFIG QUIET)
if(Parquet_FOUND)
  set(TWOTOWER_ARROW_TARGETS Arrow::arrow_shared Parquet::parquet_shared)
else()
  execute_process(COMMAND "${TWOTOWER_PYTHON}" -c
                  "import pyarrow; print(pyarrow.get_include()); print(pyarrow.get_library_dirs()[0])"
                  OUTPUT_VARIABLE _pa OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE _rc)
  if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "Arrow not found: no ArrowConfig on CMAKE_PREFIX_PATH and no pyarrow in "
                        "${TWOTOWER_PYTHON}. Run scripts/setup.sh (or make build).")
  endif()
  string(REPLACE "\n" ";" _pa "${_pa}")
  list(GET _pa 0 _pa_include)
  list(GET _pa 1 _pa_libdir)
  foreach(_lib arrow parquet)
    if(NOT EXISTS "${_pa_libdir}/lib${_lib}.so")
      message(FATAL_ERROR "${_pa_libdir}/lib${_lib}.so is missing: run scripts/setup.sh "
                          "(it calls pyarrow.create_library_symlinks())")
    endif()
    add_library(twotower_${_lib} SHARED IMPORTED)
    set_target_properties(twotower_${_lib} PROPERTIES
      IMPORTED_LOCATION "${_pa_libdir}/lib${_lib}.so"
      INTERFACE_INCLUDE_DIRECTORIES "${_pa_include}")
  endforeach()
  set(TWOTOWER_ARROW_TARGETS twotower_arrow twotower_parquet)
  message(STATUS "Arrow from pyarrow: ${_pa_libdir}")
endif()

