"""Run program nodes one at a time on a dict of arrays (no planning, no buffers).

Used where a node must be evaluated on its own: constant folding before ONNX translation,
and checking a program against eager results while debugging. Each kind runs the same
NumPy call replay.py would emit (see program.py for the kinds).
"""

from __future__ import annotations

import operator

import numpy as np

from .program import Value
from .replay import sview
from .units import kernel

_READ = {"__float__": float, "__int__": int, "__bool__": bool, "__index__": operator.index,
         "__complex__": complex}


class GuardFailedError(RuntimeError):
    """A guard node saw another value than when the program was recorded."""


def substitute(x, env):
    t = type(x)
    if t is Value:
        return env[x]
    if t is tuple:
        return tuple(substitute(i, env) for i in x)
    if t is list:
        return [substitute(i, env) for i in x]
    if t is dict:
        return {k: substitute(v, env) for k, v in x.items()}
    if t is slice:
        return slice(substitute(x.start, env), substitute(x.stop, env), substitute(x.step, env))
    return x


def run_node(n, env) -> None:
    """Evaluate node ``n`` reading its inputs from ``env`` (Value -> array) and storing
    its outputs there. Primitives with a body run their body."""
    if n.kind == "prim" and n.body is not None:
        for b in n.body:
            run_node(b, env)
        return
    args = substitute(n.args, env)
    kwargs = substitute(n.kwargs, env)
    k = n.kind
    if k == "ufunc":
        m = n.info.get("method", "__call__")
        res = (n.fn if m == "__call__" else getattr(n.fn, m))(*args, **kwargs)
    elif k in ("func", "create"):
        res = n.fn(*args, **kwargs)
    elif k == "method":
        recv, rest = args[0], args[1:]
        if n.fn == "__getitem__":
            res = recv[rest[0]]
        elif n.fn == "__setitem__":
            recv[rest[0]] = rest[1]
            res = None
        else:
            res = getattr(recv, n.fn)(*rest, **kwargs)
    elif k == "view":
        i = n.info
        res = sview(args[0], i["shape"], i["strides"], i["offset"], i["dtype"])
    elif k == "rng":
        gen, method = n.fn
        res = getattr(gen, method)(*args)
    elif k == "prim":
        res = kernel(n)(*args)
    elif k == "guard":
        read = _READ.get(n.fn)
        got = read(args[0]) if read else getattr(args[0], n.fn)(*args[1:])
        if got != n.info["expect"]:
            raise GuardFailedError(f"{n.fn} gave {got!r}, recorded {n.info['expect']!r}")
        return
    else:
        raise RuntimeError(f"cannot evaluate a {k} node ({n.op})")
    outs = n.outputs
    if not outs:
        return
    if len(outs) == 1 and k != "prim":
        env[outs[0]] = np.asarray(res) if not isinstance(res, np.ndarray) else res
        return
    for v, r in zip(outs, res):
        env[v] = r
