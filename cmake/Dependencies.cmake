# Finds LibTorch and Arrow/Parquet. By default both come from the project's virtual environment
# (.venv, made by scripts/setup.sh from the pinned torch and pyarrow wheels); a LibTorch or Arrow
# installed elsewhere is taken instead when CMAKE_PREFIX_PATH / TWOTOWER_PYTHON point there.

# `pip install .` (scikit-build-core, pyproject.toml) builds against the installing interpreter.
if(DEFINED SKBUILD AND DEFINED Python_EXECUTABLE)
  set(_default_python "${Python_EXECUTABLE}")
else()
  set(_default_python "${PROJECT_SOURCE_DIR}/.venv/bin/python")
endif()
set(TWOTOWER_PYTHON "${_default_python}" CACHE FILEPATH
    "Python interpreter whose torch and pyarrow packages provide LibTorch and Arrow")

if(EXISTS "${TWOTOWER_PYTHON}")
  execute_process(COMMAND "${TWOTOWER_PYTHON}" -c "import torch; print(torch.utils.cmake_prefix_path)"
                  OUTPUT_VARIABLE _torch_prefix OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE _rc)
  if(_rc EQUAL 0)
    list(APPEND CMAKE_PREFIX_PATH "${_torch_prefix}")
  endif()
endif()
find_package(Torch REQUIRED)
message(STATUS "LibTorch ${Torch_VERSION}: ${TORCH_INSTALL_PREFIX}")

# Arrow: a CMake package (ArrowConfig) if one is installed, else the pyarrow wheel's headers and libraries.
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

find_package(yaml-cpp REQUIRED)
find_package(CLI11 REQUIRED)
find_package(nlohmann_json REQUIRED)
find_package(simdjson REQUIRED)
find_package(ZLIB REQUIRED)
find_package(Threads REQUIRED)

# Serving: faiss (Debian libfaiss-dev) for the top-K index, cpp-httplib (libcpp-httplib-dev) for HTTP.
find_package(faiss REQUIRED)
find_path(TWOTOWER_HTTPLIB_INCLUDE httplib.h REQUIRED)
find_library(TWOTOWER_HTTPLIB_LIBRARY NAMES cpp-httplib)
# Debian builds libcpp-httplib with OpenSSL, zlib and brotli support, which changes its classes'
# layout: every source that includes httplib.h must see the same definitions (its pkg-config
# Cflags). They are set on those sources alone (set_source_files_properties), so that the other
# sources keep their flags and their compiler-cache entries.
set(TWOTOWER_HTTPLIB_DEFINITIONS CPPHTTPLIB_OPENSSL_SUPPORT CPPHTTPLIB_ZLIB_SUPPORT CPPHTTPLIB_BROTLI_SUPPORT)
