# The user's entry points. `make demo` and `make test` each set everything up first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test test-fast lint lint-sql dev bench clean

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check uv
	$(BIN)/uv pip install -q --python $(BIN)/python -r requirements.lock
	$(BIN)/uv pip install -q --python $(BIN)/python --no-deps -e .
	# Compile once: with PYTHONDONTWRITEBYTECODE set, every process would recompile its imports.
	$(BIN)/python -m compileall -q -j 0 $(VENV)/lib > /dev/null || true
	touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(BIN)/lead-parity demo

test: setup
	$(BIN)/pytest -q -ra

test-fast: setup
	$(BIN)/pytest -q -ra -m "not slow and not browser and not spark"

lint: setup
	$(BIN)/ruff check orchestration expectations tests benchmarks
	$(BIN)/ruff format --check orchestration expectations tests benchmarks

# The dbt templater renders the models; the paths only need to exist as names.
lint-sql: setup
	cd dbt_project && LEAD_PARITY_WAREHOUSE=lint.duckdb LEAD_PARITY_LANDED_DIR=lint \
		../$(BIN)/sqlfluff lint models

dev: setup
	$(BIN)/dagster dev

bench: setup
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) data dbt_project/target
