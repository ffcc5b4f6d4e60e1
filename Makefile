# One-command entry points; each creates the virtual environment on first use.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: demo test lint check deep docs mutation clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

demo: $(VENV)/.installed  ## the main job: a day-by-day sync of a generated history into ./cmsf.db
	$(VENV)/bin/cmsf demo

test: $(VENV)/.installed  ## the whole test suite, with the branch-coverage gates (one worker per core)
	$(PY) -m pytest -n auto --cov --cov-fail-under=95
	$(PY) -m coverage report --include='*/cmsf_core/domain/*' --fail-under=100

lint: $(VENV)/.installed  ## ruff, formatting and mypy strict
	$(VENV)/bin/ruff check src tests
	$(VENV)/bin/ruff format --check src tests
	$(VENV)/bin/mypy

check: lint test

$(VENV)/.installed-docs: $(VENV)/.installed pyproject.toml
	$(PY) -m pip install --quiet -e '.[test,docs]'
	touch $@

docs: $(VENV)/.installed-docs  ## the documentation site into site/ (strict: any warning fails)
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict

deep: $(VENV)/.installed  ## the test suite with the deep Hypothesis profile (slow)
	CMSF_HYPOTHESIS_PROFILE=deep $(PY) -m pytest -n auto

mutation: $(VENV)/.installed  ## mutation testing of cmsf_core.domain (slow; figures in docs/reliability.md)
	PYTHON=$(PY) scripts/mutation.sh

clean:
	rm -rf $(VENV) site .mypy_cache .ruff_cache .pytest_cache .hypothesis
