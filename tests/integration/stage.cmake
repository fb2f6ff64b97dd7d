# Installs the build into a fresh staging prefix for the integration tests:
#   cmake -DBUILD_DIR=... -DSTAGE_DIR=... -P stage.cmake
# The old stage is removed first so files deleted from the tree do not linger there.
if(NOT BUILD_DIR OR NOT STAGE_DIR)
  message(FATAL_ERROR "usage: cmake -DBUILD_DIR=B -DSTAGE_DIR=S -P stage.cmake")
endif()
file(REMOVE_RECURSE "${STAGE_DIR}")
execute_process(COMMAND "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${STAGE_DIR}"
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cmake --install ${BUILD_DIR} --prefix ${STAGE_DIR} failed (${rc}); "
                      "build everything first (cmake --build ${BUILD_DIR})")
endif()
# httpd's children run as www-data: the installed tree must be readable and traversable.
execute_process(COMMAND chmod -R a+rX "${STAGE_DIR}")
if(NOT EXISTS "${STAGE_DIR}/lib/apache2/modules/mod_natomedia.so")
  message(FATAL_ERROR "${STAGE_DIR}/lib/apache2/modules/mod_natomedia.so was not installed")
endif()
