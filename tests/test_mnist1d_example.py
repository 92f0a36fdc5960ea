"""A CI-sized run of examples/mnist1d.py: the CNN reaches >= 85% test accuracy quickly."""

import importlib.util
from pathlib import Path

import pytest

pytest.importorskip("mnist1d")

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "mnist1d.py"


def _load_example():
    spec = importlib.util.spec_from_file_location("mnist1d_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def example_and_data():
    ex = _load_example()
    return ex, ex.mnist1d()  # generating the data takes a few seconds: once per module


def test_cnn_reaches_85_percent_on_mnist1d(example_and_data):
    ex, data = example_and_data
    assert tuple(data[0].shape) == (4000, 40) and tuple(data[2].shape) == (1000, 40)
    acc, seconds = ex.train("cnn", data, steps=800)
    assert acc >= 85.0, f"CNN test accuracy {acc:.1f}% after 800 steps"


def test_logistic_regression_is_near_the_paper(example_and_data):
    ex, data = example_and_data
    acc, _ = ex.train("logistic", data, steps=1500)
    assert 27.0 <= acc <= 37.0  # the paper's 32%: a linear model cannot do much better
