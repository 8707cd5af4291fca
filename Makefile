# The README's commands. `make run` trains the default DCGAN on Fashion-MNIST;
# `make test` runs the test suite (what CI runs). Both install what is missing
# first (scripts/install-deps.sh) and build in Release with Ninja + ccache.
BUILD   ?= build
THREADS ?= $(shell nproc)
CONFIG  ?= configs/dcgan28.toml
RUN     ?= dcgan28-$(shell date +%Y%m%d-%H%M%S)
JOBS    ?= $(shell nproc)

.PHONY: all deps configure build nets install run test test-slow bench clean fuzz test-asan test-asan-cli asan-configure

all: build

deps:
	./scripts/install-deps.sh

configure: deps
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release

build: configure nets
	cmake --build $(BUILD) -j $(JOBS)

# The tutorials' networks as TorchScript files for the `scripted` presets
# (configs/tutorial-*.toml, configs/scripted-dcgan28.toml; docs/library.md).
nets: deps
	/usr/bin/python3 scripts/tutorial_nets.py nets >/dev/null

# duel as a library (docs/library.md): PREFIX/bin, lib, include, share and lib/cmake/duel.
PREFIX ?= /usr/local
install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

# After training: `duel eval` of the final checkpoint (FID, KID, ... beside the
# real floor, the memorisation check, docs/inspect.md), then the report again
# so that it shows them.
EVAL_N  ?= 10000
run: build
	OPENBLAS_NUM_THREADS=1 $(BUILD)/duel train --config $(CONFIG) --out runs/$(RUN) --threads $(THREADS)
	OPENBLAS_NUM_THREADS=1 $(BUILD)/duel eval --checkpoint runs/$(RUN) --n $(EVAL_N) --threads $(THREADS)
	OPENBLAS_NUM_THREADS=1 $(BUILD)/duel report runs/$(RUN) --threads $(THREADS)

test: build
	cd $(BUILD) && OPENBLAS_NUM_THREADS=1 ctest -LE slow -j $(JOBS) --output-on-failure

test-slow: build
	cd $(BUILD) && OPENBLAS_NUM_THREADS=1 ctest -L slow --output-on-failure

bench: build
	./scripts/bench-compare.sh

clean:
	rm -rf $(BUILD)

# Reliability (docs/reliability.md). `make fuzz`: every parser fuzzed for
# FUZZ_SECONDS seconds (libFuzzer when clang has it, else the built-in driver),
# in its own build folder. `make test-asan`: the unit tests built with
# AddressSanitizer + UBSan in build-asan; LibTorch itself is not instrumented,
# and leaks whose stack passes through it are not reported (cmake/lsan.supp).
FUZZ_SECONDS ?= 60
ASAN_BUILD   ?= build-asan
ASAN_ENV     := ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$(CURDIR)/cmake/lsan.supp:print_suppressions=0 \
                UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 OPENBLAS_NUM_THREADS=1

fuzz: deps
	FUZZ_SECONDS=$(FUZZ_SECONDS) JOBS=$(JOBS) tests/fuzz/run.sh build-fuzz $(BUILD)

test-asan: asan-configure
	$(ASAN_ENV) cmake --build $(ASAN_BUILD) -j $(JOBS) --target duel_tests duel_fixtures
	$(ASAN_ENV) $(ASAN_BUILD)/tests/duel_fixtures $(ASAN_BUILD)/tests/fixtures >/dev/null
	cd $(ASAN_BUILD)/tests && $(ASAN_ENV) DUEL_FIXTURES=$(CURDIR)/$(ASAN_BUILD)/tests/fixtures ./duel_tests

# `make test-asan-cli`: the command line itself under ASan + UBSan: the CLI
# tests of train, resume, sample, eval, translate, export, the scripted model
# and bad input, run by ctest against the sanitized `duel` (docs/reliability.md).
ASAN_CLI_TESTS ?= cli\.(train_outputs|resume_exact|sample_info|eval_checkpoint|translate|i2i_models|export_onnx|scripted|bad_inputs|reliability_checkpoints|recipe_options)$$
test-asan-cli: asan-configure nets
	$(ASAN_ENV) cmake --build $(ASAN_BUILD) -j $(JOBS) --target duel duel_fixtures
	cd $(ASAN_BUILD) && $(ASAN_ENV) ctest -R '$(ASAN_CLI_TESTS)' -j 1 --output-on-failure

asan-configure: deps
	cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug "-DCMAKE_CXX_FLAGS_DEBUG=-g -O1" -DDUEL_SANITIZE=ON \
	  -DDUEL_BUILD_BENCH=OFF -DDUEL_BUILD_FUZZ=OFF
