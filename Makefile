# Agora: `make run` serves the demo store, `make test` runs lint and the whole test suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
PY := $(BIN)/python
HOST ?= 127.0.0.1
PORT ?= 8000
# Test processes (pytest-xdist): each has its own test database, cache key prefix and queues.
PYTEST_WORKERS ?= 2

.PHONY: run test lint bench soak install migrate seed serve worker beat mailsink idp clean

$(UV):
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check uv==0.13.9

$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	# UV_SYSTEM_CERTS: trust the machine's CA store (as pip does), also behind a TLS proxy.
	UV_SYSTEM_CERTS=1 UV_PROJECT_ENVIRONMENT=$(VENV) $(UV) sync --frozen --quiet
	touch $@

install: $(VENV)/.synced

migrate: install
	$(PY) manage.py migrate --noinput

# Links in the demo emails sent while seeding point at the store make run serves.
SITE_HOST := $(if $(filter 0.0.0.0 ::,$(HOST)),127.0.0.1,$(HOST))
seed: migrate
	SITE_URL="$${SITE_URL:-http://$(SITE_HOST):$(PORT)}" $(PY) manage.py seed_demo

# The store, a Celery worker and beat on the embedded broker, the local identity provider and a
# mail sink, all in the foreground: Ctrl-C stops every one of them.
run: seed
	$(PY) -m config.run --host $(HOST) --port $(PORT)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check . || (echo "run: $(BIN)/ruff format ." && false)

test: lint
	$(PY) manage.py makemigrations --check --dry-run
	$(BIN)/pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

bench: install
	$(PY) -m bench

# Five minutes of mixed shopper load on gunicorn + Celery + PostgreSQL + Redis, then the
# consistency check (issue 16). SOAK_SECONDS / SOAK_CLIENTS change the run.
SOAK_SECONDS ?= 300
SOAK_CLIENTS ?= 6
soak: install
	$(PY) -m bench.soak --seconds $(SOAK_SECONDS) --clients $(SOAK_CLIENTS)

clean:
	rm -rf $(VENV) var
