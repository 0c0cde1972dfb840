# The two commands a reader needs:  make book   and   make test
# Both create .venv here if it is missing and install everything into it.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9]*.ipynb))
export PYTHONHASHSEED := 0
export NTK_DEVICE ?= cpu
export NTK_PROGRESS ?= 0

.PHONY: help install lint test test-lib test-twins test-papermill test-nbval test-browser test-compat book book-check execute-committed bench sync-url tidy-notebooks clean

help:
	@echo "make book               install, execute every chapter at book scale, render _build/html"
	@echo "make test               install, lint, library tests, twins, papermill smoke, nbval, book build, browser check"
	@echo "make execute-committed  (authors) re-execute the committed notebooks in place at book scale"
	@echo "make test-compat        (slow) the tests and smoke-scale chapters in the oldest and newest supported environments"
	@echo "make sync-url           write _config.yml's repository URL into every chapter's Colab install cell"
	@echo "make tidy-notebooks     sync-url, and fold (hide-input) every chapter's import/configuration cells"
	@echo "make bench              run the benchmark scripts (prints ratios against baselines)"

$(STAMP): pyproject.toml requirements.txt requirements-dev.txt constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -r requirements-dev.txt
	$(PY) -m pip install --quiet -c constraints.txt --no-deps --no-build-isolation -e .
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	$(PY) tools/quiet_kernel.py
	touch $@

install: $(STAMP)

lint: $(STAMP)
	$(VENV)/bin/ruff check ntk_lib tests benchmarks notebooks/*.py tools book/_ext conftest.py

test-lib: $(STAMP)
	$(PY) -m pytest tests --ignore=tests/notebooks --ignore=tests/book -q

# twins in sync, generated Colab cells and folds, and the numeric tolerance nbval uses
test-twins: $(STAMP)
	$(PY) -m pytest tests/notebooks/test_twins.py tests/notebooks/test_tidy.py tests/notebooks/test_tolerance.py -q

test-papermill: $(STAMP)
	$(PY) -m pytest tests/notebooks/test_papermill.py -q

test-nbval: $(STAMP)
	$(PY) -m pytest --nbval --nbval-current-env --nbval-sanitize-with tests/notebooks/sanitize.cfg $(NOTEBOOKS) -q

book-check: $(STAMP)
	$(PY) tools/build_book.py --committed

# every page of the book-check render opened in headless Chromium (skips without one, see tests/book)
test-browser: book-check
	$(PY) -m pytest tests/book -q

test: lint test-lib test-twins test-papermill test-nbval test-browser

book: $(STAMP)
	$(PY) tools/build_book.py --execute

execute-committed: $(STAMP)
	$(PY) tools/execute_notebooks.py --in-place $(NOTEBOOKS)

# Not part of make test: two throwaway environments, several GB of downloads (see README).
test-compat: $(STAMP)
	$(PY) tools/test_compat.py $(COMPAT_ARGS)

sync-url: $(STAMP)
	$(PY) tools/sync_repo_url.py

# the generated Colab install cell and folded setup cells in every chapter and twin (no execution)
tidy-notebooks: sync-url
	$(PY) tools/tag_cells.py

bench: $(STAMP)
	$(PY) benchmarks/bench_analytic.py
	$(PY) benchmarks/bench_empirical.py
	$(PY) benchmarks/bench_dynamics.py

clean:
	rm -rf _build .jupyter_cache
