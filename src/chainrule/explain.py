"""``chainrule.explain``: the evaluation trace and both sweeps of a scalar function, as taught.

    v_i = phi_i(v_j, ...)                      (forward / evaluation trace)
    v̄_i = sum over consumers j of v̄_j * dv_j/dv_i   (reverse sweep, v̄_out = 1)
    v̇_i = sum over inputs j of dv_i/dv_j * v̇_j     (forward mode, v̇_x = 1)

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

import ast
import math
import threading
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from . import tensor_ops as T
from .autograd import forward_ad as fwad
from .autograd.engine import grad as _grad
from .autograd.function import Function
from .tensor import Tensor

BAR, DOT = "\u0304", "\u0307"  # combining macron (adjoint v̄) and dot above (tangent v̇)
_LOCK = threading.Lock()

# functions allowed in expression strings, mapped to chainrule operations
FUNCTIONS = {
    "sin": T.sin, "cos": T.cos, "tan": T.tan, "exp": T.exp, "log": T.log, "sqrt": T.sqrt,
    "tanh": T.tanh, "sigmoid": T.sigmoid, "relu": T.relu, "abs": T.abs, "log1p": T.log1p,
    "expm1": T.expm1,
}
CONSTANTS = {"pi": math.pi, "e": math.e}
_BINOPS = {ast.Add: T.add, ast.Sub: T.sub, ast.Mult: T.mul, ast.Div: T.div, ast.Pow: T.pow}

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


def parse(expression: str, names) -> callable:
    """Compile ``expression`` into a function of ``names`` built from chainrule operations.

    Only numbers, the given names (plus ``pi`` and ``e``), ``+ - * / **``, unary ``-``/``+``
    and calls of ``FUNCTIONS`` are allowed; anything else raises ``ValueError``. Identical
    sub-expressions are evaluated once.
    """
    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError as e:
        raise ValueError(f"explain: cannot parse {expression!r}: {e.msg}") from None
    names = list(names)

    def check(node):
        if isinstance(node, ast.Expression):
            return check(node.body)
        if isinstance(node, ast.Constant) and type(node.value) in (int, float):
            return
        if isinstance(node, ast.Name):
            if node.id not in names and node.id not in CONSTANTS:
                raise ValueError(f"explain: unknown name {node.id!r} in {expression!r}; give "
                                 f"its value as a keyword argument (have {names})")
            return
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            check(node.left)
            return check(node.right)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            return check(node.operand)
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id in FUNCTIONS and not node.keywords and len(node.args) == 1):
            return check(node.args[0])
        raise ValueError(
            f"explain: {ast.unparse(node)!r} is not allowed in an expression; use numbers, "
            f"names, + - * / ** and the functions {sorted(FUNCTIONS)}")

    check(tree)

    def fn(*values):
        env = dict(zip(names, values))
        memo = {}

        def ev(node):
            key = ast.dump(node)
            if key not in memo:
                memo[key] = _eval(node, ev, env)
            return memo[key]

        return ev(tree.body)

    return fn


def _eval(node, ev, env):
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        return env[node.id] if node.id in env else CONSTANTS[node.id]
    if isinstance(node, ast.BinOp):
        a, b = ev(node.left), ev(node.right)
        if not isinstance(a, Tensor) and not isinstance(b, Tensor):
            return _PY_BINOPS[type(node.op)](a, b)
        return _BINOPS[type(node.op)](a, b)
    if isinstance(node, ast.UnaryOp):
        a = ev(node.operand)
        return a if isinstance(node.op, ast.UAdd) else -a
    arg = ev(node.args[0])
    if not isinstance(arg, Tensor):
        arg = Tensor._make(np.asarray(float(arg)), False, None, 0)
    return FUNCTIONS[node.func.id](arg)


_PY_BINOPS = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b,
              ast.Mult: lambda a, b: a * b, ast.Div: lambda a, b: a / b,
              ast.Pow: lambda a, b: a ** b}


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

    def __init__(self, variables, n_inputs, wrt, source):
        self.variables = variables
        self.n_inputs = n_inputs
        self.wrt = wrt
        self.source = source
        self.value = variables[-1].value
        self.gradient = {v.expr: v.adjoint for v in variables[:n_inputs]}
        self.tangent = variables[-1].tangent

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
        grads = ", ".join(f"d/d{k} = {_fmt(g)}" for k, g in self.gradient.items())
        out.append(f"value = {_fmt(self.value)}; gradient: {grads}")
        return "\n".join(out)

    def markdown(self) -> str:
        out = []
        for title, header, rows in self.tables():
            out += [f"**{title}**", "", "| " + " | ".join(header) + " |",
                    "|" + "|".join(" --- " for _ in header) + "|"]
            out += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in rows]
            out.append("")
        grads = ", ".join(f"d/d{k} = {_fmt(g)}" for k, g in self.gradient.items())
        out.append(f"value = {_fmt(self.value)}; gradient: {grads}")
        return "\n".join(out)

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
        wrt: the input seeded with tangent 1 in the forward-mode table (default: the first).
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
    wrt = names[0] if wrt is None else wrt
    if wrt not in names:
        raise ValueError(f"explain: wrt={wrt!r} is not one of the inputs {names}")
    if isinstance(fn_or_expr, str):
        fn, source = parse(fn_or_expr, names), fn_or_expr
    elif callable(fn_or_expr):
        fn, source = fn_or_expr, getattr(fn_or_expr, "__name__", "f")
    else:
        raise TypeError("explain: expected a callable or an expression string, got "
                        f"{type(fn_or_expr).__name__}")
    xs = [Tensor._make(np.asarray(float(point[k])), True, None, 0) for k in names]
    with _recording() as calls:
        out = fn(*xs)
    if not isinstance(out, Tensor) or out.numel() != 1 or not out.requires_grad:
        raise ValueError(f"explain: {source} must return a scalar tensor that depends on the "
                         f"inputs, got {out!r}")
    variables = _trace(names, xs, calls, out)
    _sweeps(variables, len(names), out)
    seed = names.index(wrt)
    _tangents(variables, len(names), seed, fn, point, names)
    return Explanation(variables, len(names), wrt, source)


def _trace(names, xs, calls, out):
    n = len(names)
    variables = [Variable(f"v{i - n + 1}", k, float(x._data), tensors=[x])
                 for i, (k, x) in enumerate(zip(names, xs))]
    index = {id(x): i for i, x in enumerate(xs)}
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
        raise ValueError("explain: could not trace the output back to the recorded operations")
    return variables


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


def _tangents(variables, n, seed, fn, point, names):
    """Tangents from the partials, and again from chainrule's forward mode (checked)."""
    for i, v in enumerate(variables):
        if i < n:
            v.tangent = 1.0 if i == seed else 0.0
            v.tangent_expr = f"{v.tangent:g} (seed)"
            continue
        terms = [(p, variables[k]) for k, p in v.partials.items()]
        v.tangent = float(sum(p * u.tangent for (_, p), u in terms))
        v.tangent_expr = " + ".join(f"{_paren(t)} * {u.name}{DOT}" for (t, _), u in terms)
    with fwad.dual_level():
        xs = [fwad.make_dual(Tensor._make(np.asarray(float(point[k])), False, None, 0),
                             Tensor._make(np.asarray(float(i == seed)), False, None, 0))
              for i, k in enumerate(names)]
        out = fn(*xs)
        t = fwad.unpack_dual(out).tangent
        fw = 0.0 if t is None else float(t._data)
    if not math.isclose(fw, variables[-1].tangent, rel_tol=1e-9, abs_tol=1e-12):
        raise RuntimeError(f"explain: forward-mode tangent {fw} disagrees with the table's "
                           f"{variables[-1].tangent}; please report this")
