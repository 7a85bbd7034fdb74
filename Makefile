# hutong: the documented commands are `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HUTONG := $(VENV)/bin/hutong
STAMP := $(VENV)/.installed
export HUTONG_HOME ?= ./var

.PHONY: install demo test test-sqlite test-postgres bench lint typecheck clean lock

$(STAMP): pyproject.toml requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.lock
	$(PY) -m pip install -q --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

## make demo: set up everything and serve a demo node on http://127.0.0.1:8000
demo: $(STAMP)
	$(HUTONG) demo --home $(HUTONG_HOME)

## make test: the whole suite on SQLite, then on a throw-away PostgreSQL
test: $(STAMP)
	$(MAKE) test-sqlite
	$(MAKE) test-postgres

test-sqlite: $(STAMP)
	HUTONG_TEST_DB=sqlite $(PY) -m pytest -n 2 --dist loadfile

test-postgres: $(STAMP)
	scripts/with-postgres.sh $(PY) -m pytest -n 2 --dist loadfile

bench: $(STAMP)
	command -v sqlite3 >/dev/null || apt-get install -y -qq sqlite3
	scripts/with-postgres.sh $(PY) -m benchmarks.run

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks

typecheck: $(STAMP)
	$(VENV)/bin/mypy

lock:
	$(VENV)/bin/uv pip compile pyproject.toml --extra dev --no-emit-index-url --no-header -o requirements.lock

clean:
	rm -rf $(VENV) var .pytest_cache
