# The two commands: `make run` (the main job, everything local) and `make test` (the whole suite).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: run test bench lint tools clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# Stamp files so a second `make` does not reinstall; they are remade when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test,bench]'
	touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	$(BIN)/qbsync up

# docker-compose (Debian's v1) validates docker-compose.kafka.yml without a Docker engine.
tools:
	@command -v docker-compose >/dev/null 2>&1 || \
	  { command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] && \
	    { apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose >/dev/null; }; } || \
	  echo "note: docker-compose could not be installed; the compose validation test will say so"

test: $(VENV)/.installed-test tools
	$(BIN)/pytest -q -p no:cacheprovider

bench: $(VENV)/.installed-test
	$(BIN)/python -m bench

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy engine schemas streams projections adapters sandbox qbsync store

clean:
	rm -rf $(VENV) .qbsync build *.egg-info
