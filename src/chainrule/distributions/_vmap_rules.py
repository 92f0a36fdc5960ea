"""Batching rules for ``vmap`` of the distributions' primitives: all are elementwise, so a
batched call is one call on the whole batch (chainrule.func's ``unary``/``elementwise``)."""

from __future__ import annotations

from ..func._batching import elementwise, register, unary
from ._bessel import LogBesselI
from ._gamma import Gammainc
from ._special import Atan, Erfinv, Lgamma, Polygamma

for _cls in (Lgamma, Polygamma, Erfinv, Atan, LogBesselI):
    register(_cls, unary)
register(Gammainc, elementwise)
