# The two commands:  `make run`  (app with demo data on SQLite)  and  `make test`  (whole suite).
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
FLASK   = $(BIN)/flask --app wsgi
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: run test install install-dev lint format serve clean

run: install
	$(FLASK) db upgrade
	$(FLASK) lms seed-demo
	$(FLASK) run --host $(HOST) --port $(PORT)

test: install-dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Production-style serving (see README: set LMS_ENV=production and the required variables).
serve: install
	$(BIN)/pip install -q -e '.[serve,postgres]'
	$(FLASK) db upgrade
	$(BIN)/gunicorn --workers 5 --bind $(HOST):$(PORT) 'wsgi:app'

install: $(VENV)/.installed-run
install-dev: $(VENV)/.installed-dev

$(VENV)/bin/python:
	./scripts/install-system-deps.sh run
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed-run: $(VENV)/bin/python pyproject.toml
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/bin/python pyproject.toml
	./scripts/install-system-deps.sh test
	$(BIN)/pip install -q -e '.[dev]'
	touch $@ $(VENV)/.installed-run

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
