# Two entry points: `make demo` and `make test`. Each bootstraps .venv itself.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test lint typecheck unit dist bench clean

install: $(STAMP)

$(STAMP): pyproject.toml docker/requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c docker/requirements.lock -e ".[dev]"
	touch $(STAMP)

DEMO_STAMP := $(VENV)/.demo-installed

# the demo runs the sandbox's local fakes, which need the [sandbox] extra
demo: install $(DEMO_STAMP)
	$(BIN)/syncd demo

$(DEMO_STAMP): pyproject.toml
	$(BIN)/python -m pip install --quiet -c docker/requirements.lock -e ".[sandbox]"
	touch $(DEMO_STAMP)

lint: install
	$(BIN)/ruff check syncd connectors tests benchmarks training
	$(BIN)/ruff format --check syncd connectors

typecheck: install
	$(BIN)/mypy syncd connectors

unit: install
	$(BIN)/pytest -q

test: lint typecheck unit

# One pure-Python wheel (py3-none-any) in dist/: the package and its connectors, no
# dependencies bundled. The container image builds the same wheel in its first stage.
dist: install
	@echo "dist: removing old build/ and dist/"
	rm -rf build dist
	@echo "dist: building the pure-Python syncd wheel (no dependencies bundled) into dist/"
	$(BIN)/python -m pip wheel --quiet --no-deps -w dist .
	@echo "dist: built"; ls -l dist/*.whl

bench: install
	$(BIN)/python -m benchmarks.policy
	$(BIN)/python -m benchmarks.salesforce --records 20000 --latency-ms 25
	$(BIN)/python -m benchmarks.hubspot --records 5000 --latency-ms 25
	$(BIN)/python -m benchmarks.gmail --records 2000 --latency-ms 25
	$(BIN)/python -m benchmarks.m365 --records 500 --latency-ms 25
	$(BIN)/python -m benchmarks.replies
	$(BIN)/python -m benchmarks.engine --records 20000 --latency-ms 25

clean:
	rm -rf $(VENV) build dist .mypy_cache .ruff_cache .pytest_cache
