# Two entry points: `make demo` and `make test`. Each bootstraps .venv itself.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test lint typecheck unit dist bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

demo: install
	$(BIN)/syncd demo

lint: install
	$(BIN)/ruff check syncd connectors tests benchmarks training
	$(BIN)/ruff format --check syncd connectors

typecheck: install
	$(BIN)/mypy syncd connectors

unit: install
	$(BIN)/pytest -q

test: lint typecheck unit

# One pure-Python wheel in dist/.
dist: install
	@echo "building the syncd wheel into dist/"
	rm -rf build dist
	$(BIN)/python -m pip wheel --quiet --no-deps -w dist .
	@ls dist/*.whl

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
