# Two commands do everything on a fresh machine with Python 3.11+ and make:
#   make up     start relay, gateway and one node with the bundled model
#   make test   run the test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: up test install lint typecheck format protos bench clean

up: $(STAMP)
	$(BIN)/tokenplace up

test: $(STAMP)
	scripts/ensure_postgres.sh
	$(BIN)/python scripts/typecheck.py
	$(BIN)/python -m pytest

install: $(STAMP)

$(STAMP): pyproject.toml setup.py Makefile scripts/install_engine.sh
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,ctransformers]'
	scripts/install_engine.sh $(BIN)/python
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/python scripts/typecheck.py

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

protos: $(STAMP)
	$(BIN)/python scripts/gen_protos.py

bench: $(STAMP)
	$(BIN)/python bench/network_overhead.py

clean:
	rm -rf $(VENV)
