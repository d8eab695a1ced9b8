# The two commands:  `make run`  (app with demo data on SQLite)  and  `make test`  (whole suite).
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
FLASK   = $(BIN)/flask --app wsgi
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: run test install install-dev lint format serve clean lock audit bench bench-quick load

run: install
	$(FLASK) db upgrade
	$(FLASK) lms seed-demo
	$(FLASK) run --host $(HOST) --port $(PORT)

test: install-dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Known vulnerabilities in requirements/*.txt (pip-audit; see scripts/audit.py for what happens
# when no vulnerability service can be reached).
audit: install-dev
	PIP_AUDIT=$(BIN)/pip-audit $(BIN)/python scripts/audit.py

format: install-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Every benchmark scenario next to its floor, one table (docs/performance.md). BENCH_ARGS=--quick
# for a shorter run; `make load` is the mixed-traffic run (bench/load.py).
bench: install-dev
	$(BIN)/python -m bench $(BENCH_ARGS)

bench-quick: install-dev
	$(BIN)/python -m bench --quick $(BENCH_ARGS)

load: install-dev
	$(BIN)/python -m bench.load $(LOAD_ARGS)

# Production-style serving (see README: set LMS_ENV=production and the required variables).
serve: install
	$(FLASK) db upgrade
	$(BIN)/gunicorn --workers 5 --bind $(HOST):$(PORT) 'wsgi:app'

install: $(VENV)/.installed-run
install-dev: $(VENV)/.installed-dev tests/e2e/node_modules/.installed

$(VENV)/bin/python:
	./scripts/install-system-deps.sh run
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# Installs exactly the versions (and hashes) in requirements/*.txt, then lms itself.
$(VENV)/.installed-run: $(VENV)/bin/python pyproject.toml requirements/app.txt
	$(BIN)/pip install -q --require-hashes -r requirements/app.txt
	$(BIN)/pip install -q --no-deps -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/bin/python pyproject.toml requirements/dev.txt
	./scripts/install-system-deps.sh test
	$(BIN)/pip install -q --require-hashes -r requirements/dev.txt
	$(BIN)/pip install -q --no-deps -e .
	touch $@ $(VENV)/.installed-run

# axe-core for the browser tests, exactly as tests/e2e/package-lock.json pins it.
tests/e2e/node_modules/.installed: tests/e2e/package.json tests/e2e/package-lock.json
	./scripts/install-system-deps.sh test
	cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Refresh the lock files from pyproject.toml (newest versions its ranges allow), with hashes.
# Commit the result; `make install-dev` then installs exactly that.
LOCK = $(BIN)/pip-compile -q --generate-hashes --allow-unsafe --strip-extras \
	--no-emit-find-links --no-emit-index-url --extra postgres --extra redis --extra serve
lock: $(VENV)/bin/python
	$(BIN)/pip install -q pip-tools
	$(LOCK) --upgrade -o requirements/app.txt pyproject.toml
	$(LOCK) --upgrade --extra dev -o requirements/dev.txt pyproject.toml

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
