# Thin wrapper over CMake for the README's commands.
#   make demo   install dependencies, build, run the main job on a bundled sample
#   make check  install dependencies, build, run the tests
#   make asan   the tests again under AddressSanitizer + UndefinedBehaviorSanitizer
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all deps configure build demo check asan install clean

all: build

deps:
	scripts/install-deps.sh

configure:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS)

build: configure
	cmake --build $(BUILD) -j $(JOBS)

demo: deps build
	scripts/demo.sh $(BUILD)

check: deps build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

asan: deps
	$(MAKE) BUILD=build-asan CMAKE_FLAGS="-DPV_SANITIZE=ON" build
	cd build-asan && LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 \
		UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j $(JOBS)

install: build
	cmake --install $(BUILD)

clean:
	rm -rf $(BUILD) build-asan
