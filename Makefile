# One command builds the book, one runs the tests. Each first installs the
# system packages it needs (when missing), then sets up .venv.
# The newest Python 3.12+ on PATH, then under pyenv (tools/find-python).
PYTHON ?= $(shell tools/find-python 2>/dev/null)
VENV := .venv
BIN := $(VENV)/bin
PROFILE ?= full
# Graphviz's dot draws the model graphs; Debian's Chromium and its driver
# run the browser test (no browser is downloaded).
# CRISPY (the screen chapter's peer) intersects guides and segments with BEDTools.
BOOK_SYSTEM_PACKAGES := dot:graphviz bedtools:bedtools
TEST_SYSTEM_PACKAGES := $(BOOK_SYSTEM_PACKAGES) /usr/bin/chromium:chromium /usr/bin/chromedriver:chromium-driver

.PHONY: help install lock book quick-book test test-fast test-unit benchmark peers lint format sync clean \
	book-system-packages test-system-packages

help:
	@echo "make install     create .venv (Python 3.12+) and install the project with its test tools"
	@echo "make book        run the notebooks whose inputs changed (PROFILE=$(PROFILE)) and build _build/html"
	@echo "                 (FORCE=1 re-runs every notebook; JOBS=N chapters at once, default: the cores)"
	@echo "make quick-book  the same with the quick profile (seconds per notebook)"
	@echo "make test        the test suite (quick profile notebooks, a book build, the book in Chromium)"
	@echo "make test-fast   helpers, the command line and every chapter's structure (stubbed sampler)"
	@echo "make test-unit   helpers and the command line's refusals: no kernel, no NUTS fit"
	@echo "make benchmark   nutpie, PyMC and numpyro on every recommended model (CSV in benchmarks/results)"
	@echo "make peers       MAGeCK2 (RRA, MLE), CRISPY and Chronos on the AU565 screen, scored as the book scores its model"
	@echo "make lint        every pre-commit hook on every file (ruff, notebook pairs and shape, ...)"
	@echo "make sync        pair notebooks/*.py with .ipynb for Jupyter (jupytext)"
	@echo "make lock        rewrite requirements.lock from .venv after a dependency change"
	@echo "make clean       remove generated notebooks, fit artifacts, _build and test output"

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml requirements.lock
	@test -n "$(PYTHON)" || tools/find-python
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 12))' || \
		{ echo "error: $(PYTHON) is older than Python 3.12"; exit 1; }
	@if [ -x $(BIN)/python ] && ! $(BIN)/python -c 'import sys; sys.exit(sys.version_info < (3, 12))'; then \
		echo "removing $(VENV): it runs a Python older than 3.12"; rm -rf $(VENV); fi
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e ".[test,peers]"
	touch $@

book-system-packages:
	@tools/system-packages $(BOOK_SYSTEM_PACKAGES)

test-system-packages:
	@tools/system-packages $(TEST_SYSTEM_PACKAGES)

book: book-system-packages
	@$(MAKE) --no-print-directory install
	$(BIN)/crispr-models book --profile $(PROFILE) $(if $(FORCE),--force) $(if $(JOBS),--jobs $(JOBS))

quick-book:
	$(MAKE) book PROFILE=quick

test: test-system-packages
	@$(MAKE) --no-print-directory install
	$(BIN)/python -m pytest -m "not stubbed"

# No kernel runs the statistics here: the chapters run with nutpie stubbed by
# prior draws (tests/stub_sampler.py), two at a time.
test-fast: book-system-packages
	@$(MAKE) --no-print-directory install
	$(BIN)/python -m pytest -m "not notebook and not slow"

# No kernel starts and nothing is sampled with NUTS (tests that use a fitted
# model are marked "fits" by tests/conftest.py).
test-unit:
	@$(MAKE) --no-print-directory install
	$(BIN)/python -m pytest -m "not notebook and not slow and not stubbed and not fits"

benchmark: install
	$(BIN)/python benchmarks/sampler_benchmark.py

# Chronos needs TensorFlow: it gets its own environment, so that the book's
# (whose packages are a chapter input) stays as it is.
PEERS_VENV := .venv-peers
peers: book-system-packages
	@$(MAKE) --no-print-directory install
	@test -x $(PEERS_VENV)/bin/python || $(PYTHON) -m venv $(PEERS_VENV)
	$(PEERS_VENV)/bin/python -m pip install --quiet "crispr-chronos==2.3.11" "psutil>=6"
	$(BIN)/python benchmarks/peer_benchmark.py --chronos-python $(PEERS_VENV)/bin/python \
		$(if $(wildcard book/generated/screen/gene_effects.csv),--model-effects book/generated/screen/gene_effects.csv)

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
