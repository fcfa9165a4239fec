# Two commands on a fresh machine: `make demo` and `make test`. Every target bootstraps .venv
# from the pinned lock first; the bootstrap is skipped while the lock and pyproject are unchanged.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export SHELFOPS_HOME ?= $(CURDIR)/data
export DAGSTER_HOME ?= $(SHELFOPS_HOME)/dagster
export DAGSTER_DISABLE_TELEMETRY := 1
export UV_COMPILE_BYTECODE := 1
SANDBOX_PORT ?= 8750
UI_PORT ?= 3070

.PHONY: venv demo test chaos lint format bench sandbox ui clean

venv: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@test -x $(BIN)/uv || $(BIN)/pip install --quiet "$$(grep '^uv==' requirements.lock)"
	$(BIN)/uv pip sync --quiet --python $(BIN)/python requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	@touch $@

$(DAGSTER_HOME)/dagster.yaml: dagster.yaml
	@mkdir -p $(DAGSTER_HOME)/.nux
	@cp dagster.yaml $@
	@echo 'seen: 1' > $(DAGSTER_HOME)/.nux/nux.yaml

demo: venv $(DAGSTER_HOME)/dagster.yaml
	@$(BIN)/shelfops keys init
	$(BIN)/shelfops demo

test: venv
	$(BIN)/pytest

# The reliability suites in full (faults, crashes, bad input, load); `make test` runs them short.
chaos: venv
	SHELFOPS_CHAOS=full $(BIN)/pytest tests/chaos --timeout 1800

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: venv
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: venv
	$(BIN)/python -m benchmarks

sandbox: venv
	$(BIN)/shelfops sandbox serve --port $(SANDBOX_PORT)

ui: venv $(DAGSTER_HOME)/dagster.yaml
	@$(BIN)/shelfops keys init
	$(BIN)/shelfops ui --port $(UI_PORT) --sandbox-port $(SANDBOX_PORT)

# `make ui` on the production profile (deploy/dagster.postgres.yaml) in its own DAGSTER_HOME:
# the PostgreSQL server named by DAGSTER_PG_*, or else a local one in .postgres/cluster
# (scripts/postgres.sh; it keeps running: `scripts/postgres.sh stop` stops it).
PG_DAGSTER_HOME ?= $(SHELFOPS_HOME)/dagster-postgres
.PHONY: ui-postgres
ui-postgres: venv
	@mkdir -p $(PG_DAGSTER_HOME)/.nux
	@cp deploy/dagster.postgres.yaml $(PG_DAGSTER_HOME)/dagster.yaml
	@echo 'seen: 1' > $(PG_DAGSTER_HOME)/.nux/nux.yaml
	@$(BIN)/shelfops keys init
	@if [ -z "$${DAGSTER_PG_HOST:-}" ]; then eval "$$(scripts/postgres.sh start)"; fi; \
	  DAGSTER_HOME=$(PG_DAGSTER_HOME) $(BIN)/shelfops ui --port $(UI_PORT) --sandbox-port $(SANDBOX_PORT)

clean:
	rm -rf $(VENV) data .pytest_cache .ruff_cache
