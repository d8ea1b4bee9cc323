# The two commands: `make run` (the desk, embedded store, demo data flowing) and `make test` (the whole suite).
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test install bench es-up es-down clean

$(BIN)/opinion-desk: pyproject.toml setup.py $(wildcard analyzers/_*.[ch])
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e .
	touch $@

install: $(BIN)/opinion-desk

## run: start the desk at http://127.0.0.1:5000 on the embedded store with demo posts flowing
run: install
	$(BIN)/opinion-desk run --demo

## test: install everything the tests need (Python packages, chromium + CJK font, Elasticsearch) and run them
test:
	bash scripts/test.sh

es-up: install
	$(BIN)/opinion-desk es up

es-down: install
	$(BIN)/opinion-desk es down

bench: install
	for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) var .pytest_cache
