# The README's commands. `make run` trains the default DCGAN on Fashion-MNIST;
# `make test` runs the test suite (what CI runs). Both install what is missing
# first (scripts/install-deps.sh) and build in Release with Ninja + ccache.
BUILD   ?= build
THREADS ?= $(shell nproc)
CONFIG  ?= configs/dcgan28.toml
RUN     ?= dcgan28-$(shell date +%Y%m%d-%H%M%S)
JOBS    ?= $(shell nproc)

.PHONY: all deps configure build run test test-slow bench clean

all: build

deps:
	./scripts/install-deps.sh

configure: deps
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release

build: configure
	cmake --build $(BUILD) -j $(JOBS)

run: build
	OPENBLAS_NUM_THREADS=1 $(BUILD)/duel train --config $(CONFIG) --out runs/$(RUN) --threads $(THREADS)

test: build
	cd $(BUILD) && OPENBLAS_NUM_THREADS=1 ctest -LE slow -j $(JOBS) --output-on-failure

test-slow: build
	cd $(BUILD) && OPENBLAS_NUM_THREADS=1 ctest -L slow --output-on-failure

bench: build
	./scripts/bench-compare.sh

clean:
	rm -rf $(BUILD)
