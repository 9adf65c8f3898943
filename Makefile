# Two commands set everything up: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	$(BIN)/hotline db upgrade
	$(BIN)/hotline demo seed
	@echo
	@echo "Hotline 1379 is starting on http://$(HOST):$(PORT)/"
	@echo "  Place a test call (another terminal):  $(BIN)/hotline call --url http://$(HOST):$(PORT)"
	@echo "  Or scripted:  $(BIN)/hotline call --url http://$(HOST):$(PORT) --script field=2,support_type=1,callback=1,message=record"
	@echo "  Console: http://$(HOST):$(PORT)/console/ (logins above)   Health: http://$(HOST):$(PORT)/healthz"
	@echo
	$(BIN)/hotline run --host $(HOST) --port $(PORT)

# pytest-xdist workers: each has its own SQLite file, PostgreSQL database, live servers and chromium.
TEST_WORKERS ?= auto

# The fault runs time whole calls under gunicorn through database faults: they run alone, after the rest,
# so that another test's load is not mistaken for the hotline's.
test: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest -n $(TEST_WORKERS) -m "not faults"
	$(BIN)/python -m pytest -m faults

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .mypy_cache
