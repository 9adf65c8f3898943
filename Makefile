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

# pytest-xdist workers: each has its own SQLite file, PostgreSQL database, live servers and chromium. One more
# than the cores: many tests wait on a browser, a subprocess or a database, and a third worker runs meanwhile.
TEST_WORKERS ?= $(shell expr $$(nproc) + 1)
# The five fault scenarios (tests/faults) mostly wait, on the callers' thinking and on 20 s faults, each on
# a throwaway PostgreSQL cluster of its own: they run all at once, beside the rest of the suite, and their
# report follows it. Run alone they take as long as the longest scenario, but the CPU they leave idle is
# where the rest of the suite runs. `-n 5` below is one worker a scenario (the parametrize list of
# tests/faults/test_faults.py): a sixth scenario needs a sixth worker, or it waits for another's turn.
FAULTS_LOG := var/test-faults.log

test: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/mypy
	@mkdir -p var
	$(BIN)/python -m pytest -n 5 -m faults tests/faults > $(FAULTS_LOG) 2>&1 & faults=$$!; \
	$(BIN)/python -m pytest -n $(TEST_WORKERS) -m "not faults"; rest=$$?; \
	wait $$faults; faulted=$$?; \
	echo "--- the fault scenarios, run meanwhile ($(FAULTS_LOG)):"; cat $(FAULTS_LOG); \
	exit $$(( rest || faulted ))

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .mypy_cache
