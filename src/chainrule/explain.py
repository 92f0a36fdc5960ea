"""``chainrule.explain``: the evaluation trace and both sweeps of a scalar function, as taught.

    v_i = phi_i(v_j, ...)                      (forward / evaluation trace)
    v̄_i = sum over consumers j of v̄_j * dv_j/dv_i   (reverse sweep, v̄_out = 1)
    v̇_i = sum over inputs j of dv_i/dv_j * v̇_j     (forward mode, v̇_x = 1)

Inputs are numbered from the function's own: the inputs some operation reads are
``v{1-m} .. v0`` in keyword order, operations ``v1, v2, ...``; an input nothing reads (``y``
in ``explain("x**2", x=1, y=2)``) gets no row and no number, is listed under the tables as
unused, and has gradient 0. Values or local partials that are not finite (``log(x)`` at 0)
and the limits of expression strings raise :class:`ExplainError` (a ``ValueError``).

The function runs once on chainrule tensors; every primitive call (``Function.apply``) is
recorded with its arguments and output, identical calls are merged (``x**2`` written twice
is one variable, as in the course's tables). Local partials come from chainrule's autograd
on the recorded graph, tangents from its forward mode, and the adjoints of the sweep are
checked against ``autograd.grad`` of the output with respect to every intermediate tensor.

Example::

    e = explain("cos(sin(x**2) + 3*x**2)", x=1.5)
    print(e.text())          # three aligned tables
    e.gradient["x"]          # dJ/dx
    explain(lambda w, x: -cr.log(cr.sigmoid(w * x)), w=3.0, x=3.0).markdown()
"""

from __future__ import annotations

import math
import threading
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from ._explain_expr import (  # noqa: F401  (public here: chainrule.explain.parse, ...)
    CONSTANTS, FUNCTIONS, MAX_DEPTH, MAX_LENGTH, MAX_NODES, ExplainError, parse,
)
from .autograd import forward_ad as fwad
from .autograd.engine import grad as _grad
from .autograd.function import Function
from .tensor import Tensor

MAX_VARIABLES = 1000  #: recorded operations of a callable, at most
BAR, DOT = "\u0304", "\u0307"  # combining macron (adjoint v̄) and dot above (tangent v̇)
_LOCK = threading.Lock()

# name -> (expression template, partial templates per argument); {0}, {1} are the
# arguments, {out} the variable itself
_OPS = {
    "Add": ("{0} + {1}", ("1", "1")), "Sub": ("{0} - {1}", ("1", "-1")),
    "Mul": ("{0} * {1}", ("{1}", "{0}")), "Div": ("{0} / {1}", ("1/{1}", "-{0}/{1}^2")),
    "Neg": ("-{0}", ("-1",)), "Pow": ("{0}^{1}", ("{1}*{0}^({1}-1)", "{out}*log({0})")),
    "Exp": ("exp({0})", ("{out}",)), "Log": ("log({0})", ("1/{0}",)),
    "Sin": ("sin({0})", ("cos({0})",)), "Cos": ("cos({0})", ("-sin({0})",)),
    "Tan": ("tan({0})", ("1 + {out}^2",)), "Tanh": ("tanh({0})", ("1 - {out}^2",)),
    "Sigmoid": ("sigmoid({0})", ("{out}*(1 - {out})",)), "Relu": ("relu({0})", ("[{0} > 0]",)),
    "Sqrt": ("sqrt({0})", ("1/(2*{out})",)), "Abs": ("|{0}|", ("sign({0})",)),
    "Log1p": ("log(1 + {0})", ("1/(1 + {0})",)), "Expm1": ("exp({0}) - 1", ("{out} + 1",)),
}


@contextmanager
def _recording():
    """Record every ``Function.apply(cls, *args) -> out`` made inside the block."""
    calls = []
    original = Function.__dict__["apply"]

    def apply(cls, *args):
        out = original.__func__(cls, *args)
        calls.append((cls, args, out))
        return out

    with _LOCK:
        Function.apply = classmethod(apply)
        try:
            yield calls
        finally:
            Function.apply = original


@dataclass
class Variable:
    """One row of the trace: ``name = expr`` with its value, partials, adjoint and tangent."""

    name: str
    expr: str  # e.g. "sin(v1)"; the input's own name for inputs
    value: float
    inputs: list = field(default_factory=list)  # indices of the variables it reads
    partials: dict = field(default_factory=dict)  # input index -> (template, number)
    adjoint: float = 0.0
    adjoint_expr: str = ""
    adjoint_autograd: float = 0.0
    tangent: float = 0.0
    tangent_expr: str = ""
    tensors: list = field(default_factory=list, repr=False)
    args: tuple = field(default=(), repr=False)
    op: str = ""


def _fmt(v) -> str:
    return f"{v:.6g}" if isinstance(v, float) else str(v)


class Explanation:
    """The result of ``explain``: ``.variables`` (rows), ``.value``, ``.gradient`` and
    ``.tangent`` as numbers, ``.text()`` / ``.markdown()`` as tables."""

    def __init__(self, variables, n_inputs, wrt, source, names=None):
        self.variables = variables
        self.n_inputs = n_inputs
        self.wrt = wrt
        self.source = source
        self.value = variables[-1].value
        used = {v.expr: v.adjoint for v in variables[:n_inputs]}
        names = list(used) if names is None else names
        self.unused = [k for k in names if k not in used]  # inputs no operation reads
        self.gradient = {k: used.get(k, 0.0) for k in names}
        self.tangent = variables[-1].tangent

    def _footer(self) -> list:
        grads = ", ".join(f"d/d{k} = {_fmt(g)}" for k, g in self.gradient.items())
        out = [f"value = {_fmt(self.value)}; gradient: {grads}"]
        if self.unused:
            out.append(f"not used by {self.source}: {', '.join(self.unused)} (no row, "
                       "gradient 0)")
        return out

    def tables(self):
        """(title, header, rows) for the forward trace, the reverse sweep and forward mode."""
        vs = self.variables
        trace = []
        for v in vs:
            parts = ", ".join(f"d{v.name}/d{vs[k].name} = {t}" + ("" if _is_number(t) else
                                                                   f" = {_fmt(n)}")
                              for k, (t, n) in v.partials.items())
            expr = f"{v.name} = {v.expr}"
            trace.append((v.name, expr, _fmt(v.value), parts))
        reverse = [(v.name + BAR, f"{v.name}{BAR} = {v.adjoint_expr}", _fmt(v.adjoint))
                   for v in reversed(vs)]
        forward = [(v.name, _fmt(v.value), f"{v.name}{DOT} = {v.tangent_expr}", _fmt(v.tangent))
                   for v in vs]
        return [
            (f"Evaluation trace of {self.source}",
             ("variable", "expression", "value", "local partials"), trace),
            ("Reverse sweep (adjoints, last to first)", ("adjoint", "chain rule", "value"),
             reverse),
            (f"Forward mode (tangents, seed d{self.wrt} = 1)",
             ("variable", "value", "tangent", "tangent value"), forward),
        ]

    def text(self) -> str:
        out = []
        for title, header, rows in self.tables():
            widths = [max(_width(r[i]) for r in [header, *rows]) for i in range(len(header))]
            line = lambda r: "  ".join(_pad(c, w) for c, w in zip(r, widths)).rstrip()
            out += [title, line(header), "  ".join("-" * w for w in widths)]
            out += [line(r) for r in rows]
            out.append("")
        return "\n".join(out + self._footer())

    def markdown(self) -> str:
        out = []
        for title, header, rows in self.tables():
            out += [f"**{title}**", "", "| " + " | ".join(header) + " |",
                    "|" + "|".join(" --- " for _ in header) + "|"]
            out += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in rows]
            out.append("")
        return "\n".join(out + self._footer())

    __str__ = text

    def _repr_markdown_(self):
        return self.markdown()


def _is_number(s):
    try:
        float(s)
    except ValueError:
        return False
    return True


def _width(s):
    return sum(0 if unicodedata.combining(c) else 1 for c in s)


def _pad(s, w):
    return s + " " * (w - _width(s))


def explain(fn_or_expr, wrt: str | None = None, **point) -> Explanation:
    """Evaluation trace, reverse sweep and forward-mode table of a scalar function at a point.

    Args:
        fn_or_expr: a callable taking the point's values as chainrule scalars (keyword
            order), or an expression string such as ``"cos(sin(x**2) + 3*x**2)"``.
        wrt: the input seeded with tangent 1 in the forward-mode table (default: the first
            input the function reads).
        **point: the input values, e.g. ``x=1.5``.

    Example::

        >>> explain("-y*log(sigmoid(w*x))", w=3.0, x=3.0, y=1.0).gradient["w"]
        -0.000370...
    """
    if not point:
        raise ValueError("explain: give the point as keyword arguments, e.g. explain(f, x=1.5)")
    names = list(point)
    for k, v in point.items():
        if not isinstance(v, (int, float, np.number)) or isinstance(v, bool):
            raise TypeError(f"explain: the value of {k} must be a real number, got {v!r}")
        if not math.isfinite(float(v)):
            raise ExplainError(f"explain: the value of {k} must be finite, got {v!r}")
    if wrt is not None and wrt not in names:
        raise ExplainError(f"explain: wrt={wrt!r} is not one of the inputs {names}")
    if isinstance(fn_or_expr, str):
        fn, source = parse(fn_or_expr, names), fn_or_expr.strip()
    elif callable(fn_or_expr):
        fn, source = fn_or_expr, getattr(fn_or_expr, "__name__", "f")
    else:
        raise TypeError("explain: expected a callable or an expression string, got "
                        f"{type(fn_or_expr).__name__}")
    xs = [Tensor._make(np.asarray(float(point[k])), True, None, 0) for k in names]
    with np.errstate(all="ignore"):
        with _recording() as calls:
            out = fn(*xs)
        if not isinstance(out, Tensor) or out.numel() != 1 or not out.requires_grad:
            raise ExplainError(f"explain: {source} must return a scalar tensor that depends on "
                               f"the inputs, got {out!r}")
        if len(calls) > MAX_VARIABLES:
            raise ExplainError(f"explain: {source} made {len(calls)} operations; explain shows "
                               f"at most {MAX_VARIABLES} (explain a smaller function)")
        variables, n = _trace(names, xs, calls, out)
        _check_finite(variables, point)
        wrt = wrt if wrt is not None else variables[0].expr  # the first input it reads
        _sweeps(variables, n, out)
        _tangents(variables, n, wrt, fn, point, names)
    return Explanation(variables, n, wrt, source, names)


def _check_finite(variables, point) -> None:
    at = ", ".join(f"{k}={_fmt(float(v))}" for k, v in point.items())
    for v in variables:
        bad = [f"d{v.name}/d{variables[k].name} = {p}" for k, (_, p) in v.partials.items()
               if not math.isfinite(p)]
        if not math.isfinite(v.value) or bad:
            what = f"is {_fmt(v.value)}" if not math.isfinite(v.value) else (
                f"has the local partial {bad[0]}")
            raise ExplainError(f"explain: {v.name} = {v.expr} {what} at {at}; the tables need "
                               "finite numbers: choose a point where the function and its "
                               "derivative are finite")


def _used_inputs(xs, calls, out) -> set:
    """ids of the inputs some recorded operation (of the ones the trace keeps) reads."""
    inputs = {id(x) for x in xs}
    known, used = set(inputs), {id(out)} & inputs
    for _, args, res in calls:
        if isinstance(res, Tensor) and res.requires_grad:
            refs = {id(a) for a in args if isinstance(a, Tensor) and id(a) in known}
            if refs:
                used |= refs & inputs
                known.add(id(res))
    return used


def _trace(names, xs, calls, out):
    used = _used_inputs(xs, calls, out)
    kept = [(k, x) for k, x in zip(names, xs) if id(x) in used]
    n = len(kept)
    variables = [Variable(f"v{i - n + 1}", k, float(x._data), tensors=[x])
                 for i, (k, x) in enumerate(kept)]
    index = {id(x): i for i, (_, x) in enumerate(kept)}
    merged = {}
    for cls, args, res in calls:
        if not isinstance(res, Tensor) or not res.requires_grad or not any(
                isinstance(a, Tensor) and id(a) in index for a in args):
            continue  # a constant, an inner call of a user Function, another thread's op
        keys = tuple(("v", index[id(a)]) if isinstance(a, Tensor) and id(a) in index
                     else ("c", _const(a)) for a in args)
        key = (cls, keys)
        if key in merged:  # the same operation on the same operands: the same variable
            v = variables[merged[key]]
            v.tensors.append(res)
            index[id(res)] = merged[key]
            continue
        op = cls.__name__.lstrip("_")
        shown = [variables[k].name if t == "v" else _fmt(k) for t, k in keys]
        generic = op + "(" + ", ".join("{" + str(i) + "}" for i in range(len(shown))) + ")"
        template, partials = _OPS.get(op, (generic, None))
        name = f"v{len(variables) - n + 1}"
        v = Variable(name, template.format(*shown, out=name), float(res._data),
                     inputs=sorted({k for t, k in keys if t == "v"}), tensors=[res],
                     args=args, op=op)
        for k in v.inputs:
            pos = [p for p, key_p in enumerate(keys) if key_p == ("v", k)]
            if op == "Pow" and keys[1][0] == "c" and pos == [0]:
                n_ = keys[1][1]
                tpl = f"{_fmt(n_)}*{{0}}" if n_ == 2 else f"{_fmt(n_)}*{{0}}^{_fmt(n_ - 1)}"
                text = tpl.format(*shown)
            elif partials is not None:
                tpl = " + ".join(partials[p] for p in pos)
                text = tpl.format(*shown, out=name)
            else:
                text = f"d{op}/d{variables[k].name}"
            tensors = list({id(args[p]): args[p] for p in pos}.values())  # x*x: once
            g = _grad([res], tensors, retain_graph=True, allow_unused=True)
            v.partials[k] = (text, float(sum(0.0 if gi is None else gi._data for gi in g)))
        merged[key] = len(variables)
        index[id(res)] = len(variables)
        variables.append(v)
    if id(out) not in index or index[id(out)] != len(variables) - 1:
        raise ExplainError("explain: could not trace the output back to the recorded "
                           "operations")
    return variables, n


def _const(a):
    if isinstance(a, Tensor):
        return float(a._data) if a.numel() == 1 else f"tensor{tuple(a.shape)}"
    return a


def _sweeps(variables, n, out):
    """Adjoints in reverse order from the local partials; checked against autograd."""
    last = len(variables) - 1
    consumers = {i: [] for i in range(len(variables))}
    for j, v in enumerate(variables):
        for k in v.inputs:
            consumers[k].append(j)
    for i in range(last, -1, -1):
        v = variables[i]
        if i == last:
            v.adjoint, v.adjoint_expr = 1.0, "1 (seed)"
            continue
        terms = [(variables[j], variables[j].partials[i]) for j in consumers[i]]
        v.adjoint = float(sum(w.adjoint * p for w, (_, p) in terms))
        v.adjoint_expr = " + ".join(f"{w.name}{BAR} * {_paren(t)}" for w, (t, _) in terms) or "0"
        if terms:
            v.adjoint_expr += " = " + " + ".join(f"{_fmt(w.adjoint)}*{_fmt(p)}"
                                                 for w, (_, p) in terms)
    tensors = [t for v in variables for t in v.tensors]
    owner = [i for i, v in enumerate(variables) for _ in v.tensors]
    grads = _grad([out], tensors, retain_graph=True, allow_unused=True)
    for i, g in zip(owner, grads):
        variables[i].adjoint_autograd += 0.0 if g is None else float(g._data)
    for v in variables[:-1]:
        a, b = v.adjoint, v.adjoint_autograd
        if not math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12) and not (
                math.isnan(a) and math.isnan(b)):
            raise RuntimeError(f"explain: the chain-rule sum for {v.name} ({a}) disagrees with "
                               f"autograd ({b}); please report this")


def _paren(t):
    return t if t.replace(".", "").replace("-", "", 1).isalnum() else f"({t})"


def _tangents(variables, n, wrt, fn, point, names):
    """Tangents from the partials, and again from chainrule's forward mode (checked)."""
    for i, v in enumerate(variables):
        if i < n:
            v.tangent = 1.0 if v.expr == wrt else 0.0
            v.tangent_expr = f"{v.tangent:g} (seed)"
            continue
        terms = [(p, variables[k]) for k, p in v.partials.items()]
        v.tangent = float(sum(p * u.tangent for (_, p), u in terms))
        v.tangent_expr = " + ".join(f"{_paren(t)} * {u.name}{DOT}" for (t, _), u in terms)
    with fwad.dual_level():
        xs = [fwad.make_dual(Tensor._make(np.asarray(float(point[k])), False, None, 0),
                             Tensor._make(np.asarray(float(k == wrt)), False, None, 0))
              for k in names]
        out = fn(*xs)
        t = fwad.unpack_dual(out).tangent
        fw = 0.0 if t is None else float(t._data)
    if not math.isclose(fw, variables[-1].tangent, rel_tol=1e-9, abs_tol=1e-12):
        raise RuntimeError(f"explain: forward-mode tangent {fw} disagrees with the table's "
                           f"{variables[-1].tangent}; please report this")
