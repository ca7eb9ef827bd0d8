# ccache for every compile when it is installed (scripts/setup.sh installs it), set up so that a
# clone in another folder hits what an earlier build of the project left: paths under the source
# tree are hashed relative to it (base_dir), the working folder is not hashed (hash_dir, which
# -g would otherwise add), and no absolute path is left in a compile definition
# (twotower_build_paths.h). The cache is ccache's own folder, outside every clone.
# The project's root is the folder above this file, for the main build and fuzz/'s alike.
cmake_path(GET CMAKE_CURRENT_LIST_DIR PARENT_PATH _twotower_root)
find_program(CCACHE_PROGRAM ccache)
if(CCACHE_PROGRAM)
  set(CMAKE_CXX_COMPILER_LAUNCHER "${CMAKE_COMMAND}" -E env "CCACHE_BASEDIR=${_twotower_root}"
      CCACHE_NOHASHDIR=true "${CCACHE_PROGRAM}")
endif()
