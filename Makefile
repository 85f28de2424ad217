# Thin wrapper over CMake: the two commands a newcomer needs are `make demo` and `make test`.
BUILD      ?= build
BUILD_SAN  ?= build-asan
BUILD_FUZZ ?= build-fuzz
FUZZ_BUDGET ?= 150
JOBS       ?= $(shell nproc)
CMAKE_ARGS ?=

.PHONY: all deps build build-asan test test-fast test-asan demo bench clean fuzz-ci

all: build

deps:
	@bash scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_ARGS) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

# The sanitizer build uses clang: its UBSan catches more than gcc's, and CI gets a second compiler.
build-asan: deps
	@cmake -S . -B $(BUILD_SAN) -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug -DMG_SANITIZE=ON $(CMAKE_ARGS) >/dev/null
	@cmake --build $(BUILD_SAN) -j $(JOBS)

# Every test in the optimised build, then every test again under ASan + UBSan.
test: build build-asan
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	@cd $(BUILD_SAN) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		ctest --output-on-failure -j $(JOBS)
	@$(MAKE) --no-print-directory fuzz-ci

# Bounded fuzzing: every libFuzzer harness replays its seeds (including regress-* reproducers)
# and then mutates, sharing FUZZ_BUDGET seconds (about 20 s each); any crash fails the target.
fuzz-ci: deps
	@cmake -S . -B $(BUILD_FUZZ) -DMG_FUZZ=ON -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug $(CMAKE_ARGS) >/dev/null
	@cmake --build $(BUILD_FUZZ) --target fuzz_all -j $(JOBS)
	@fuzz/run.sh -B $(BUILD_FUZZ)/fuzz -w $(BUILD_FUZZ)/fuzz-work -T $(FUZZ_BUDGET)

test-fast: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

demo: build
	@$(BUILD)/moocguard demo

bench: build
	@echo "see bench/README.md"

clean:
	rm -rf $(BUILD) $(BUILD_SAN) $(BUILD_FUZZ)
