# Two entry points for users: `make up` (deploy the local stack) and `make test`.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: setup up down test lint lint-workflows unit monitoring docker engine e2e image

# The pinned Pulumi CLI, its plugins and the virtualenv (scripts/setup.sh).
setup:
	bash scripts/setup.sh

# The local stack on the local cluster's real node, ending with the model's answer through the Service.
up: setup
	bash scripts/up.sh

# Destroy the local stack and stop the cluster (nothing of it is left running).
down: setup
	bash scripts/down.sh

lint: setup lint-workflows
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# actionlint on .github/workflows, built from its pinned Go module on first use.
lint-workflows:
	bash scripts/lint-workflows.sh

# Pure functions, the policy rules and the program under Pulumi mocks.
unit: setup
	$(PY) -m pytest -q tests --ignore=tests/image --ignore=tests/engine --ignore=tests/e2e --ignore=tests/monitoring

# The alerts and dashboard against Debian's promtool (scripts/prometheus.sh fetches it into the cache once).
monitoring: setup
	bash scripts/prometheus.sh >/dev/null
	$(PY) -m pytest -q tests/monitoring

# The project's Docker engine, the registry on 127.0.0.1:5000 and the base images the local stack names.
docker:
	bash scripts/docker-env.sh start
	bash scripts/base-images.sh cpu >/dev/null

# The real Pulumi engine: the shipped program built, pushed and rendered, the policy pack refusing.
engine: setup docker
	$(PY) -m pytest -q tests/engine

# The program against a real API server with a simulated T4 node and a real CPU node
# (scripts/cluster.sh), started for the tests (built the first time) and stopped after them,
# whatever their outcome; then nothing of it may be left on the machine (`cluster.sh leftovers`).
e2e: setup docker
	bash scripts/cluster.sh up
	$(PY) -m pytest -q tests/e2e; status=$$?; bash scripts/cluster.sh down; \
	left=$$(bash scripts/cluster.sh leftovers); [[ -z "$$left" ]] || { echo "down left: $$left"; exit 1; }; \
	exit $$status

# The real image: pushed, pulled back by digest, serving a real model with the Deployment's args.
image: setup docker
	$(PY) -m pytest -q tests/image

test: lint unit monitoring engine e2e image
