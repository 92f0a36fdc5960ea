"""PyTorch dtypes chainrule has no tensors of (bfloat16, complex, wide unsigned): the names
exist with PyTorch's properties and limits, so code naming them runs; making a tensor of
one is a TypeError that says why and what to use."""

from __future__ import annotations

import warnings

import pytest

import chainrule as cr

NAMES = ("bfloat16", "complex32", "complex64", "complex128", "cfloat", "cdouble", "chalf",
         "uint16", "uint32", "uint64")


@pytest.mark.parametrize("name", NAMES)
def test_names_and_properties_match_torch(name, torch):
    d, t = getattr(cr, name), getattr(torch, name)
    assert repr(d) == repr(t).replace("torch.", "chainrule.")
    for attr in ("is_floating_point", "is_complex", "is_signed", "itemsize"):
        assert getattr(d, attr) == getattr(t, attr), attr
    assert d == d and d != cr.float32


@pytest.mark.parametrize("name", ["bfloat16", "complex32", "complex64", "complex128"])
def test_finfo_matches_torch(name, torch):
    a, b = cr.finfo(getattr(cr, name)), torch.finfo(getattr(torch, name))
    for attr in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution"):
        assert getattr(a, attr) == getattr(b, attr), attr
    assert repr(a) == repr(b)


@pytest.mark.parametrize("name", ["uint16", "uint32", "uint64"])
def test_iinfo_matches_torch(name, torch):
    a, b = cr.iinfo(getattr(cr, name)), torch.iinfo(getattr(torch, name))
    assert (a.bits, a.min, a.max, a.dtype) == (b.bits, b.min, b.max, b.dtype)


@pytest.mark.parametrize("make", [
    lambda d: cr.zeros(2, dtype=d), lambda d: cr.ones(2).to(d), lambda d: cr.tensor([1], dtype=d),
    lambda d: cr.ones(2).type(d), lambda d: cr.nn.Linear(2, 2).to(d),
    lambda d: cr.set_default_dtype(d), lambda d: cr.arange(3, dtype=d),
])
@pytest.mark.parametrize("name", ["bfloat16", "cfloat", "uint32"])
def test_tensors_of_them_are_refused_with_the_reason(make, name):
    with pytest.raises(TypeError, match=f"chainrule has no {getattr(cr, name).name} tensors"):
        make(getattr(cr, name))
    assert cr.get_default_dtype() is cr.float32


def test_code_that_only_names_them_runs():
    x = cr.ones(2)
    assert x.dtype != cr.bfloat16 and not x.dtype.is_complex
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with cr.autocast("cpu", dtype=cr.bfloat16):
            assert (x * 2).dtype == cr.float32
