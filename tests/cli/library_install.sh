# duel as an installed library: `cmake --install` into a temporary prefix, every installed
# header compiles against that prefix alone, examples/custom-gan (an outside project with a
# model of its own) builds with find_package(duel), trains 20 steps into a normal run folder
# that its CLI samples, evaluates and reports, and that the plain `duel report` reads.
source "$(dirname "$0")/lib.sh"
BUILD=$(cd "$(dirname "$DUEL")" && pwd)
PREFIX="$WORK/prefix"
command -v cmake >/dev/null || skip "cmake is not installed"
[ -f "$BUILD/libduel.a" ] && [ -f "$BUILD/libduel_cli.a" ] || fail "the build has no libduel.a / libduel_cli.a (cmake --build first)"
cmake --install "$BUILD" --prefix "$PREFIX" >"$WORK/install.log" 2>&1 || fail "cmake --install: $(tail -3 "$WORK/install.log")"
for f in bin/duel lib/libduel.a lib/libduel_cli.a lib/cmake/duel/duelConfig.cmake include/duel/models/model.h \
         include/duel/cli/cli.h share/duel/features/fashion-mnist.duelfeat; do
  [ -f "$PREFIX/$f" ] || fail "not installed: $f"
done
# Private headers stay out (the trainer's internals, file formats, the CLI's own).
for f in include/duel/train/run_folder.h include/duel/io/image.h include/duel/apps/report.h; do
  [ -e "$PREFIX/$f" ] && fail "a private header was installed: $f"
done
launcher=(); command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
configure() { cmake -S "$1" -B "$2" -G Ninja -DCMAKE_BUILD_TYPE=Release "-DCMAKE_PREFIX_PATH=$PREFIX" "${launcher[@]}"; }

# Every installed header compiles with only the prefix's include folder (none is missing).
mkdir -p "$WORK/headers"
(cd "$PREFIX/include" && find duel -name '*.h' | sort | sed 's/.*/#include <&>/') >"$WORK/headers/all.cpp"
cat >"$WORK/headers/CMakeLists.txt" <<'EOF'
cmake_minimum_required(VERSION 3.24)
project(headers LANGUAGES CXX)
set(CMAKE_CXX_STANDARD 17)
find_package(duel REQUIRED)
add_library(all_headers OBJECT all.cpp)
target_link_libraries(all_headers PRIVATE duel::cli)
EOF
[ "$(wc -l <"$WORK/headers/all.cpp")" -ge 25 ] || fail "only $(wc -l <"$WORK/headers/all.cpp") headers installed"
{ configure "$WORK/headers" "$WORK/headers/build" && cmake --build "$WORK/headers/build"; } >"$WORK/headers.log" 2>&1 ||
  fail "the installed headers do not compile alone: $(grep -m3 -E 'error|fatal' "$WORK/headers.log")"

# The outside project.
EX="$SOURCE_DIR/examples/custom-gan"
{ configure "$EX" "$WORK/ex" && cmake --build "$WORK/ex"; } >"$WORK/ex.log" 2>&1 ||
  fail "examples/custom-gan does not build: $(grep -m3 -E 'error|Error' "$WORK/ex.log")"
CG="$WORK/ex/custom-gan"
[ -x "$CG" ] || { echo "no custom-gan binary" >&2; finish; }
cd "$WORK" || exit 1
"$CG" train --list-models 2>&1 | grep -q "^ *my-gan " || fail "custom-gan does not list my-gan"
"$CG" train --list-models 2>&1 | grep -q "^ *dcgan " || fail "custom-gan lost duel's own models"
"$CG" train -c "$EX/my-gan.toml" --out r --set train.steps=20 --set train.log_every=5 --set data.limit=640 \
  --set train.sample_every=10 --threads 1 >train.log 2>&1 || fail "custom-gan train: $(tail -3 train.log)"
[ "$(tail -1 r/metrics.csv | cut -d, -f1)" = 20 ] || fail "the run did not reach step 20: $(tail -2 r/metrics.csv)"
grep -q 'name = "my-gan"' r/config.toml || fail "config.toml does not name my-gan"
"$CG" sample -k r --n 16 --out s.png --threads 1 >sample.log 2>&1 || fail "custom-gan sample: $(tail -3 sample.log)"
[ -s s.png ] || fail "no sample grid"
"$CG" eval -k r --n 256 --features "$PREFIX/share/duel/features/fashion-mnist.duelfeat" --threads 1 >eval.log 2>&1 ||
  fail "custom-gan eval: $(tail -3 eval.log)"
grep -qi "fid" eval.log || fail "eval printed no FID"
DUEL_FEATURES_DIR="$PREFIX/share/duel/features" "$CG" eval -k r --n 256 --no-floor --threads 1 >eval2.log 2>&1 ||
  fail "eval with DUEL_FEATURES_DIR: $(tail -3 eval2.log)"
"$CG" report r >report.log 2>&1 || fail "custom-gan report: $(tail -3 report.log)"
grep -q "no interpolation" report.log && fail "custom-gan's report lacks the interpolation: $(cat report.log)"
"$PREFIX/bin/duel" report r >report2.log 2>&1 || fail "the installed duel cannot report the run: $(tail -3 report2.log)"
# The installed duel knows duel's models only, and says where my-gan lives.
expect_exit 2 "unknown model 'my-gan'" -- "$PREFIX/bin/duel" sample -k r --n 4 --out x.png
grep -q "known only to that program" <("$PREFIX/bin/duel" sample -k r --n 4 --out x.png 2>&1) || fail "no hint about the program"
# The model's own checks reach the user as duel errors.
expect_exit 2 "my-gan makes 28 px images, not 32 px" -- "$CG" train --out r32 --set model.name=my-gan \
  --set data.image_size=32 --set train.steps=2 --threads 1
# duel's trainer from C++, without the CLI: a normal run folder again.
"$WORK/ex/train-my-gan" r2 20 >t2.log 2>&1 || fail "train-my-gan: $(tail -3 t2.log)"
grep -q "trained 20 steps" t2.log || fail "train-my-gan: $(tail -2 t2.log)"
"$CG" sample -k r2 --n 4 --out s2.png --threads 1 >/dev/null 2>&1 || fail "sample of the C++-trained run"
finish
