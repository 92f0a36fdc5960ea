"""The public functions of the special-function primitives (``ops/special.py``) at the top
level: ``chainrule.lgamma``, ``digamma``, ``erfc``, ``erfinv``, ``i0``, and the top-level
names of ``torch.special`` functions (``mvlgamma``, ``igamma``, ``igammac``). The
``torch.special`` namespace itself is ``chainrule/special.py``. Integer inputs are computed in
the default float dtype (as PyTorch)."""

from __future__ import annotations

from ..ops import special as SP
from ..special import gammainc, gammaincc, multigammaln
from .elementwise_extra import _float_fn


erfc = _float_fn(SP.Erfc, "erfc")
erfinv = _float_fn(SP.Erfinv, "erfinv")
lgamma = _float_fn(SP.Lgamma, "lgamma")
digamma = _float_fn(SP.Digamma, "digamma")
i0 = _float_fn(SP.I0, "i0")


def mvlgamma(input, p):  # noqa: A002
    return multigammaln(input, p)


def igamma(input, other):  # noqa: A002
    return gammainc(input, other)


def igammac(input, other):  # noqa: A002
    return gammaincc(input, other)


__all__ = ["digamma", "erfc", "erfinv", "i0", "igamma", "igammac", "lgamma", "mvlgamma"]
