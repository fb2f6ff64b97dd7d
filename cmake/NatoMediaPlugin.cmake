# The functions a plugin's CMakeLists.txt uses (installed with the SDK, included by
# NatoMediaConfig.cmake):
#
#   natomedia_add_plugin(NAME SOURCES src... [RESOURCES DIR])
#     Builds natomedia_NAME.so (hidden visibility, position-independent, against NatoMedia::sdk)
#     and installs it into NATOMEDIA_PLUGIN_INSTALL_DIR (default: the SDK's plugin directory,
#     where `NatoMediaPlugin NAME` finds it). DIR (relative to the current source folder) is laid
#     out as the share directory: DIR/templates/NAME/*.html and DIR/i18n/NAME.en.strings,
#     NAME.fr.strings; both are installed into NATOMEDIA_SHARE_INSTALL_DIR (default: the SDK's
#     share directory, which the module searches after NatoMediaTemplates).
#
#   natomedia_add_plugin_test(NAME SOURCES src... [PLUGIN NAME] [RESOURCES DIR] [LINK libs...])
#     A CppUnit executable linked with NatoMedia::testing and the CppUnit runner, registered with
#     CTest as NAME. PLUGIN takes the resources of that natomedia_add_plugin; the kit finds them
#     through NATOMEDIA_TEST_RESOURCES (TestPortal::Options::resources_dir's default).
#     SOURCES list the plugin's sources too: the test calls its setup through
#     natomedia_plugin_entry().
function(natomedia_add_plugin name)
  cmake_parse_arguments(P "" "RESOURCES" "SOURCES" ${ARGN})
  add_library(natomedia_${name} MODULE ${P_SOURCES} ${P_UNPARSED_ARGUMENTS})
  target_link_libraries(natomedia_${name} PRIVATE NatoMedia::sdk)
  set_target_properties(natomedia_${name} PROPERTIES PREFIX "" CXX_VISIBILITY_PRESET hidden
                        VISIBILITY_INLINES_HIDDEN ON POSITION_INDEPENDENT_CODE ON)
  install(TARGETS natomedia_${name} LIBRARY DESTINATION ${NATOMEDIA_PLUGIN_INSTALL_DIR})
  if(P_RESOURCES)
    get_filename_component(res "${P_RESOURCES}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
    if(EXISTS "${res}/templates" AND NOT IS_DIRECTORY "${res}/templates/${name}")
      message(FATAL_ERROR "natomedia_add_plugin(${name}): templates go in "
                          "${res}/templates/${name}/ (rendered as \"${name}/NAME.html\")")
    endif()
    if(IS_DIRECTORY "${res}/templates")
      install(DIRECTORY "${res}/templates/" DESTINATION ${NATOMEDIA_SHARE_INSTALL_DIR}/templates)
    endif()
    if(IS_DIRECTORY "${res}/i18n")
      install(DIRECTORY "${res}/i18n/" DESTINATION ${NATOMEDIA_SHARE_INSTALL_DIR}/i18n
              FILES_MATCHING PATTERN "*.strings")
    endif()
    set_property(TARGET natomedia_${name} PROPERTY NATOMEDIA_RESOURCES "${res}")
  endif()
endfunction()

function(natomedia_add_plugin_test name)
  cmake_parse_arguments(T "" "PLUGIN;RESOURCES" "SOURCES;LINK" ${ARGN})
  if(NOT TARGET PkgConfig::NatoMedia_CPPUNIT)
    find_package(PkgConfig REQUIRED)
    pkg_check_modules(NatoMedia_CPPUNIT REQUIRED IMPORTED_TARGET GLOBAL cppunit)
  endif()
  add_executable(${name} ${T_SOURCES} ${T_UNPARSED_ARGUMENTS} ${NatoMedia_TEST_MAIN})
  target_link_libraries(${name} PRIVATE NatoMedia::testing PkgConfig::NatoMedia_CPPUNIT ${T_LINK})
  add_test(NAME ${name} COMMAND ${name})
  set(res "")
  if(T_RESOURCES)
    get_filename_component(res "${T_RESOURCES}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
  elseif(T_PLUGIN)
    get_property(res TARGET natomedia_${T_PLUGIN} PROPERTY NATOMEDIA_RESOURCES)
  endif()
  if(res)
    set_tests_properties(${name} PROPERTIES ENVIRONMENT "NATOMEDIA_TEST_RESOURCES=${res}")
  endif()
endfunction()
