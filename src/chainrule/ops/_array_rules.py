"""The primitives whose backward rule the engine may run on NumPy arrays.

A backward rule is written once, with tensor operations, so it can itself be recorded
(``create_graph=True``), checked (anomaly mode), traced (compile) or batched (vmap). In the
common pass -- none of those -- the engine (``autograd/engine.py``) keeps every gradient in
flight as a plain array and calls the rule with ``STATE.arrays`` set: ``Function.apply``
then returns ``forward``'s array without making a tensor or a node, ``ctx.saved_tensors``
gives the saved arrays, and ``_View.apply`` makes no view links. The same NumPy calls run in
the same order, so the gradients are bit-for-bit those of the tensor pass (checked rule by
rule in tests/autograd/test_array_rules.py); what is saved is a tensor and a wrapper call
per operation (about 1-2 us each).

A rule qualifies when everything it does to its values is one of: a primitive's ``apply``,
an arithmetic operator (``+ - * /``, unary minus) between values of one dtype or with a
Python number, ``ndim``/``shape``/``reshape`` of a tuple, and ``sum(axis)`` -- operations
that mean the same on an array and on a tensor. A rule that calls other tensor methods
(``x.cos()``, ``x.sign()``, ``t.expand(...)``), chainrule functions, or reads the tensors'
own attributes stays off this list and runs on tensors (the engine wraps its gradients).
"""

from __future__ import annotations

from . import elementwise as _e
from . import linalg as _la
from . import reduction as _r
from . import rnn_cell_ops as _rc
from . import shape as _s
from . import unary as _u

ARRAY_RULES = (
    _e.Add, _e.Sub, _e.Mul, _e.Div, _e.Neg, _e.Cast,
    _u.Exp, _u.Expm1, _u.Log, _u.Log1p, _u.Sqrt, _u.Tan, _u.Tanh, _u.Sigmoid, _u.Relu,
    _u.TanhGrad, _u.SigmoidGrad, _u.ReluGrad,
    _r.Sum, _r.Mean,
    _s.Reshape, _s.Permute, _s.Expand, _s.Getitem, _s.IndexAdd, _s.Cat,
    _la.MatMul, _la.Linear,
    _rc.LSTMCellAct, _rc.GRUCellAct,
)

for _cls in ARRAY_RULES:
    _cls._vjp_arrays = True
