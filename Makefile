# Two entry points for users: `make up` (deploy the local stack) and `make test`.
SHELL := /bin/bash
export SHIMMY_GPU_CACHE ?= $(HOME)/.cache/shimmy-gpu
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: setup up test lint unit

setup:
	bash scripts/setup.sh

up: setup
	bash scripts/up.sh

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

unit: setup
	$(PY) -m pytest -q tests

test: lint unit
