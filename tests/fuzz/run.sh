#!/usr/bin/env bash
# `make fuzz`: builds duel_fuzz in its own folder and fuzzes every parser for
# FUZZ_SECONDS seconds each (default 60). With clang and its libFuzzer the
# harness is coverage-guided (DUEL_FUZZ_ENGINE=libfuzzer); otherwise it is the
# built-in random-mutation driver. Findings are saved under BUILD/fuzz-artifacts.
#   tests/fuzz/run.sh [BUILD [CORE_BUILD]]   (defaults: build-fuzz, build)
# With libFuzzer, the parsers are compiled by clang and the rest of the
# library is linked from CORE_BUILD's gcc-built libduel.a.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${1:-build-fuzz}
CORE_BUILD=${2:-build}
SECONDS_PER_TARGET=${FUZZ_SECONDS:-60}
JOBS=${JOBS:-$(nproc)}
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
targets=(idx cifar image toml checkpoint folder pairs pickle tar packed labels_csv)

engine=mutate
probe='extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }'
if command -v clang++ >/dev/null && echo "$probe" | clang++ -x c++ -fsanitize=fuzzer - -o /dev/null 2>/dev/null; then
  engine=libfuzzer
fi
if [ "$engine" = libfuzzer ]; then
  [ -f "$CORE_BUILD/build.ninja" ] || cmake -S . -B "$CORE_BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$CORE_BUILD" -j "$JOBS" --target duel_lib
  cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=clang++ -DDUEL_FUZZ_ENGINE=libfuzzer \
    -DDUEL_BUILD_TESTS=OFF -DDUEL_BUILD_BENCH=OFF "-DDUEL_FUZZ_CORE_ARCHIVE=$(cd "$CORE_BUILD" && pwd)/libduel.a" >/dev/null
else
  cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DDUEL_FUZZ_ENGINE=mutate -DDUEL_BUILD_BENCH=OFF >/dev/null
fi
cmake --build "$BUILD" -j "$JOBS" --target duel_fuzz
mkdir -p "$BUILD/fuzz-artifacts"
echo "fuzzing with $engine, $SECONDS_PER_TARGET s per target"
status=0
if [ "$engine" = libfuzzer ]; then
  for t in "${targets[@]}"; do
    corpus="$BUILD/fuzz-corpus/$t"
    mkdir -p "$corpus"
    log="$BUILD/fuzz-artifacts/$t.log"
    # -malloc_limit_mb: one allocation above 1 GiB is a finding (no parser may trust a size field).
    if DUEL_FUZZ_TARGET=$t DUEL_FUZZ_SEEDS="$corpus" "$BUILD/duel_fuzz" "$corpus" -max_total_time="$SECONDS_PER_TARGET" \
         -timeout=20 -rss_limit_mb=4096 -malloc_limit_mb=1024 -max_len=65536 -print_final_stats=1 \
         -artifact_prefix="$BUILD/fuzz-artifacts/$t-" >"$log" 2>&1; then
      runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
      cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo "?")
      printf 'fuzz %-10s %8s inputs in %s s (libFuzzer), coverage %s edges, corpus %s inputs, no findings\n' \
        "$t" "$runs" "$SECONDS_PER_TARGET" "$cov" "$(ls "$corpus" | wc -l)"
    else
      echo "fuzz $t: FINDING, see $log and $BUILD/fuzz-artifacts/$t-*"
      tail -30 "$log"
      status=1
    fi
  done
else
  "$BUILD/duel_fuzz" "${targets[@]}" --seconds "$SECONDS_PER_TARGET" --artifacts "$BUILD/fuzz-artifacts" || status=1
fi
exit $status
