# podterm: `make run` serves local mode, `make test` runs every suite.
# Everything installs what it needs first (scripts/deps.sh is a no-op when all is there).

BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
LISTEN     ?= 127.0.0.1:8080
JOBS       ?= $(shell nproc)

.PHONY: all deps build run test test-unit test-fuzz test-interop test-e2e coverage fuzz bench format format-check clean

all: build

deps:
	@scripts/deps.sh build

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPODTERM_TESTS=OFF >/dev/null
	@cmake --build $(BUILD) -j $(JOBS) --target podterm

run: build
	./$(BUILD)/podterm --listen $(LISTEN)

# The whole suite, as CI runs it: a warnings-as-errors gcc build, an ASan+UBSan
# clang build that every suite runs against, a short fuzz run, real clients,
# then the coverage of src/ they reached, checked against tests/coverage-floor.txt.
test:
	@scripts/deps.sh test
	@scripts/test.sh

test-unit test-fuzz test-interop test-e2e:
	@scripts/deps.sh test
	@scripts/test.sh $(@:test-%=%)

# Coverage comes with every full run (the ASan build is instrumented, no second
# run of the suites): `make coverage` is `make test`, for its closing table.
# `scripts/test.sh coverage` alone reprints the table of the last run.
coverage: test

# A fuzzing campaign: every libFuzzer target for FUZZ_SECONDS (default 600)
# each, one at a time, continuing from the corpus the last campaign grew
# (tests/out/fuzz-corpus). Prints execs, coverage and crashes per target;
# crashing inputs go to tests/out/fuzz-crashes/<target>/.
FUZZ_SECONDS ?= 600
fuzz:
	@scripts/deps.sh test
	@cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang \
		-DPODTERM_SANITIZE=ON -DPODTERM_FUZZ=ON -DPODTERM_TESTS=OFF >/dev/null
	@cmake --build $(FUZZ_BUILD) -j $(JOBS)
	@FUZZ_BUILD=$(FUZZ_BUILD) FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run.sh

bench:
	@scripts/deps.sh test
	@bench/run.sh

format:
	@clang-format -i $$(git ls-files '*.c' '*.h')

format-check:
	@clang-format --dry-run -Werror $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD) web/dist
