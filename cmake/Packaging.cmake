# Debian package (CPack DEB): after `cmake --build build`, `(cd build && cpack)` gives
# libapache2-mod-natomedia_V_ARCH.deb. The package always installs under /usr, whatever
# CMAKE_INSTALL_PREFIX says: the module and natomedia-admin find their plugins and share
# directory relative to where they are installed, so the same build serves a staged install,
# the tests and the package.
#
# The package holds the CONTRACT section 1 layout under /usr, the man page, and, for a2enmod,
# natomedia.load and natomedia.conf in /etc/apache2/mods-available (conffiles). Those /etc files
# belong to the `debian` install component, left out of a plain `cmake --install` so that
# installing into a prefix never writes to /etc.

include(GNUInstallDirs)
set(NM_PACKAGE_PREFIX /usr)

install(FILES ${PROJECT_SOURCE_DIR}/docs/natomedia-admin.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)

# a2enmod enables what a .load file's "# Depends:" line names: mod_dbd carries the SQL.
file(READ ${PROJECT_SOURCE_DIR}/conf/natomedia.load NM_LOAD_TEXT)
if(NOT NM_LOAD_TEXT MATCHES "# Depends:")
  set(NM_LOAD_TEXT "# Depends: dbd\n${NM_LOAD_TEXT}")
endif()
string(REPLACE "/usr/lib/apache2/modules/" "${NM_PACKAGE_PREFIX}/${NM_MODULE_DIR}/"
       NM_LOAD_TEXT "${NM_LOAD_TEXT}")
file(GENERATE OUTPUT ${CMAKE_BINARY_DIR}/debian/natomedia.load CONTENT "${NM_LOAD_TEXT}")
install(FILES ${CMAKE_BINARY_DIR}/debian/natomedia.load ${PROJECT_SOURCE_DIR}/conf/natomedia.conf
        DESTINATION /etc/apache2/mods-available COMPONENT debian EXCLUDE_FROM_ALL)
install(FILES ${PROJECT_SOURCE_DIR}/README.md
        DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/libapache2-mod-natomedia
        COMPONENT debian EXCLUDE_FROM_ALL)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/docs/
        DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/libapache2-mod-natomedia
        COMPONENT debian EXCLUDE_FROM_ALL FILES_MATCHING PATTERN "*.md")


set(CPACK_GENERATOR "DEB")
set(CPACK_PACKAGE_NAME "libapache2-mod-natomedia")
set(CPACK_PACKAGE_VENDOR "NatoMedia")
set(CPACK_PACKAGE_CONTACT "NatoMedia maintainers <natomedia@example.org>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "Apache module for a media portal: accounts, emailed codes, newsletter, news, downloads")
set(CPACK_PACKAGE_DESCRIPTION
    "mod_natomedia serves the account, news and download side of a broadcaster's media portal\n\
inside Apache httpd 2.4: accounts with emailed verification codes, a newsletter with recorded\n\
consent, news from a NewsML-G2 feed and video downloads. Includes the authentication,\n\
verification, newsletter and media_gateway plugins, the plugin SDK, and natomedia-admin.")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX ${NM_PACKAGE_PREFIX})
set(CPACK_STRIP_FILES ON)  # debug info stays in the build tree, as Debian moves it to -dbgsym

# One package made of the default component and the /etc files.
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_GROUPING ALL_COMPONENTS_IN_ONE)
set(CPACK_COMPONENTS_ALL Unspecified debian)

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION "httpd")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://example.org/natomedia")
# Libraries come from dpkg-shlibdeps (libmemcached11, libargon2-1, libxml2, libcurl4, libssl3,
# libaprutil1, libstdc++6 ...); what is loaded by name at run time is listed by hand.
find_program(NM_DPKG_SHLIBDEPS dpkg-shlibdeps)
if(NM_DPKG_SHLIBDEPS)
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
  set(NM_DEB_LIB_DEPENDS "")
else()
  set(NM_DEB_LIB_DEPENDS ", libmemcached11, libargon2-1, libxml2, libcurl4, libssl3")
endif()
set(CPACK_DEBIAN_PACKAGE_DEPENDS
    "apache2 (>= 2.4), libaprutil1-dbd-sqlite3${NM_DEB_LIB_DEPENDS}")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "libaprutil1-dbd-pgsql, memcached, postgresql")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/cmake/debian/conffiles
    ${PROJECT_SOURCE_DIR}/cmake/debian/postinst
    ${PROJECT_SOURCE_DIR}/cmake/debian/prerm
    ${PROJECT_SOURCE_DIR}/cmake/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

include(CPack)
