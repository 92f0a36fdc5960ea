# Two commands (see README): `make demo` and `make test`. Each creates or refreshes the
# virtual environment in .venv and installs what it needs.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
BASE := $(VENV)/.installed-base
TESTS := $(VENV)/.installed-test

.PHONY: demo test venv lint bench oracle clean

# the main job needs chainrule and the plot extra only
$(BASE): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[plot]"
	touch $(BASE)

# the tests add the test extra: PyTorch 2.13.0 (CPU, the oracle), onnx + onnxruntime, MPI
$(TESTS): $(BASE)
	$(PY) -m pip install --quiet -e ".[test,plot,sklearn,mnist1d,onnx,mpi]"
	touch $(TESTS)

venv: $(TESTS)

demo: $(BASE)
	$(VENV)/bin/chainrule demo

test: $(TESTS)
	$(PY) -m pytest -q -rs tests
	$(VENV)/bin/ruff check src tests benchmarks examples

oracle: $(TESTS)

bench: $(TESTS)
	$(PY) -m pip install --quiet -e ".[bench]"
	$(PY) benchmarks/run.py

lint: $(TESTS)
	$(VENV)/bin/ruff check src tests benchmarks examples

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info
