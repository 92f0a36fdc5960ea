"""chainrule.signal.windows against torch.signal.windows: values, defaults, options and
errors."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr

CASES = [
    ("bartlett", {}), ("blackman", {}), ("cosine", {}), ("hamming", {}), ("hann", {}),
    ("nuttall", {}), ("gaussian", {}), ("gaussian", {"std": 0.7}), ("kaiser", {}),
    ("kaiser", {"beta": 0.9}), ("exponential", {}), ("exponential", {"tau": 3.0}),
    ("general_hamming", {}), ("general_hamming", {"alpha": 0.6}),
    ("general_cosine", {"a": [0.46, 0.23, 0.31]}),
]


@pytest.mark.parametrize("name,kw", CASES)
@pytest.mark.parametrize("M", [0, 1, 2, 7, 10])
@pytest.mark.parametrize("sym", [True, False])
def test_windows_match_torch(torch, name, kw, M, sym):
    ours = getattr(cr.signal.windows, name)(M, sym=sym, dtype=cr.float64, **kw)
    theirs = getattr(torch.signal.windows, name)(M, sym=sym, dtype=torch.float64, **kw)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12, atol=1e-14)
    f32 = getattr(cr.signal.windows, name)(M, sym=sym, **kw)
    assert f32.dtype == cr.float32 and tuple(f32.shape) == (M,)
    np.testing.assert_allclose(f32.numpy(), theirs.numpy(), rtol=1e-6, atol=1e-6)


def test_exponential_center_and_requires_grad(torch):
    a = cr.signal.windows.exponential(9, center=2.0, sym=False, requires_grad=True)
    b = torch.signal.windows.exponential(9, center=2.0, sym=False)
    np.testing.assert_allclose(a.detach().numpy(), b.numpy(), rtol=1e-6)
    assert a.requires_grad


@pytest.mark.parametrize("call", [
    lambda L: L.signal.windows.hann(-1),
    lambda L: L.signal.windows.hann(5, dtype=L.int64),
    lambda L: L.signal.windows.exponential(5, center=1.0),
    lambda L: L.signal.windows.exponential(5, tau=0.0, sym=False),
    lambda L: L.signal.windows.gaussian(5, std=-1.0),
    lambda L: L.signal.windows.kaiser(5, beta=-1.0),
    lambda L: L.signal.windows.general_cosine(5, a=[]),
])
def test_errors_match_torch(torch, call):
    with pytest.raises(Exception) as theirs:
        call(torch)
    with pytest.raises(type(theirs.value)):
        call(cr)
