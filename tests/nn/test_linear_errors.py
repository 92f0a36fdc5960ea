"""Linear rejects a NumPy array and a dtype mismatch at its boundary, as PyTorch does."""

import numpy as np
import pytest

import chainrule as cr


def test_linear_rejects_a_numpy_input_with_a_clear_message():
    with pytest.raises(TypeError, match=r"linear: expected the input to be a chainrule Tensor, "
                                        r"got ndarray \(wrap arrays with chainrule.tensor"):
        cr.nn.Linear(3, 2)(np.zeros((1, 3), np.float32))


def test_linear_rejects_a_dtype_mismatch_like_pytorch():
    with pytest.raises(RuntimeError, match=r"linear: input dtype chainrule.float64 and weight "
                                           r"dtype chainrule.float32 differ"):
        cr.nn.Linear(3, 2)(cr.zeros(1, 3, dtype=cr.float64))
    out = cr.nn.Linear(3, 2).double()(cr.zeros(1, 3, dtype=cr.float64))
    assert out.dtype == cr.float64
