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

include(${CMAKE_CURRENT_LIST_DIR}/ArrowFromPython.cmake)

find_package(yaml-cpp REQUIRED)
find_package(CLI11 REQUIRED)
find_package(nlohmann_json REQUIRED)
find_package(simdjson REQUIRED)
find_package(ZLIB REQUIRED)
find_package(Threads REQUIRED)

# Serving: faiss (Debian libfaiss-dev) for the top-K index, cpp-httplib (libcpp-httplib-dev) for HTTP.
# faiss's CMake package names OpenMP::OpenMP_CXX in its link interface without finding it.
if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  # clang compiles OpenMP against LLVM's runtime (libomp), which would be a second runtime beside
  # LibTorch's libgomp: a clang build (the sanitizer build) compiles no OpenMP code of its own, and
  # takes from libomp-16-dev only its omp.h (in clang's own include folder), which declares the
  # omp_* functions that libgomp defines too (faiss's headers include it; the benchmarks set
  # libgomp's threads through it).
  add_library(OpenMP::OpenMP_CXX INTERFACE IMPORTED)
  set(OpenMP_CXX_FLAGS "")
else()
  find_package(OpenMP REQUIRED)
endif()
# The torch wheel ships the OpenMP runtime LibTorch was built with (torch/lib/libgomp.so.1), and
# the process loads that one (the run-time path names torch/lib first). faiss and the project's
# OpenMP code link it too, rather than GCC's libgomp.so.1 in another directory: one runtime, one
# thread pool, and no second library of the same name for CMake's run-time path to warn about.
if(EXISTS "${TORCH_INSTALL_PREFIX}/lib/libgomp.so.1")
  set_target_properties(OpenMP::OpenMP_CXX PROPERTIES INTERFACE_LINK_LIBRARIES "${TORCH_INSTALL_PREFIX}/lib/libgomp.so.1")
endif()
find_package(faiss REQUIRED)
find_path(TWOTOWER_HTTPLIB_INCLUDE httplib.h REQUIRED)
find_library(TWOTOWER_HTTPLIB_LIBRARY NAMES cpp-httplib)
# Debian builds libcpp-httplib with OpenSSL, zlib and brotli support, which changes its classes'
# layout: every source that includes httplib.h must see the same definitions (its pkg-config
# Cflags). They are set on those sources alone (set_source_files_properties), so that the other
# sources keep their flags and their compiler-cache entries.
set(TWOTOWER_HTTPLIB_DEFINITIONS CPPHTTPLIB_OPENSSL_SUPPORT CPPHTTPLIB_ZLIB_SUPPORT CPPHTTPLIB_BROTLI_SUPPORT)
