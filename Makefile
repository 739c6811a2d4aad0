# emotion-clf: every target runs inside the project's virtual environment (.venv).
.DEFAULT_GOAL := help
SHELL := /bin/bash

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CLI := $(BIN)/emotion-clf

FAMILY ?= tfidf
DATA ?= data/raw
SEED ?= 0
MODEL ?= baseline
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 1

.PHONY: help setup main test test-all check format train-bundle evaluate serve clean

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml environment/constraints.txt | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	# torch first, from the CPU build on disk; the project's range accepts it
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -c environment/constraints.txt -e ".[dev,lab]"
	touch $@

setup: $(VENV)/.installed ## create .venv and install the project (torch CPU first)

main: setup ## the main job: train on the bundled data and evaluate on the held-out batches
	$(CLI) train --family $(FAMILY) --data $(DATA) --seed $(SEED) --out models/main-$(FAMILY)
	$(CLI) evaluate --model models/main-$(FAMILY) --data $(DATA) --split test

test: setup ## run the test suite (slow tests excluded)
	$(BIN)/python -m pytest

test-all: setup ## run every test, slow ones included
	$(BIN)/python -m pytest -m ""

check: setup ## ruff format --check, ruff check, mypy
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy

format: setup ## apply ruff's formatting and safe fixes
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

train-bundle: setup ## train FAMILY on DATA into models/FAMILY (no registry)
	$(CLI) train --family $(FAMILY) --data $(DATA) --seed $(SEED) --out models/$(FAMILY)

evaluate: setup ## evaluate MODEL on the test split of DATA
	$(CLI) evaluate --model $(MODEL) --data $(DATA) --split test

serve: setup ## serve the registry's baseline model over HTTP (HOST, PORT, WORKERS)
	$(CLI) serve --host $(HOST) --port $(PORT) --workers $(WORKERS)

clean: ## remove what the tools wrote (models, registry, caches, reports), keep .venv
	rm -rf models mlruns .cache feedback monitoring logs reports/runs reports/*.html
