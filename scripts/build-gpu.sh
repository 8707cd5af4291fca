#!/usr/bin/env bash
# Builds duel against a CUDA LibTorch (for example the one inside a
# pip-installed torch) on a machine with nvcc and a GPU.
#
#   scripts/build-gpu.sh stage     # on the Debian machine: copy the header-only
#                                  # dependencies into .gpu-deps/include
#   scripts/build-gpu.sh build     # on the GPU machine: configure + build into build-gpu/
#
# TORCH_PREFIX overrides where LibTorch's CMake config is looked up; by default
# it comes from `python3 -c 'import torch; print(torch.utils.cmake_prefix_path)'`.
# The header-only dependencies (CLI11, toml++, nlohmann-json, stb) are taken
# from .gpu-deps/include when the system has none; uPlot (for run reports)
# always is.
set -euo pipefail
cd "$(dirname "$0")/.."
DEPS=.gpu-deps/include
case "${1:-build}" in
  stage)
    mkdir -p "$DEPS"
    for d in /usr/include/CLI /usr/include/toml++ /usr/include/nlohmann /usr/include/stb; do
      [ -d "$d" ] || { echo "error: $d missing; run scripts/install-deps.sh first" >&2; exit 2; }
      cp -r "$d" "$DEPS/"
    done
    mkdir -p "$DEPS/zlib" && cp /usr/include/zlib.h /usr/include/zconf.h "$DEPS/zlib/"
    # uPlot, inlined into run reports (web/package-lock.json; npm ci by install-deps.sh).
    [ -f web/node_modules/uplot/dist/uPlot.iife.min.js ] || { echo "error: uPlot missing; run scripts/install-deps.sh first" >&2; exit 2; }
    mkdir -p "$DEPS/uplot" && cp web/node_modules/uplot/dist/uPlot.iife.min.js web/node_modules/uplot/dist/uPlot.min.css "$DEPS/uplot/"
    echo "staged header-only dependencies in $DEPS ($(du -sh .gpu-deps | cut -f1)); carry .gpu-deps to the GPU machine"
    ;;
  build)
    PREFIX=${TORCH_PREFIX:-$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')}
    [ -d "$DEPS" ] || { echo "error: $DEPS missing; run '$0 stage' on a machine with the Debian packages" >&2; exit 2; }
    # zlib: the machine has the library but maybe not its headers.
    ZLIB_ARGS=()
    if [ ! -f /usr/include/zlib.h ]; then
      lib=$(ldconfig -p | awk '/libz\.so\.1 .*x86-64/ {print $NF; exit}')
      ZLIB_ARGS=(-DZLIB_INCLUDE_DIR="$PWD/$DEPS/zlib" -DZLIB_LIBRARY="$lib")
    fi
    # stb lives in its own folder on Debian (<stb_image.h>); give it to the compiler both ways.
    cmake -S . -B build-gpu "${ZLIB_ARGS[@]}" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$PREFIX" \
      -DDUEL_THIRD_PARTY_INCLUDE="$PWD/$DEPS;$PWD/$DEPS/stb" -DDUEL_BUILD_TESTS=OFF -DDUEL_USE_PCH=ON \
      -DDUEL_UPLOT_DIR="$PWD/$DEPS/uplot" \
      ${CUDA_ARCH:+-DTORCH_CUDA_ARCH_LIST=$CUDA_ARCH}
    cmake --build build-gpu -j "$(nproc)"
    ;;
  *) echo "usage: $0 stage|build" >&2; exit 2 ;;
esac
