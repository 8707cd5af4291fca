# `cmake --install build --prefix P` installs duel as a library (docs/library.md):
#   P/bin/duel                      the command line
#   P/lib/libduel.a                 the library (duel_core's objects)
#   P/lib/libduel_cli.a             the command line as duel::run_cli (duel_cli's objects)
#   P/include/duel/...              the public headers (DUEL_PUBLIC_HEADERS) and the
#                                   headers they include (DUEL_SUPPORT_HEADERS)
#   P/share/duel/features/          the shipped feature networks (duel eval finds them there)
#   P/lib/cmake/duel/               duelConfig.cmake: find_package(duel) -> duel::duel, duel::cli
# The archives are linked whole (WHOLE_ARCHIVE), so every model's and command's
# self-registration is kept, as with the OBJECT libraries of this build.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

add_library(duel_lib STATIC $<TARGET_OBJECTS:duel_core>)
set_target_properties(duel_lib PROPERTIES OUTPUT_NAME duel LINKER_LANGUAGE CXX)
add_library(duel_cli_lib STATIC $<TARGET_OBJECTS:duel_cli>)
set_target_properties(duel_cli_lib PROPERTIES OUTPUT_NAME duel_cli LINKER_LANGUAGE CXX)

# The public API: what a program of its own includes (docs/library.md says what each is for).
set(DUEL_PUBLIC_HEADERS
    core/config.h core/error.h core/threads.h
    data/dataset.h data/batch.h data/loader.h
    nn/init.h nn/sync_batch_norm.h nn/onnx_modules.h
    losses/adversarial.h
    models/model.h models/capabilities.h models/two_player.h models/model_files.h
    checkpoint/checkpoint.h
    metrics/metrics.h metrics/evaluate.h
    train/trainer.h train/callback.h
    apps/model_loading.h apps/sampling.h
    cli/cli.h)
# Included by the public headers, installed so that they compile; not API of
# their own (they may change without notice). tests/cli/library_install.sh
# compiles every installed header against the install prefix alone, so a
# missing one fails the suite.
set(DUEL_SUPPORT_HEADERS
    data/text.h io/onnx.h models/interpolation.h nn/ada.h nn/ema.h nn/feature_net.h nn/minibatch.h
    train/distributed.h train/run_logs.h)
foreach(h IN LISTS DUEL_PUBLIC_HEADERS DUEL_SUPPORT_HEADERS)
  get_filename_component(dir ${h} DIRECTORY)
  install(FILES ${CMAKE_SOURCE_DIR}/include/duel/${h} DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/duel/${dir})
endforeach()

install(TARGETS duel RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS duel_lib duel_cli_lib ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
file(GLOB DUEL_FEATURE_FILES ${CMAKE_SOURCE_DIR}/features/*.duelfeat)
install(FILES ${DUEL_FEATURE_FILES} DESTINATION ${CMAKE_INSTALL_DATADIR}/duel/features)

configure_package_config_file(${CMAKE_SOURCE_DIR}/cmake/duelConfig.cmake.in
                              ${CMAKE_BINARY_DIR}/duelConfig.cmake
                              INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/duel
                              PATH_VARS CMAKE_INSTALL_INCLUDEDIR CMAKE_INSTALL_LIBDIR)
write_basic_package_version_file(${CMAKE_BINARY_DIR}/duelConfigVersion.cmake
                                 VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/duelConfig.cmake ${CMAKE_BINARY_DIR}/duelConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/duel)
