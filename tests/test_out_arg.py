"""PyTorch's ``out=`` on top-level functions (chainrule/_out_arg.py), against torch 2.13:
values, the returned object, dtype casting and its error, resizing and its warning, views,
tuple outputs, creation functions, and the autograd error."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule import _out_arg


def _both(torch, fn):
    """fn(lib) for torch and chainrule: (torch result, chainrule result) as NumPy/str."""
    res = []
    for lib in (torch, cr):
        try:
            r = fn(lib)
            res.append(("ok", r))
        except Exception as e:  # noqa: BLE001
            res.append((type(e).__name__, str(e)))
    return res


@pytest.mark.parametrize("case", [
    lambda L, o: L.matmul(L.ones(2, 4), L.ones(4, 3), out=o(2, 3)),
    lambda L, o: L.mul(L.arange(4.0), 2.0, out=o(4)),
    lambda L, o: L.add(L.arange(4.0), L.ones(4), alpha=2, out=o(4)),
    lambda L, o: L.exp(L.zeros(3), out=o(3)),
    lambda L, o: L.cat([L.ones(2), L.zeros(1)], out=o(3)),
    lambda L, o: L.stack([L.ones(2), L.zeros(2)], dim=1, out=o(2, 2)),
    lambda L, o: L.sum(L.ones(2, 3), 1, out=o(2)),
    lambda L, o: L.clamp(L.arange(5.0), 1, 3, out=o(5)),
    lambda L, o: L.zeros(2, 3, out=o(2, 3)),
    lambda L, o: L.full((2,), 7.0, out=o(2)),
    lambda L, o: L.arange(5, out=o(5)),
    lambda L, o: L.where(L.tensor([True, False]), L.ones(2), L.zeros(2), out=o(2)),
])
def test_out_values_and_identity(torch, case):
    for lib in (torch, cr):
        made = []

        def new(*shape, lib=lib):
            t = lib.empty(*shape)
            made.append(t)
            return t

        r = case(lib, new)
        assert r is made[0], lib.__name__
    t_out = case(torch, lambda *s: torch.empty(*s))
    c_out = case(cr, lambda *s: cr.empty(*s))
    np.testing.assert_array_equal(c_out.numpy(), t_out.numpy())


def test_out_dtype_rules(torch):
    for lib in (torch, cr):
        o = lib.empty(2, dtype=lib.float64)
        assert lib.add(lib.ones(2), lib.ones(2), out=o).dtype == lib.float64
        o = lib.empty(2, dtype=lib.int64)
        assert lib.add(lib.ones(2, dtype=lib.int32), 1, out=o).tolist() == [2, 2]
    (kt, mt), (kc, mc) = _both(torch, lambda L: L.add(L.ones(2), L.ones(2),
                                                      out=L.empty(2, dtype=L.int64)))
    assert kt == kc == "RuntimeError" and mt == mc == (
        "result type Float can't be cast to the desired output type Long")


def test_out_resizes_with_the_warning(torch):
    for lib in (torch, cr):
        o = lib.empty(3)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            lib.add(lib.ones(2), lib.ones(2), out=o)
        assert o.tolist() == [2.0, 2.0]
        assert any("An output with one or more elements was resized since it had shape [3]"
                   in str(x.message) for x in w), lib.__name__
        o = lib.empty(0)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            lib.add(lib.ones(2), lib.ones(2), out=o)  # zero elements: no warning
        assert o.tolist() == [2.0, 2.0]


def test_out_view_writes_through(torch):
    for lib in (torch, cr):
        v = lib.zeros(2, 3)
        lib.add(lib.ones(3), lib.ones(3), out=v[1])
        assert v.tolist() == [[0, 0, 0], [2, 2, 2]]


def test_out_tuple_results(torch):
    x = [[1.0, 3.0], [4.0, 2.0]]
    for lib in (torch, cr):
        vals, idx = lib.empty(2), lib.empty(2, dtype=lib.int64)
        r = lib.max(lib.tensor(x), 1, out=(vals, idx))
        assert r[0] is vals and r[1] is idx
        assert vals.tolist() == [3.0, 4.0] and idx.tolist() == [1, 0]
        assert r.values is vals
        s, i = lib.empty(4), lib.empty(4, dtype=lib.int64)
        lib.sort(lib.tensor([3.0, 1.0, 2.0, 0.0]), out=(s, i))
        assert s.tolist() == [0.0, 1.0, 2.0, 3.0] and i.tolist() == [3, 1, 2, 0]


def test_out_refuses_autograd(torch):
    for fn in (lambda L: L.add(L.ones(2, requires_grad=True), L.ones(2), out=L.empty(2)),
               lambda L: L.add(L.ones(2), L.ones(2), out=L.empty(2, requires_grad=True)),
               lambda L: L.cat([L.ones(2, requires_grad=True)], out=L.empty(2))):
        (kt, mt), (kc, mc) = _both(torch, fn)
        assert kt == kc == "RuntimeError" and mt == mc
        assert "functions with out=... arguments don't support automatic differentiation" in mc
    for lib in (torch, cr):  # allowed under no_grad
        with lib.no_grad():
            o = lib.add(lib.ones(2, requires_grad=True), lib.ones(2), out=lib.empty(2))
        assert o.tolist() == [2.0, 2.0] and not o.requires_grad


def test_signature_shows_out_and_every_name_is_covered():
    import inspect

    sig = inspect.signature(cr.matmul)
    assert sig.parameters["out"].kind is inspect.Parameter.KEYWORD_ONLY
    for name in _out_arg.NAMES:
        fn = getattr(cr, name)
        assert _out_arg._takes_out(fn), name
