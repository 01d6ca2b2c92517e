# Everything runs in a local virtual environment, created on first use.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# torch first, so that the range in pyproject.toml never pulls a multi-GB CUDA build
# onto a machine without a GPU. PyTorch's CPU wheel index is searched beside PyPI:
# where it is reachable, its `2.13.0+cpu` outranks PyPI's 2.13.0 (on Linux, the CUDA
# build); where it is not, pip warns and takes what PyPI or a local wheel offers.
TORCH_SPEC ?= torch==2.13.0
TORCH_CPU_INDEX ?= https://download.pytorch.org/whl/cpu
STAMP := $(VENV)/.installed
# book/ holds the chapters and their configuration; tools/ the programs that fetch
# the book's JavaScript and execute its chapters. `make test` checks the chapters'
# committed outputs with strict nbval.
NOTEBOOKS := $(wildcard book/*.ipynb)

.PHONY: demo test test-full lint book book-assets notebooks student clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install -q --retries 1 \
		--extra-index-url "$(TORCH_CPU_INDEX)" "$(TORCH_SPEC)"
	$(PY) -m pip install -q -e ".[test,book]"
	# the notebooks' kernel, "python3", is this environment's Python
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (ipykernel)"
	touch $@

demo: $(STAMP)
	$(PY) -m centernet_edu.demo

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

# Two workers (pytest-xdist), each file whole on one of them (tests/conftest.py);
# PYTEST_WORKERS=0 runs everything in this process.
PYTEST_WORKERS ?= 2
test: lint
	$(PY) -m pytest -q -n $(PYTEST_WORKERS) --dist loadfile --no-loadscope-reorder \
		--durations 20 tests $(NOTEBOOKS) --nbval --nbval-current-env \
		--nbval-sanitize-with book/nbval_sanitize.cfg

# MathJax from the npm registry, so that the built pages load nothing from a CDN
# (book/_assets/, ignored by git).
book-assets: $(STAMP)
	$(PY) tools/fetch_assets.py

# The HTML book in book/_build/html, from the notebooks as committed; warnings fail it.
book: book-assets
	$(VENV)/bin/jupyter-book build book --builder html -W -n --keep-going

# Re-execute every chapter in place, outputs included; commit the result.
notebooks: $(STAMP)
	$(PY) tools/execute.py

# The student edition, for a class: the chapters without the worked solutions and with
# their outputs cleared, the exercise stubs and checkers kept: `make student` writes
# student/ (ignored by git), `make student STUDENT=DIR` another folder.
STUDENT ?= student
student: $(STAMP)
	$(PY) tools/student.py --out $(STUDENT)

clean:
	rm -rf $(VENV) .venv-colab book/_build book/_assets .pytest_cache .hypothesis

# `make test` with every chapter run as a user runs it: the Colab-like run
# (tests/test_colab_run.py) of all nine instead of chapters 1 and 3, each executed as on
# Colab in .venv-colab (created on first use, ignored by git), the package installed by
# the chapter's own install cell; and the student edition of every graded chapter run
# instead of those of chapters 1 to 5 (tests/test_student_edition.py).
test-full:
	COLAB_CHAPTERS=all STUDENT_CHAPTERS=all $(MAKE) test
