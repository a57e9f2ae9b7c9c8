# Two commands: `make demo` and `make test`. Everything else is CMake;
# this file only chains the steps. Each target first installs any missing
# Debian packages (packaging/install-deps.sh, a no-op when all are there).

JOBS ?= 2
CTEST_ARGS ?=

.PHONY: all deps demo test test-debug test-asan test-fuzz build release package clean

all: build

deps:
	@packaging/install-deps.sh

build: deps
	cmake --preset debug >/dev/null
	cmake --build --preset debug -j $(JOBS)

release: deps
	cmake --preset release >/dev/null
	cmake --build --preset release -j $(JOBS)

# The demo: a simulated Acumatica instance, the plugin loaded by the
# reference host, and what it does.
demo: release
	@tests/demo/demo.sh build/release

# Every test: the normal build (with valgrind over the ABI tests), the
# sanitizer build, the fuzz targets for a bounded time, and the demo on the
# optimised build (which also proves the release build is warning-free).
test: test-debug test-asan test-fuzz demo
	@echo "make test: all suites passed"

test-debug: build
	ctest --preset debug $(CTEST_ARGS)

test-asan: deps
	cmake --preset asan >/dev/null
	cmake --build --preset asan -j $(JOBS)
	ctest --preset asan $(CTEST_ARGS)

test-fuzz: deps
	cmake --preset fuzz >/dev/null
	cmake --build --preset fuzz -j $(JOBS)
	ctest --preset fuzz $(CTEST_ARGS)

package: release
	cd build/release && cpack

clean:
	rm -rf build

# The benchmarks (tests/bench/run_all.sh): printed figures, not tests.
.PHONY: bench
bench: release
	@tests/bench/run_all.sh build/release
