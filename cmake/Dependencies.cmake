# Runtime and test dependencies, all from Debian packages
# (packaging/install-deps.sh installs them).
find_package(PkgConfig)
find_package(CURL REQUIRED)
find_package(OpenSSL 3 REQUIRED COMPONENTS Crypto SSL)
find_package(json-c CONFIG REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(Threads REQUIRED)

# libcurl must be the OpenSSL flavour (libcurl4-openssl-dev): the plugin
# relies on OpenSSL's CA handling and error texts.
execute_process(COMMAND curl-config --ssl-backends
                OUTPUT_VARIABLE ACU_CURL_SSL OUTPUT_STRIP_TRAILING_WHITESPACE
                ERROR_QUIET)
if(ACU_CURL_SSL AND NOT ACU_CURL_SSL MATCHES "OpenSSL")
  message(FATAL_ERROR "libcurl uses ${ACU_CURL_SSL}; install libcurl4-openssl-dev")
endif()

# libltdl has no CMake package: find it by header and library.
find_path(LTDL_INCLUDE_DIR ltdl.h REQUIRED)
find_library(LTDL_LIBRARY NAMES ltdl REQUIRED)
add_library(ltdl::ltdl UNKNOWN IMPORTED)
set_target_properties(ltdl::ltdl PROPERTIES
  IMPORTED_LOCATION "${LTDL_LIBRARY}"
  INTERFACE_INCLUDE_DIRECTORIES "${LTDL_INCLUDE_DIR}")

if(ACU_BUILD_TESTS)
  find_package(cmocka CONFIG REQUIRED)
  if(NOT TARGET cmocka::cmocka)
    add_library(cmocka::cmocka INTERFACE IMPORTED)
    set_target_properties(cmocka::cmocka PROPERTIES
      INTERFACE_LINK_LIBRARIES "${CMOCKA_LIBRARIES}"
      INTERFACE_INCLUDE_DIRECTORIES "${CMOCKA_INCLUDE_DIR}")
  endif()
  find_package(Python3 3.9 REQUIRED COMPONENTS Interpreter)
  find_program(VALGRIND_EXECUTABLE valgrind)
endif()
