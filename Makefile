# podterm: `make run` serves local mode, `make test` runs every suite.
# Everything installs what it needs first (scripts/deps.sh is a no-op when all is there).

BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
LISTEN     ?= 127.0.0.1:8080
JOBS       ?= $(shell nproc)

.PHONY: all deps build run test test-unit test-fuzz test-interop test-e2e coverage bench format format-check clean

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

bench:
	@scripts/deps.sh test
	@bench/run.sh

format:
	@clang-format -i $$(git ls-files '*.c' '*.h')

format-check:
	@clang-format --dry-run -Werror $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD) web/dist
