# Each target creates (or reuses) .venv, so on a fresh machine each is one command.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test test-fast lint bench clean vendor-frontend peer-venvs

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip uv
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -e '.[dev]'
	# Bytecode at install: where PYTHONDONTWRITEBYTECODE is set, every run would compile again.
	$(BIN)/python -m compileall -q -j 0 src $(VENV)/lib
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/ethica demo

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadgroup

test-fast: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadgroup -m "not spark and not browser and not slow"

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/audit_vs_peers.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache

vendor-frontend:
	scripts/vendor_frontend.sh

# Peers whose pins clash with ours (Evidently wants pandas < 3; Flower pins FastAPI, Starlette
# and Typer below ours) live in venvs of their own; the tests needing them skip, saying so,
# where these are missing. Flower's venv holds ethica too: its apps import ethica.federated.
PEERS := .venv-peers
peer-venvs:
	test -x $(PEERS)/evidently/bin/python || python3 -m venv $(PEERS)/evidently
	$(PEERS)/evidently/bin/python -m pip install --quiet 'evidently==0.7.23' 'pandas<3'
	test -x $(PEERS)/flower/bin/python || python3 -m venv $(PEERS)/flower
	$(PEERS)/flower/bin/python -m pip install --quiet -e '.[federated,postgresql]'
	# Flower starts a process per message: compiled bytecode keeps each start short.
	$(PEERS)/flower/bin/python -m compileall -q -j 0 src $(PEERS)/flower/lib
