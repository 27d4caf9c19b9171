# One command builds the book, one runs the tests; both set up .venv first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PROFILE ?= full

.PHONY: help install lock book quick-book test benchmark lint format sync clean

help:
	@echo "make install     create .venv and install the project with its test tools"
	@echo "make book        run the notebooks whose inputs changed (PROFILE=$(PROFILE)) and build _build/html"
	@echo "                 (FORCE=1 re-runs every notebook)"
	@echo "make quick-book  the same with the quick profile (seconds per notebook)"
	@echo "make test        the test suite (quick profile notebooks and a book build)"
	@echo "make benchmark   nutpie, PyMC and numpyro on every recommended model (CSV in benchmarks/results)"
	@echo "make lint        every pre-commit hook on every file (ruff, notebook pairs and shape, ...)"
	@echo "make sync        pair notebooks/*.py with .ipynb for Jupyter (jupytext)"
	@echo "make lock        rewrite requirements.lock from .venv after a dependency change"
	@echo "make clean       remove generated notebooks, fit artifacts, _build and test output"

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required, found " + sys.version.split()[0]'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e ".[test]"
	@command -v dot >/dev/null || echo "warning: Graphviz's 'dot' is missing; the model graphs need it (apt-get install graphviz)"
	touch $@

book: install
	$(BIN)/crispr-models book --profile $(PROFILE) $(if $(FORCE),--force)

quick-book:
	$(MAKE) book PROFILE=quick

test: install
	$(BIN)/python -m pytest

benchmark: install
	$(BIN)/python benchmarks/sampler_benchmark.py

lint: install
	$(BIN)/pre-commit run --all-files

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

sync: install
	$(BIN)/jupytext --sync notebooks/*.py

lock: install
	@echo "# Exact versions the project is tested with: make install installs within them." > requirements.lock
	@echo "# Regenerate with 'make lock' after changing dependencies in pyproject.toml." >> requirements.lock
	$(BIN)/python -m pip freeze --exclude-editable >> requirements.lock

clean:
	rm -rf _build book/generated test-output
