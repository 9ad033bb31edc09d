# ump365.upgrade — every set-up step lives here, so a fresh machine needs only `make demo` / `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
STAMP := $(VENV)/.installed
export PATH := $(BIN):$(PATH)
# umplab is installed into the venv (lab/pyproject.toml, editable); PYTHONPATH only makes this checkout's
# lab win when several checkouts (worktrees) share one venv.
export PYTHONPATH := $(CURDIR)/lab$(if $(PYTHONPATH),:$(PYTHONPATH),)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/.ansible/collections
export ANSIBLE_NOCOLOR := 1
export PY_COLORS := 0
export NO_COLOR := 1
LAB_DIR ?= $(CURDIR)/.lab
# Molecule's scenarios (extensions/molecule/), the longest first
MOLECULE_SCENARIOS := fleet rollback default

.PHONY: help setup test lint ruff ansible-lint sanity pytest unit integration molecule $(addprefix molecule-,$(MOLECULE_SCENARIOS)) demo bench lab-up lab-down clean doc

help:
	@echo "make demo   - set up, start the UMP lab, run the full upgrade against it, stop the lab"
	@echo "make test   - set up, then ruff, ansible-lint, ansible-test sanity, pytest (unit + integration), molecule"
	@echo "make bench  - benchmarks against the lab (bench/), prints a table and writes JSON"
	@echo "make setup  - create $(VENV) with Python 3.11 and the pinned requirements"

setup: $(STAMP)

$(STAMP): requirements/runtime.txt requirements/dev.txt requirements/constraints.txt lab/pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Python 3.11 is required (found %s); set PYTHON=/path/to/python3.11" % sys.version.split()[0])'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements/dev.txt -c requirements/constraints.txt
	touch $(STAMP)

# Molecule's scenarios and ruff, ansible-lint and sanity, two at a time (a scenario is about one core), each
# check's output printed whole when it ends (--output-sync); then pytest alone, its summary line last. pytest
# beside them was not faster: the CPU time of the whole grew with the load (docs/performance.md).
test: setup
	$(MAKE) --no-print-directory -j2 --output-sync=target molecule lint sanity
	$(MAKE) --no-print-directory pytest

lint: ruff ansible-lint

ruff: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

ansible-lint: setup
	$(BIN)/ansible-lint --offline --profile production

sanity: setup
	scripts/ansible-test-sanity.sh

# Three pytest workers on two cores: many integration tests wait on the lab (its operations, the progress
# polls), and a third worker keeps both cores busy through those waits and at the end, where the last files
# would otherwise run one at a time (docs/performance.md, "Three pytest workers").
pytest: setup
	$(BIN)/python -m pytest -p no:cacheprovider -n 3 --dist loadfile --no-loadscope-reorder tests

unit: setup
	$(BIN)/python -m pytest -p no:cacheprovider tests/unit

integration: setup
	$(BIN)/python -m pytest -p no:cacheprovider tests/integration

doc: setup
	$(BIN)/ansible-doc -l ump365.upgrade

# Molecule scenarios on the lab (extensions/molecule/), each its own target (own lab, own ephemeral directory),
# the longest first; `make test` runs them two at a time beside the other checks, and pytest's summary line stays
# the last thing CI reads.
molecule: $(addprefix molecule-,$(MOLECULE_SCENARIOS))

$(addprefix molecule-,$(MOLECULE_SCENARIOS)): molecule-%: setup
	$(BIN)/molecule test --scenario-name $*

demo: setup
	scripts/demo.sh

bench: setup
	$(BIN)/python -m bench $(BENCH_ARGS)

lab-up: setup
	$(BIN)/python -m umplab up --state-dir $(LAB_DIR)

lab-down: setup
	$(BIN)/python -m umplab down --state-dir $(LAB_DIR)

clean:
	-$(BIN)/python -m umplab down --state-dir $(LAB_DIR) 2>/dev/null
	rm -rf $(VENV) .lab tests/output reports .pytest_cache .ruff_cache context
