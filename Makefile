# The user's entry points. `make demo` and `make test` each set everything up first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup setup-spark lock demo test test-fast lint lint-sql dev bench clean
# The Spark engine lives in its own venv: pyspark (with its Spark Connect extras) is 491 MB the
# default install does not use, and in a process it does not expect it can end the process
# (docs/running-at-scale.md). Tests reach it through LEAD_PARITY_SPARK_PYTHON.
SPARK_VENV := .venv-spark
SPARK_STAMP := $(SPARK_VENV)/.installed

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check uv
	$(BIN)/uv pip install -q --python $(BIN)/python -r requirements.lock
	$(BIN)/uv pip install -q --python $(BIN)/python --no-deps -e .
	# Compile once: with PYTHONDONTWRITEBYTECODE set, every process would recompile its imports.
	$(BIN)/python -m compileall -q -j 0 $(VENV)/lib > /dev/null || true
	touch $(STAMP)

setup: $(STAMP)

$(SPARK_STAMP): requirements-spark.lock pyproject.toml
	$(PYTHON) -m venv $(SPARK_VENV)
	$(SPARK_VENV)/bin/python -m pip install -q --disable-pip-version-check uv
	$(SPARK_VENV)/bin/uv pip install -q --python $(SPARK_VENV)/bin/python -r requirements-spark.lock
	$(SPARK_VENV)/bin/uv pip install -q --python $(SPARK_VENV)/bin/python --no-deps -e .
	touch $(SPARK_STAMP)

setup-spark: $(SPARK_STAMP)

# Re-pin after editing pyproject.toml: the default lock first, the Spark lock constrained by it.
lock: setup
	$(BIN)/uv pip compile -q pyproject.toml --extra dev --python-version 3.11 \
		-c requirements.lock -o requirements.lock
	$(BIN)/uv pip compile -q pyproject.toml --extra dev --extra spark --python-version 3.11 \
		-c requirements.lock -o requirements-spark.lock

demo: setup
	$(BIN)/lead-parity demo

test: setup setup-spark
	LEAD_PARITY_SPARK_PYTHON=$(CURDIR)/$(SPARK_VENV)/bin/python $(BIN)/pytest -q -ra --durations=30

test-fast: setup
	$(BIN)/pytest -q -ra -m "not slow and not browser and not spark"

lint: setup
	$(BIN)/ruff check lead_parity orchestration expectations tests benchmarks
	$(BIN)/ruff format --check lead_parity orchestration expectations tests benchmarks

# The dbt templater renders the models; the paths only need to exist as names.
lint-sql: setup
	cd dbt_project && LEAD_PARITY_WAREHOUSE=lint.duckdb LEAD_PARITY_LANDED_DIR=lint \
		../$(BIN)/sqlfluff lint models

dev: setup
	$(BIN)/dagster dev

bench: setup
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) $(SPARK_VENV) data dbt_project/target
