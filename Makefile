# Career Services Portal. `make run` serves a demo; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
PYTEST_ARGS ?= -n auto
# Where `make run` serves; outside production the links in emails and calendar files follow it (PUBLIC_URL's default).
SERVE := HOST=$(HOST) PORT=$(PORT)
export FLASK_APP := wsgi.py

.PHONY: run test lint worker bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[test]"
	touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	$(BIN)/flask db upgrade
	$(SERVE) $(BIN)/flask seed-demo --if-empty
	@echo "Serving on http://$(HOST):$(PORT) (Ctrl+C to stop)"
	$(SERVE) $(BIN)/flask run --host $(HOST) --port $(PORT)

worker: $(VENV)/.installed
	$(SERVE) $(BIN)/flask worker

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Speed of every main page as a ratio to a hello route, on three data sets (a benchmark: CI does not run it).
# BENCH_ARGS passes options, e.g. BENCH_ARGS="--datasets sqlite-large --duration 3"; see benchmarks/run.py.
bench: $(VENV)/.installed
	$(BIN)/python -m benchmarks.run $(BENCH_ARGS)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check portal tests benchmarks migrations/env.py
	$(BIN)/ruff format --check portal tests benchmarks

clean:
	rm -rf $(VENV) .pytest_cache
