# Career Services Portal. `make run` serves a demo; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
PYTEST_ARGS ?= -n auto
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
	$(BIN)/flask seed-demo --if-empty
	@echo "Serving on http://$(HOST):$(PORT) (Ctrl+C to stop)"
	$(BIN)/flask run --host $(HOST) --port $(PORT)

worker: $(VENV)/.installed
	$(BIN)/flask worker

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(VENV)/.installed-test
	$(BIN)/python benchmarks/users_list.py

lint: $(VENV)/.installed-test
	$(BIN)/ruff check portal tests benchmarks migrations/env.py
	$(BIN)/ruff format --check portal tests benchmarks

clean:
	rm -rf $(VENV) .pytest_cache
