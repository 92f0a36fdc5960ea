"""The convolution kernels split over the batch for chainrule's intra-op pool (``_parallel``).

Each piece of samples runs the one-thread kernel of ``_conv_kernels`` on its slice, writing
its slice of the result (forward, input gradient) or returning its partial weight gradient,
summed here in piece order. The forward's kept columns are one (K, P) array in the "nhw"
order, whose column blocks are the pieces' own columns; an "hwn" forward keeps none (the
weight gradient then rebuilds them, piece by piece). One thread: the kernels as they are.
"""

from __future__ import annotations

import numpy as np

from . import _conv_kernels as K
from . import _parallel as P


def _split(out_bytes, *arrays):
    """The pool's pieces of the batch for a call on these arrays making ``out_bytes`` of
    results, or None (see ``pieces``)."""
    if P.threads() == 1:
        return None
    return P.pieces(arrays[0].shape[0],
                    out_bytes + sum(a.nbytes for a in arrays if a is not None), arrays=arrays)


def _forward_recorded(x, w, b, geom, order, keep):
    """conv_forward as a recorded program calls it: (out, columns), no columns being an
    empty (0, 0) array (``conv._saved_cols`` does not take it)."""
    out, cols = conv_forward(x, w, b, geom, order, keep)
    return out, (np.empty((0, 0), x.dtype) if cols is None else cols)


def conv_forward(x, w, b, geom, order, keep):
    """``_conv_kernels.conv_forward``, the batch split over the pool."""
    if P.recording(x, w, b):
        return P.record(_forward_recorded, x, w, b, geom, order, keep)
    parts = _split(x.nbytes // x.shape[1] * w.shape[0], x, w, b)
    if parts is None:
        return K.conv_forward(x, w, b, geom, order, keep)
    n = x.shape[0]
    ho, wo = geom.out_hw
    per = ho * wo
    out = np.empty((n, w.shape[0], ho, wo), x.dtype)
    rows = K.forward_rows(w, b, geom, order)
    cols = None
    if keep and order == K.NHW and rows * n * per * x.itemsize <= K._KEEP_BYTES:
        cols = np.empty((rows, n * per), x.dtype)

    def work(lo, hi):
        K.conv_forward(x[lo:hi], w, b, geom, order, False, out=out[lo:hi],
                       cols=None if cols is None else cols[:, lo * per : hi * per])

    P.run(work, parts)
    return out, cols


def conv_weight_grad(x, y, geom, order, cols=None, bias=False):
    """``_conv_kernels.conv_weight_grad``: partial sums over the pieces, added in order."""
    if P.recording(x, y, cols):
        return P.record(conv_weight_grad, x, y, geom, order, cols, bias)
    parts = _split(0, x, y)
    if parts is None:
        return K.conv_weight_grad(x, y, geom, order, cols, bias)
    per = geom.out_hw[0] * geom.out_hw[1]
    if order != K.NHW:
        cols = None  # hwn columns are not split by samples: rebuilt per piece
    results = {}

    def work(lo, hi):
        c = None if cols is None else cols[:, lo * per : hi * per]
        results[lo] = K.conv_weight_grad(x[lo:hi], y[lo:hi], geom, order, c, bias)

    P.run(work, parts)
    total = None
    for lo, _ in parts:
        r = results[lo]
        if total is None:
            total = list(r) if bias else r
        elif bias:
            total[0] += r[0]
            total[1] += r[1]
        else:
            total += r
    return tuple(total) if bias else total


def conv_input_grad(y, w, geom, order):
    """``_conv_kernels.conv_input_grad``, each piece of samples into its slice."""
    if P.recording(y, w):
        return P.record(conv_input_grad, y, w, geom, order)
    parts = _split(y.nbytes // y.shape[1] * w.shape[1], y, w)
    if parts is None:
        return K.conv_input_grad(y, w, geom, order)
    n = y.shape[0]
    g = geom.groups
    c = w.shape[1] * g
    out = np.empty((n, c) + tuple(geom.x_hw), y.dtype)

    def work(lo, hi):
        piece = K.choose_order(hi - lo, c, y.shape[1], geom, inputs=True)
        K.conv_input_grad(y[lo:hi], w, geom, piece, out=out[lo:hi])

    P.run(work, parts)
    return out
