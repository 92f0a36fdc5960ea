# Two commands (see README): `make demo` and `make test`. Each creates or refreshes the
# virtual environment in .venv and installs what it needs.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test venv lint bench oracle clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test,plot,sklearn,mnist1d]"
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/chainrule demo

test: $(STAMP)
	$(PY) -m pytest -q tests
	$(VENV)/bin/ruff check src tests benchmarks examples

# PyTorch oracle tests need torch==2.13.0 (a CPU build on local disk on the project machines)
oracle: $(STAMP)
	$(PY) -m pip install --quiet "torch==2.13.0"

bench: oracle
	$(PY) benchmarks/run.py

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks examples

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info
