"""``einsum``: Einstein summation (``torch.einsum``) composed from diagonals, sums,
permutes, reshapes and batched matmuls, so it has reverse and forward derivatives and
batches under vmap.

Supported: explicit (``"ij,jk->ik"``) and implicit (``"ij,jk"``: the letters that appear
once, sorted) outputs; ``...`` (broadcast batch dims, first in an implicit output);
repeated letters in one operand (diagonals: ``"ii->i"``, traces ``"ii"``); size-1
broadcasting; the sublist format ``einsum(a, [0, 1], b, [1, 2], [0, 2])``.

Operands are contracted left to right: letters only one operand has (and the output does
not) are summed first, then each pair is one batched matmul (shared letters kept by the
output or a later operand are the batch, shared letters not needed later the contraction).
"""

from __future__ import annotations

import builtins
import string

from ..linalg_ops import diagonal
from .shape import permute, reshape
from ..tensor import Tensor

_LETTERS = string.ascii_uppercase + string.ascii_lowercase


def _from_sublists(args):
    ops, terms = [], []
    args = list(args)
    out = None
    while args:
        if isinstance(args[0], Tensor) and len(args) >= 2:
            ops.append(args.pop(0))
            terms.append(args.pop(0))
        else:
            out = args.pop(0)
            break

    def term(sub):
        s = ""
        for i in sub:
            if i is Ellipsis:
                s += "..."
            elif isinstance(i, int) and 0 <= i < 52:
                s += _LETTERS[i]
            else:
                raise ValueError(f"einsum(): subscript in subscript list is not within the "
                                 f"valid range [0, 52), got {i!r}")
        return s

    eq = ",".join(term(t) for t in terms)
    if out is not None:
        eq += "->" + term(out)
    return eq, ops


def _expand_ellipsis(terms, out, operands):
    nell = 0
    for t, x in zip(terms, operands):
        if "..." in t:
            nell = builtins.max(nell, x._data.ndim - (len(t) - 3))
    labels = [chr(0x4E00 + k) for k in range(nell)]  # characters no equation uses
    new = []
    for t, x in zip(terms, operands):
        if "..." in t:
            e = x._data.ndim - (len(t) - 3)
            if e < 0:
                raise RuntimeError(f"einsum(): the operand '{t}' has fewer dims "
                                   f"({x._data.ndim}) than its subscripts")
            t = t.replace("...", "".join(labels[nell - e:]))
        new.append(t)
    if out is not None:
        out = out.replace("...", "".join(labels))
    return new, out, "".join(labels)


def einsum(*args):
    """Einstein summation over the operands' subscripts (see the module docstring).

    Example::

        >>> a, b = chainrule.randn(2, 3, 4), chainrule.randn(2, 4, 5)
        >>> chainrule.einsum("bij,bjk->bik", a, b).shape
        chainrule.Size([2, 3, 5])
    """
    if args and isinstance(args[0], str):
        equation, operands = args[0], list(args[1:])
        if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
            operands = list(operands[0])
    else:
        equation, operands = _from_sublists(args)
    eq = equation.replace(" ", "")
    lhs, out = eq.split("->") if "->" in eq else (eq, None)
    terms = lhs.split(",")
    if len(terms) != len(operands):
        raise RuntimeError("einsum(): more operands were provided than specified in the "
                           "equation" if len(operands) > len(terms) else
                           "einsum(): fewer operands were provided than specified in the "
                           "equation")
    terms, out, ell = _expand_ellipsis(terms, out, operands)
    if out is None:
        counts = {}
        for c in "".join(terms):
            counts[c] = counts.get(c, 0) + 1
        out = ell + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in ell))
    sizes = {}
    ops = []
    for t, x in zip(terms, operands):
        if len(t) != x._data.ndim:
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({len(t)}) "
                               f"does not match the number of dimensions ({x._data.ndim}) "
                               f"for operand {len(ops)}")
        x, t = _diagonals(x, t)
        for c, s in zip(t, x._data.shape):
            if c in sizes and sizes[c] != s and 1 not in (s, sizes[c]):
                raise RuntimeError(f"einsum(): operands do not broadcast with remapped "
                                   f"shapes: subscript {c} has sizes {sizes[c]} and {s}")
            sizes[c] = builtins.max(sizes.get(c, 1), s)
        ops.append((x, t))
    for c in out:
        if c not in sizes:
            raise RuntimeError(f"einsum(): output subscript {c} does not appear in the "
                               "equation for any input operand")
    # sum the letters that one operand alone has and the output does not want
    for k, (x, t) in enumerate(ops):
        others = "".join(tt for j, (_, tt) in enumerate(ops) if j != k) + out
        drop = [i for i, c in enumerate(t) if c not in others]
        if drop:
            x = x.sum(tuple(drop))
            t = "".join(c for i, c in enumerate(t) if i not in drop)
        ops[k] = (x, t)
    x, t = ops[0]
    for k in range(1, len(ops)):
        later = "".join(tt for _, tt in ops[k + 1:]) + out
        x, t = _pair(x, t, ops[k][0], ops[k][1], later, sizes)
    drop = tuple(i for i, c in enumerate(t) if c not in out)
    if drop:
        x = x.sum(drop)
        t = "".join(c for i, c in enumerate(t) if i not in drop)
    if t != out:
        x = permute(x, [t.index(c) for c in out])
    return x


def _diagonals(x, t):
    """Take diagonals for letters repeated within one operand's subscripts."""
    while len(set(t)) != len(t):
        c = next(c for c in t if t.count(c) > 1)
        i = t.index(c)
        j = t.index(c, i + 1)
        if x._data.shape[i] != x._data.shape[j]:
            raise RuntimeError(f"einsum(): subscript {c} is repeated for operand but the "
                               f"sizes don't match, {x._data.shape[i]} != {x._data.shape[j]}")
        x = diagonal(x, 0, i, j)
        t = "".join(ch for k, ch in enumerate(t) if k not in (i, j)) + c
    return x, t


def _pair(a, ta, b, tb, later, sizes):
    batch = [c for c in ta if c in tb and c in later]
    contract = [c for c in ta if c in tb and c not in later]
    a_only = [c for c in ta if c not in tb]
    b_only = [c for c in tb if c not in ta]

    def arrange(x, t, order):
        x = permute(x, [t.index(c) for c in order]) if list(t) != order else x
        want = tuple(sizes[c] for c in order)
        if tuple(x._data.shape) != want:
            x = x.expand(*want)
        return x

    a = arrange(a, ta, batch + a_only + contract)
    b = arrange(b, tb, batch + contract + b_only)

    def prod(cs):
        n = 1
        for c in cs:
            n *= sizes[c]
        return n

    nb, m, k, n = prod(batch), prod(a_only), prod(contract), prod(b_only)
    out = reshape(a, (nb, m, k)) @ reshape(b, (nb, k, n))
    shape = tuple(sizes[c] for c in batch + a_only + b_only)
    return reshape(out, shape), "".join(batch + a_only + b_only)


__all__ = ["einsum"]
