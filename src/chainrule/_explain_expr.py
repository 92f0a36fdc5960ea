"""Expression strings for ``chainrule.explain``: an AST whitelist, size limits and constant
folding that can neither hang nor overflow.

Limits (every refusal is an :class:`ExplainError`, a ``ValueError`` the CLI prints as one
line): at most :data:`MAX_LENGTH` characters, :data:`MAX_NODES` syntax nodes and
:data:`MAX_DEPTH` levels of nesting (a 3,000-term sum is refused before it is parsed).
Constant parts (``2**10``, ``sin(1)``, ``1/0``) are computed in Python first; a constant must
be a finite float64: an integer power whose result would pass 2**1024 (``9**9**9``) is refused
from an estimate of its size *before* it is computed, and division by zero, overflow or a
complex result (``(-8)**0.5``) is refused with the constant named.
"""

from __future__ import annotations

import ast
import math

import numpy as np

from .functions import elementwise as FE
from .functions import unary as FU
from .tensor import Tensor

MAX_LENGTH = 2000  #: characters in an expression string
MAX_NODES = 500  #: syntax-tree nodes
MAX_DEPTH = 100  #: nesting levels (a sum of n terms nests n levels)
_MAX_BITS = 1024  # float64's largest value is just below 2**1024

FUNCTIONS = {
    "sin": FU.sin, "cos": FU.cos, "tan": FU.tan, "exp": FU.exp, "log": FU.log, "sqrt": FU.sqrt,
    "tanh": FU.tanh, "sigmoid": FU.sigmoid, "relu": FU.relu, "abs": FU.abs, "log1p": FU.log1p,
    "expm1": FU.expm1,
}
CONSTANTS = {"pi": math.pi, "e": math.e}
_BINOPS = {ast.Add: FE.add, ast.Sub: FE.sub, ast.Mult: FE.mul, ast.Div: FE.div, ast.Pow: FE.pow}
_PY_BINOPS = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b,
              ast.Mult: lambda a, b: a * b, ast.Div: lambda a, b: a / b,
              ast.Pow: lambda a, b: a ** b}


class ExplainError(ValueError):
    """``explain`` cannot explain this expression or point: it is not allowed, too long or
    too deep, or a constant or value in it is not a finite float64. The message says which
    part and why."""


def _short(text: str, n: int = 60) -> str:
    return text if len(text) <= n else text[: n - 3] + "..."


def parse(expression: str, names) -> callable:
    """Compile ``expression`` into a function of ``names`` built from chainrule operations.

    Only numbers, the given names (plus ``pi`` and ``e``), ``+ - * / **``, unary ``-``/``+``
    and calls of ``FUNCTIONS`` are allowed; anything else raises :class:`ExplainError`.
    Identical sub-expressions are evaluated once; constant parts are folded (with limits).
    """
    names = list(names)
    expression = expression.strip()
    if len(expression) > MAX_LENGTH:
        raise ExplainError(f"explain: the expression is {len(expression)} characters long; "
                           f"at most {MAX_LENGTH} are explained (the tables would be "
                           "unreadable long before)")
    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError as e:
        raise ExplainError(f"explain: cannot parse {_short(expression)!r}: {e.msg}") from None
    except (RecursionError, MemoryError, ValueError):
        raise ExplainError(f"explain: {_short(expression)!r} is nested too deeply to parse "
                           f"(at most {MAX_DEPTH} levels)") from None
    _check_size(tree, expression)
    functions = set()  # the Name nodes that are the function of an allowed call
    for node in ast.walk(tree):  # breadth first: a call is checked before its function name
        if id(node) not in functions:
            _check_node(node, names, expression)
        if isinstance(node, ast.Call):
            functions.add(id(node.func))

    def fn(*values):
        env = dict(zip(names, values))
        memo = {}

        def ev(node):
            key = ast.dump(node)
            if key not in memo:
                memo[key] = _eval(node, ev, env, expression)
            return memo[key]

        return ev(tree.body)

    return fn


def _check_size(tree, expression: str) -> None:
    count, stack = 0, [(tree, 1)]
    while stack:  # iterative: a deep tree must not overflow the stack while it is measured
        node, depth = stack.pop()
        count += 1
        if depth > MAX_DEPTH or count > MAX_NODES:
            what = f"nests more than {MAX_DEPTH} levels" if depth > MAX_DEPTH else (
                f"has more than {MAX_NODES} parts")
            raise ExplainError(f"explain: {_short(expression)!r} {what}; explain shows small "
                               "expressions (split it, or explain a function of fewer terms)")
        stack.extend((c, depth + 1) for c in ast.iter_child_nodes(node))


def _check_node(node, names, expression: str) -> None:
    if isinstance(node, (ast.Expression, ast.Load, ast.operator, ast.unaryop)):
        return  # operators are judged with the BinOp/UnaryOp that holds them
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        _finite(node.value, ast.unparse(node), expression)
        return
    if isinstance(node, ast.Name):
        if node.id not in names and node.id not in CONSTANTS:
            raise ExplainError(f"explain: unknown name {node.id!r} in {_short(expression)!r}; "
                               f"give its value as a keyword argument {node.id}=... (on the "
                               f"command line: --at {node.id}=VALUE); have {names}")
        return
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
        return
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        return
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and node.func.id in FUNCTIONS and not node.keywords and len(node.args) == 1):
        return
    raise ExplainError(
        f"explain: {_short(ast.unparse(node))!r} is not allowed in an expression; use "
        f"numbers, names, + - * / ** and the functions {sorted(FUNCTIONS)}")


def _finite(value, text: str, expression: str):
    """``value`` if it is a finite float64-representable number, else ExplainError."""
    if isinstance(value, complex):
        raise ExplainError(f"explain: the constant {_short(text)} in {_short(expression)!r} "
                           "is not a real number")
    try:
        ok = math.isfinite(float(value))
    except OverflowError:
        ok = False
    if not ok:
        why = "too large" if isinstance(value, int) else value
        raise ExplainError(f"explain: the constant {_short(text)} in {_short(expression)!r} "
                           f"is not a finite float64 ({why}); explain computes in float64, "
                           "whose largest value is about 1.8e308")
    return value


def _power_bits(base, exp) -> float:
    """log2 of |base ** exp| for integer operands (an estimate; 0 when it cannot grow)."""
    if exp <= 0 or abs(base) <= 1:
        return 0.0
    return exp * math.log2(abs(base))


def _fold(node, a, b, expression: str):
    op = type(node.op)
    text = ast.unparse(node)
    if op is ast.Pow and isinstance(a, int) and isinstance(b, int) and \
            _power_bits(a, b) > _MAX_BITS:
        digits = int(_power_bits(a, b) * math.log10(2)) + 1
        raise ExplainError(f"explain: the constant {_short(text)} in {_short(expression)!r} "
                           f"has about {digits} digits, far beyond float64 (about 1.8e308); "
                           "it is refused before it is computed")
    try:
        value = _PY_BINOPS[op](a, b)
    except ZeroDivisionError:
        raise ExplainError(f"explain: division by zero in the constant {_short(text)} of "
                           f"{_short(expression)!r}") from None
    except OverflowError:
        raise ExplainError(f"explain: the constant {_short(text)} in {_short(expression)!r} "
                           "overflows float64 (largest about 1.8e308)") from None
    return _finite(value, text, expression)


def _eval(node, ev, env, expression: str):
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        return env[node.id] if node.id in env else CONSTANTS[node.id]
    if isinstance(node, ast.BinOp):
        a, b = ev(node.left), ev(node.right)
        if not isinstance(a, Tensor) and not isinstance(b, Tensor):
            return _fold(node, a, b, expression)
        return _BINOPS[type(node.op)](a, b)
    if isinstance(node, ast.UnaryOp):
        a = ev(node.operand)
        return a if isinstance(node.op, ast.UAdd) else -a
    arg = ev(node.args[0])
    if isinstance(arg, Tensor):
        return FUNCTIONS[node.func.id](arg)
    with np.errstate(all="ignore"):
        out = FUNCTIONS[node.func.id](Tensor._make(np.asarray(float(arg)), False, None, 0))
    value = float(out._data)
    if not math.isfinite(value):
        raise ExplainError(f"explain: the constant {_short(ast.unparse(node))} in "
                           f"{_short(expression)!r} is {value}, not a finite number")
    return value
