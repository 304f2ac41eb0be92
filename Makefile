# Two entry points for users: `make up` (deploy the local stack) and `make test`.
SHELL := /bin/bash
export SHIMMY_GPU_CACHE ?= $(HOME)/.cache/shimmy-gpu
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: setup up test lint lint-workflows unit image

setup:
	bash scripts/setup.sh

up: setup
	bash scripts/up.sh

lint: setup lint-workflows
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# actionlint on .github/workflows, built from its pinned Go module on first use.
lint-workflows:
	bash scripts/lint-workflows.sh

unit: setup
	$(PY) -m pytest -q tests --ignore=tests/image

# The real image: build (BuildKit), push to 127.0.0.1:5000, pull by digest, serve a real model.
image: setup
	$(PY) -m pytest -q tests/image

test: lint unit image
