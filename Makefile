# Two entry points: `make demo` and `make test`. Each bootstraps .venv itself.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The compiled build (see setup.py): a wheel in dist/, unpacked into NATIVE for the tests.
# It holds the whole package, so any source file changing rebuilds it.
NATIVE := build/native
# Exits 1 with the reason when this machine can't build C extensions.
CAN_COMPILE := import os, shutil, sys, sysconfig; \
	cc = (os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc").split()[0]; \
	header = os.path.join(sysconfig.get_paths()["include"], "Python.h"); \
	ok = shutil.which(cc) and os.path.exists(header); \
	ok or print(f"compiled-build tests skipped: no C compiler ({cc}) or no {header}"); \
	sys.exit(0 if ok else 1)
SOURCES := setup.py pyproject.toml $(shell find syncd connectors -type f -not -path '*/__pycache__/*')

.PHONY: install demo test lint typecheck unit native native-unit dist bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	SYNCD_COMPILE= $(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

demo: install
	$(BIN)/syncd demo

lint: install
	$(BIN)/ruff check setup.py syncd connectors tests benchmarks training
	$(BIN)/ruff format --check setup.py syncd connectors

typecheck: install
	$(BIN)/mypy syncd connectors

unit: install
	$(BIN)/pytest -q

# The same tests against the compiled build: it is what `make dist` ships. PYTHONPATH puts
# the compiled package ahead of the source tree; the tests check that it did. Without a C
# compiler or the Python headers they are skipped with the reason, unless
# SYNCD_REQUIRE_COMPILED is set (.ci/run sets it).
native-unit: install
	@if $(BIN)/python -c '$(CAN_COMPILE)' || [ -n "$$SYNCD_REQUIRE_COMPILED" ]; then \
		$(MAKE) --no-print-directory native && \
		SYNCD_EXPECT_COMPILED=1 PYTHONPATH=$(CURDIR)/$(NATIVE):$(CURDIR) \
			$(BIN)/pytest -q -p no:cacheprovider -p tests.compiled_build; \
	fi

test: lint typecheck unit native-unit

dist: $(NATIVE)/.built

native: $(NATIVE)/.built

$(NATIVE)/.built: $(STAMP) $(SOURCES)
	rm -rf build dist
	SYNCD_COMPILE=1 $(BIN)/python -m pip wheel --quiet --no-build-isolation --no-deps -w dist .
	$(BIN)/python -m pip install --quiet --no-deps --target $(NATIVE) dist/syncd-*.whl
	touch $@

bench: install native
	$(BIN)/python -m benchmarks.policy
	PYTHONPATH=$(CURDIR)/$(NATIVE):$(CURDIR) $(BIN)/python -P -m benchmarks.policy
	$(BIN)/python -m benchmarks.salesforce --records 20000 --latency-ms 25
	$(BIN)/python -m benchmarks.hubspot --records 5000 --latency-ms 25
	$(BIN)/python -m benchmarks.gmail --records 2000 --latency-ms 25
	$(BIN)/python -m benchmarks.replies

clean:
	rm -rf $(VENV) build dist .mypy_cache .ruff_cache .pytest_cache
