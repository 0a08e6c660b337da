# The two commands a fresh machine needs: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test check system-deps bench lint typecheck clean lock

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "mlquiz needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Dependencies come only from the hashed lock files (scripts/lock.sh regenerates them), then
# mlquiz itself without resolving anything again.
$(VENV)/.installed: pyproject.toml requirements/runtime.txt | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements/runtime.txt
	$(BIN)/pip install --quiet --no-deps -e .
	@touch $@

$(VENV)/.dev-installed: pyproject.toml requirements/dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements/dev.txt
	$(BIN)/pip install --quiet --no-deps -e .
	@touch $@ $(VENV)/.installed

## run: set up and chat with the bot in the terminal (SQLite, no tokens)
run: $(VENV)/.installed
	$(BIN)/mlquiz console $(ARGS)

## system-deps: PostgreSQL server binaries and bubblewrap, installed with apt-get when missing
system-deps:
	@./scripts/system-deps.sh

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .

typecheck: $(VENV)/.dev-installed
	$(BIN)/mypy

## test: set up and run lint, types and the whole suite (SQLite and PostgreSQL), on two
## workers (pytest-xdist; each has its own PostgreSQL server). PYTEST_ARGS=-n0 runs it serially.
PYTEST_ARGS ?= -n 2
test: system-deps $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/pytest $(PYTEST_ARGS)

## lock: regenerate requirements/*.txt from pyproject.toml (pip-tools in a throwaway venv)
lock:
	./scripts/lock.sh $(ARGS)

bench: $(VENV)/.installed
	$(BIN)/mlquiz bench $(ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
