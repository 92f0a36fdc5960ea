"""Oracle tests of chainrule.distributions against torch.distributions (float64): values of
log_prob, cdf, icdf, entropy, mean, mode, variance, stddev, and their gradients with respect
to every parameter, for each row of tests/_dist_cases.py. The same code runs on both
libraries; a quantity torch does not implement must raise NotImplementedError here too."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr

from ._dist_cases import CASES

# NaN results (e.g. Weibull's mode for concentration < 1) are NaN in torch too, silently
pytestmark = pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")

QUANTITIES = ["log_prob", "cdf", "icdf", "entropy", "mean", "mode", "variance", "stddev"]


def _tensor(lib, arr, grad):
    arr = np.asarray(arr)
    if arr.dtype.kind in "iu":
        return lib.tensor(arr, dtype=lib.int64)
    t = lib.tensor(arr, dtype=lib.float64)
    return t.requires_grad_(True) if grad else t


def _quantity(lib, c, name, params):
    d = c["make"](lib, *params)
    if name == "log_prob":
        return d.log_prob(_tensor(lib, c["value"], False))
    if name == "cdf":
        return d.cdf(_tensor(lib, c["value"], False))
    if name == "icdf":
        return d.icdf(_tensor(lib, c["u"], False))
    if name == "entropy":
        return d.entropy()
    return getattr(d, name)


def _run(lib, c, name):
    params = [_tensor(lib, p, True) for p in c["params"]]
    try:
        out = _quantity(lib, c, name, params)
    except NotImplementedError:
        return "NotImplemented", None
    arr = out.detach().numpy()
    grads = None
    if out.requires_grad and np.issubdtype(arr.dtype, np.floating):
        finite = lib.tensor(np.isfinite(arr))
        total = lib.where(finite, out, lib.zeros_like(out)).sum()
        grads = []
        for p in params:
            try:
                (g,) = lib.autograd.grad(total, [p], allow_unused=True, retain_graph=True)
            except NotImplementedError:  # torch: e.g. gammainc w.r.t. its first argument
                grads.append("NotImplemented")
                continue
            grads.append(None if g is None else g.numpy())
    return arr, grads


def _cases(names):
    out = []
    for c in CASES:
        for n in names:
            if n in c["skip"] or (n in ("log_prob", "cdf") and c["value"] is None):
                continue
            if n == "icdf" and c["u"] is None:
                continue
            out.append(pytest.param(c, n, id=f"{c['name']}-{n}"))
    return out


# torch's trigamma (the derivative of digamma) is accurate to ~1e-9 relative, ours to ~1e-15
_LOOSE_GRAD = {"Gamma-entropy", "Beta-entropy", "Dirichlet-entropy", "Chi2-entropy",
               "StudentT-entropy", "InverseGamma-entropy", "Kumaraswamy-entropy",
               "Wishart_cov-entropy", "Wishart_tril-entropy", "Wishart_prec-entropy"}


@pytest.mark.parametrize("c,name", _cases(QUANTITIES))
def test_values_and_gradients_match_torch(torch, c, name):
    mine, mine_g = _run(cr, c, name)
    ref, ref_g = _run(torch, c, name)
    if isinstance(ref, str) or isinstance(mine, str):
        assert mine == ref, f"{c['name']}.{name}: torch gives {ref!r}, chainrule {mine!r}"
        return
    assert mine.shape == ref.shape
    assert mine.dtype == ref.dtype or (mine.dtype.kind == ref.dtype.kind)
    # torch computes Multinomial's lgamma(n + 1) from an int64 tensor, i.e. in float32
    rtol = 1e-7 if c["name"] == "Multinomial" and name == "entropy" else 1e-10
    np.testing.assert_allclose(mine, ref, rtol=rtol, atol=1e-12, equal_nan=True)
    if ref_g is None:
        return
    assert mine_g is not None, f"{c['name']}.{name}: no gradient"
    rtol = 1e-8 if f"{c['name']}-{name}" in _LOOSE_GRAD else rtol
    for i, (g, rg) in enumerate(zip(mine_g, ref_g)):
        if isinstance(rg, str):
            continue  # torch has no derivative here; ours is checked in test_distributions_special
        if rg is None:
            assert g is None or not np.any(g), f"param {i}: torch has no gradient"
            continue
        assert g is not None, f"param {i}: missing gradient"
        np.testing.assert_allclose(g, rg, rtol=rtol, atol=1e-12, err_msg=f"param {i}")
