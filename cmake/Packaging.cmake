# Install layout and packages (CPack: DEB per component, one TGZ).
#
# Included once, at the end of the top-level CMakeLists.txt, after every
# target exists. All install() rules of the project live here.
#
# Two components, two Debian packages, so that several plugin versions can be
# installed side by side:
#   host    -> connector-host: the reference host, conn_abi.h, the pkg-config
#              file, the systemd unit, the man page, the example host file
#   plugin  -> acumatica-connector-plugin-<plugin version>: the plugin module
#              and its mappings. Every path in it carries the plugin version,
#              so two plugin packages never own the same file.
# `make package` (cpack in build/release) writes both .deb files and one
# .tar.gz holding everything. packaging/README.md describes the layout.

# A Debian package installs under /usr. Only the default prefix is changed;
# -DCMAKE_INSTALL_PREFIX=... still wins.
if(CMAKE_INSTALL_PREFIX_INITIALIZED_TO_DEFAULT)
  set(CMAKE_INSTALL_PREFIX "/usr" CACHE PATH "Install prefix" FORCE)
endif()

# `install` and cpack install what is built; they do not build the whole
# project first (`make package` builds, then runs cpack; the package tests
# must not start a build of their own).
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)

set(ACU_PACKAGE_MAINTAINER
  "Seed ff09f057 maintainers <maintainers@users.noreply.r-seed-ff09f057.example>"
  CACHE STRING "Maintainer named in the packages")

# lib/<multiarch> on Debian (the plugin is an architecture-specific file);
# GNUInstallDirs' libdir elsewhere.
if(CMAKE_LIBRARY_ARCHITECTURE)
  set(ACU_INSTALL_LIBDIR "lib/${CMAKE_LIBRARY_ARCHITECTURE}")
else()
  set(ACU_INSTALL_LIBDIR "${CMAKE_INSTALL_LIBDIR}")
endif()
set(ACU_INSTALL_PLUGINDIR "${ACU_INSTALL_LIBDIR}/connector-host/plugins")
set(ACU_INSTALL_DATADIR "${CMAKE_INSTALL_DATADIR}/acumatica-connector/${ACU_PLUGIN_VERSION}")
set(ACU_INSTALL_DOCDIR "${CMAKE_INSTALL_DATADIR}/doc/connector-host")
set(ACU_INSTALL_SYSTEMDDIR "lib/systemd/system")
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set(ACU_FULL_SYSCONFDIR "/etc")
else()
  set(ACU_FULL_SYSCONFDIR "${CMAKE_INSTALL_PREFIX}/etc")
endif()

# Where the installed connector-host looks for a bare plugin file name. The
# executable in the build tree keeps using the build's plugins/ directory
# (HOST_PLUGIN_DIR, host-api/CMakeLists.txt); connector_host.c tells the two
# copies apart by comparing itself with HOST_BUILD_EXE.
target_compile_definitions(connector_host PRIVATE
  HOST_INSTALLED_PLUGIN_DIR="${CMAKE_INSTALL_PREFIX}/${ACU_INSTALL_PLUGINDIR}"
  HOST_BUILD_EXE="$<TARGET_FILE:connector_host>")

# ---- component host: connector-host ----------------------------------------
install(TARGETS connector_host RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT host)
install(FILES ${PROJECT_SOURCE_DIR}/host-api/include/conn_abi.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT host)

# The ABI version for the pkg-config file comes from the header itself.
file(STRINGS ${PROJECT_SOURCE_DIR}/host-api/include/conn_abi.h _acu_abi_lines
     REGEX "^#define CONN_ABI_(MAJOR|MINOR) [0-9]+")
string(REGEX REPLACE ".*CONN_ABI_MAJOR ([0-9]+).*" "\\1" ACU_ABI_MAJOR "${_acu_abi_lines}")
string(REGEX REPLACE ".*CONN_ABI_MINOR ([0-9]+).*" "\\1" ACU_ABI_MINOR "${_acu_abi_lines}")
configure_file(${PROJECT_SOURCE_DIR}/packaging/connector-abi.pc.in
               ${PROJECT_BINARY_DIR}/packaging/connector-abi.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/packaging/connector-abi.pc
        DESTINATION ${ACU_INSTALL_LIBDIR}/pkgconfig COMPONENT host)

configure_file(${PROJECT_SOURCE_DIR}/packaging/connector-host.service.in
               ${PROJECT_BINARY_DIR}/packaging/connector-host.service @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/packaging/connector-host.service
        DESTINATION ${ACU_INSTALL_SYSTEMDDIR} COMPONENT host)
install(FILES ${PROJECT_SOURCE_DIR}/packaging/connector-host.sysusers
        DESTINATION lib/sysusers.d RENAME connector-host.conf COMPONENT host)

# Man pages, compressed as Debian wants them (gzip -n: no name or time in
# the header, so the package is reproducible).
find_program(ACU_GZIP gzip REQUIRED)
set(ACU_MAN_PAGES connector-host.1)
set(_acu_man_outputs "")
foreach(page IN LISTS ACU_MAN_PAGES)
  string(REGEX REPLACE ".*\\.([0-9])$" "\\1" section "${page}")
  set(out ${PROJECT_BINARY_DIR}/packaging/man/${page}.gz)
  add_custom_command(OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${PROJECT_BINARY_DIR}/packaging/man
    COMMAND ${ACU_GZIP} -9n -c ${PROJECT_SOURCE_DIR}/packaging/man/${page} > ${out}
    DEPENDS ${PROJECT_SOURCE_DIR}/packaging/man/${page}
    COMMENT "Compressing the man page ${page}")
  list(APPEND _acu_man_outputs ${out})
  install(FILES ${out} DESTINATION ${CMAKE_INSTALL_MANDIR}/man${section} COMPONENT host)
endforeach()
add_custom_target(acu_man_pages ALL DEPENDS ${_acu_man_outputs})

install(FILES ${PROJECT_SOURCE_DIR}/host-api/README.md
        DESTINATION ${ACU_INSTALL_DOCDIR} COMPONENT host)
install(FILES ${PROJECT_SOURCE_DIR}/packaging/examples/host.json
        DESTINATION ${ACU_INSTALL_DOCDIR}/examples COMPONENT host)

# ---- component plugin: acumatica-connector-plugin-<version> ----------------
install(TARGETS acumatica_plugin LIBRARY DESTINATION ${ACU_INSTALL_PLUGINDIR} COMPONENT plugin)
# The mappings tree (versions, lookups, catalogues, the mapping schema,
# README) and the canonical record schemas the mappings produce and accept.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/mappings/
        DESTINATION ${ACU_INSTALL_DATADIR} COMPONENT plugin
        PATTERN "CMakeLists.txt" EXCLUDE
        PATTERN "*.py" EXCLUDE
        PATTERN "__pycache__" EXCLUDE)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/host-api/schemas/
        DESTINATION ${ACU_INSTALL_DATADIR}/schemas COMPONENT plugin
        FILES_MATCHING PATTERN "*.json")

# ---- CPack ------------------------------------------------------------------
set(CPACK_PACKAGE_NAME "acumatica-connector")
set(CPACK_PACKAGE_VENDOR "acumatica-connector project")
set(CPACK_PACKAGE_CONTACT "${ACU_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_RESOURCE_FILE_README "${PROJECT_SOURCE_DIR}/README.md")
set(_acu_tgz_name "acumatica-connector-${PROJECT_VERSION}")
if(NOT ACU_PLUGIN_VERSION STREQUAL PROJECT_VERSION)
  string(APPEND _acu_tgz_name "-plugin-${ACU_PLUGIN_VERSION}")
endif()
set(CPACK_PACKAGE_FILE_NAME "${_acu_tgz_name}-linux-${CMAKE_SYSTEM_PROCESSOR}")
set(CPACK_GENERATOR "DEB;TGZ")
set(CPACK_SOURCE_GENERATOR "")
set(CPACK_STRIP_FILES ON)
set(CPACK_COMPONENTS_ALL host plugin)
set(CPACK_ARCHIVE_COMPONENT_INSTALL OFF)   # one .tar.gz with everything
set(CPACK_DEB_COMPONENT_INSTALL ON)        # one .deb per component

set(CPACK_COMPONENT_HOST_DISPLAY_NAME "connector-host")
# The first line is the Debian synopsis, the rest the extended description.
set(CPACK_COMPONENT_HOST_DESCRIPTION
"reference host and runtime for connector plugins
connector-host loads connector plugins (shared objects speaking the
connector C ABI ${ACU_ABI_MAJOR}.${ACU_ABI_MINOR}), checks them before use, and runs their
flows for many subscriptions: scheduled pulls, a push queue in SQLite
with retries and a dead-letter list, and hot swap of the plugin version
of one subscription without a restart. Runs as a systemd service.

Also ships conn_abi.h and the connector-abi pkg-config file, so that
other hosts and plugins can be built against the ABI.")
set(CPACK_COMPONENT_PLUGIN_DISPLAY_NAME "acumatica-connector-plugin-${ACU_PLUGIN_VERSION}")
set(CPACK_COMPONENT_PLUGIN_DESCRIPTION
"Acumatica ERP connector plugin, version ${ACU_PLUGIN_VERSION}
The connector plugin for Acumatica ERP (contract-based REST API,
endpoint versions 20.200.001 to 24.200.001): customers, products,
inventory, locations, sales orders and shipment tracking, with OAuth or
password sign-in. Loaded by connector-host or any host speaking the
connector ABI ${ACU_ABI_MAJOR}.

This package holds plugin version ${ACU_PLUGIN_VERSION} and its default
mappings. Packages of other plugin versions install beside it.")

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_DEBIAN_HOST_PACKAGE_NAME "connector-host")
set(CPACK_DEBIAN_HOST_PACKAGE_SECTION "net")
set(CPACK_DEBIAN_HOST_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_HOST_PACKAGE_RECOMMENDS "acumatica-connector-plugin")
set(CPACK_DEBIAN_HOST_PACKAGE_SUGGESTS "pkg-config")
foreach(script postinst prerm postrm)
  configure_file(${PROJECT_SOURCE_DIR}/packaging/debian/${script}.in
                 ${PROJECT_BINARY_DIR}/packaging/debian/${script} @ONLY)
endforeach()
set(CPACK_DEBIAN_HOST_PACKAGE_CONTROL_EXTRA
  ${PROJECT_BINARY_DIR}/packaging/debian/postinst
  ${PROJECT_BINARY_DIR}/packaging/debian/prerm
  ${PROJECT_BINARY_DIR}/packaging/debian/postrm)
set(CPACK_DEBIAN_PLUGIN_PACKAGE_NAME "acumatica-connector-plugin-${ACU_PLUGIN_VERSION}")
set(CPACK_DEBIAN_PLUGIN_PACKAGE_SECTION "net")
set(CPACK_DEBIAN_PLUGIN_PACKAGE_PROVIDES "acumatica-connector-plugin")
set(CPACK_DEBIAN_PLUGIN_PACKAGE_ENHANCES "connector-host")

# The Debian package goes under the install prefix; the .tar.gz is relative.
configure_file(${PROJECT_SOURCE_DIR}/packaging/CPackProjectConfig.cmake.in
               ${PROJECT_BINARY_DIR}/packaging/CPackProjectConfig.cmake @ONLY)
set(CPACK_PROJECT_CONFIG_FILE ${PROJECT_BINARY_DIR}/packaging/CPackProjectConfig.cmake)

include(CPack)

if(ACU_BUILD_TESTS)
  add_subdirectory(${PROJECT_SOURCE_DIR}/tests/packaging ${PROJECT_BINARY_DIR}/tests/packaging)
endif()
