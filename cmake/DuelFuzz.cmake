# duel_fuzz: the parser fuzz harness (tests/fuzz/, docs/reliability.md).
#
# The parsers of hostile input (src/data/dataset.cpp, src/data/pairs.cpp,
# src/checkpoint/checkpoint.cpp, src/core/config.cpp, src/io/image.cpp,
# src/io/pickle.cpp, src/io/tar.cpp, src/data/cifar.cpp, src/data/packed.cpp) are
# compiled a second time, with AddressSanitizer and UBSan, into the harness;
# whatever else they call comes unsanitized from an archive of duel_core's
# objects (nothing is compiled twice but the parsers). LibTorch itself is
# not instrumented.
#
# DUEL_FUZZ_ENGINE=mutate (default): tests/fuzz/mutate_main.cpp, a random-
#   mutation driver any compiler builds; ctest runs it briefly (fuzz.parsers,
#   1.5 s per target) and for a minute per target under the `slow` label.
# DUEL_FUZZ_ENGINE=libfuzzer: clang's coverage-guided libFuzzer; `make fuzz`
#   configures a clang build folder with it (tests/fuzz/run.sh).
option(DUEL_BUILD_FUZZ "Build duel_fuzz, the sanitized parser fuzz harness" ON)
set(DUEL_FUZZ_ENGINE "mutate" CACHE STRING "fuzz driver: mutate (built-in) or libfuzzer (clang)")
set_property(CACHE DUEL_FUZZ_ENGINE PROPERTY STRINGS mutate libfuzzer)
if(NOT DUEL_BUILD_FUZZ)
  return()
endif()

# The rest of the library comes from an archive of duel_core's objects, or
# from DUEL_FUZZ_CORE_ARCHIVE, an archive another build folder made (the clang
# build of `make fuzz` links the gcc-built one instead of compiling it all again).
set(DUEL_FUZZ_CORE_ARCHIVE "" CACHE FILEPATH "prebuilt libduel.a to link duel_fuzz against")
if(DUEL_FUZZ_CORE_ARCHIVE)
  set(DUEL_FUZZ_CORE ${DUEL_FUZZ_CORE_ARCHIVE})
else()
  set(DUEL_FUZZ_CORE duel_lib)  # libduel.a (cmake/DuelInstall.cmake)
endif()

set(DUEL_FUZZ_SOURCES
    ${CMAKE_SOURCE_DIR}/src/data/dataset.cpp
    ${CMAKE_SOURCE_DIR}/src/data/pairs.cpp
    ${CMAKE_SOURCE_DIR}/src/checkpoint/checkpoint.cpp
    ${CMAKE_SOURCE_DIR}/src/core/config.cpp
    ${CMAKE_SOURCE_DIR}/src/io/image.cpp
    ${CMAKE_SOURCE_DIR}/src/io/pickle.cpp
    ${CMAKE_SOURCE_DIR}/src/io/tar.cpp
    ${CMAKE_SOURCE_DIR}/src/data/cifar.cpp
    ${CMAKE_SOURCE_DIR}/src/data/packed.cpp
    ${CMAKE_SOURCE_DIR}/tests/fuzz/targets.cpp)
set(DUEL_FUZZ_FLAGS -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g -O1)
if(DUEL_FUZZ_ENGINE STREQUAL "libfuzzer")
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "DUEL_FUZZ_ENGINE=libfuzzer needs clang (configure with -DCMAKE_CXX_COMPILER=clang++)")
  endif()
  list(APPEND DUEL_FUZZ_SOURCES ${CMAKE_SOURCE_DIR}/tests/fuzz/libfuzzer_main.cpp)
  list(APPEND DUEL_FUZZ_FLAGS -fsanitize=fuzzer)
else()
  list(APPEND DUEL_FUZZ_SOURCES ${CMAKE_SOURCE_DIR}/tests/fuzz/mutate_main.cpp)
endif()

add_executable(duel_fuzz ${DUEL_FUZZ_SOURCES})
target_include_directories(duel_fuzz PRIVATE ${CMAKE_SOURCE_DIR}/include ${CMAKE_SOURCE_DIR}/tests/fuzz)
target_include_directories(duel_fuzz SYSTEM PRIVATE /usr/include/stb)
if(DUEL_THIRD_PARTY_INCLUDE)
  target_include_directories(duel_fuzz SYSTEM PRIVATE ${DUEL_THIRD_PARTY_INCLUDE})
endif()
target_compile_options(duel_fuzz PRIVATE ${DUEL_FUZZ_FLAGS} -Wall -Wextra -Wno-unused-parameter)
target_link_options(duel_fuzz PRIVATE ${DUEL_FUZZ_FLAGS})
target_link_libraries(duel_fuzz PRIVATE ${DUEL_FUZZ_CORE} ${TORCH_LIBRARIES} ZLIB::ZLIB CURL::libcurl OpenSSL::Crypto
                      Threads::Threads ${CMAKE_DL_LIBS})
# The library's sources expect LibTorch's umbrella header to be precompiled.
if(DUEL_USE_PCH)
  target_precompile_headers(duel_fuzz PRIVATE ${CMAKE_SOURCE_DIR}/include/duel/core/pch.h)
else()
  target_compile_options(duel_fuzz PRIVATE -include ${CMAKE_SOURCE_DIR}/include/duel/core/pch.h)
endif()

if(DUEL_BUILD_TESTS AND DUEL_FUZZ_ENGINE STREQUAL "mutate")
  set(DUEL_FUZZ_ENV "OPENBLAS_NUM_THREADS=1;OMP_NUM_THREADS=1")
  add_test(NAME fuzz.parsers COMMAND duel_fuzz all --seconds 1.5 --artifacts ${CMAKE_BINARY_DIR}/fuzz-artifacts)
  set_tests_properties(fuzz.parsers PROPERTIES LABELS fuzz TIMEOUT 300 ENVIRONMENT "${DUEL_FUZZ_ENV}")
  add_test(NAME fuzz.parsers_long COMMAND duel_fuzz all --seconds 60 --seed 7 --artifacts ${CMAKE_BINARY_DIR}/fuzz-artifacts)
  set_tests_properties(fuzz.parsers_long PROPERTIES LABELS slow TIMEOUT 1200 ENVIRONMENT "${DUEL_FUZZ_ENV}")
  # Every input a finding was made with stays a test: each must now be refused cleanly.
  file(GLOB DUEL_FUZZ_REGRESSIONS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/fuzz/regressions/*-*)
  add_test(NAME fuzz.regressions COMMAND duel_fuzz --replay ${DUEL_FUZZ_REGRESSIONS})
  set_tests_properties(fuzz.regressions PROPERTIES LABELS fuzz TIMEOUT 120 ENVIRONMENT "${DUEL_FUZZ_ENV}"
                       FAIL_REGULAR_EXPRESSION "FINDING|: parsed")
endif()
