"""Array kernels of the convolution primitives (``ops/conv.py``): im2col and 2-D GEMMs over
the whole batch.

The columns are K-major: ``cols`` is (K, P), one row per (c, i, j) of the kernel window
(K = C * kh * kw) and one column per output pixel of the whole batch (P = N * H_out * W_out),
the GEMM form OpenBLAS runs fastest here (a long P side; the (P, K) "NHWC" forms measured
1.3-2x slower):

    forward       Y  (O, P) = W (O, K) @ cols
    weight grad   dW (O, K) = G (O, P) @ cols^T
    input grad    D  (K, P) = W^T (K, O) @ G,   then col2im (D back onto the input pixels)

Two orders of the P columns, chosen per call by ``choose_order`` from the shapes:

* ``"nhw"``: P = (n, h, w). Sample n's columns are one (K, H_out * W_out) block that BLAS
  reads in place, so the forward multiplies per sample straight into NCHW (the bias as one
  more column of W against a row of ones) and the weight gradient reads G in NCHW (no
  transpose pass either way); but im2col and col2im move runs of only W_out numbers, and
  NumPy pays a fixed cost per run: slow for small images.
* ``"hwn"``: P = (h, w, n), the batch innermost. im2col and col2im move runs of N * W_out
  numbers (3x faster at 14 x 14), at the price of batch-innermost transposes of x, Y, G and
  the input gradient (about 1-2 ns per number).

Temporaries that stay inside a call (padded inputs, Y, G, D, the col2im accumulator) come
from ``_scratch`` (no page faults for reused multi-MB arrays); results are always fresh.
See DESIGN.md "Convolution speed (issue 10)" for the measurements.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ._scratch import cacheable, scratch

NHW, HWN = "nhw", "hwn"
_KEEP_BYTES = 1 << 26  # forward columns up to 64 MB are kept for the weight gradient
_TILE_BYTES = 1 << 20  # input gradient: D per GEMM, so col2im reads it from cache
_GATHER_TILE_BYTES = 1 << 23  # forward columns gathered per step (one step at W3's sizes)


# -- the layout choice ------------------------------------------------------------------------
# ns per number moved, measured at W3's shapes on a 2-core AMD EPYC (1 thread): a strided copy
# costs GATHER + RUN / (run length), an add ADD + RUN_ADD / (run length); a batch-innermost
# transpose TRANSPOSE (1 ns alone, 2 ns inside a training step, where its operands are no
# longer in cache), one with runs of H_out * W_out numbers NARROW.
_GATHER, _RUN, _ADD, _RUN_ADD, _TRANSPOSE, _NARROW = 0.22, 8.0, 0.57, 15.0, 2.0, 0.3
_PER_GEMM, _PER_SAMPLE_MIN = 2000.0, 32  # ns per per-sample GEMM call; its minimum size


def _costs(order, n, c, o, geom):
    """(gather, scatter, per-number transpose cost) of ``order`` for this convolution."""
    kh, kw = geom.k_hw
    ho, wo = geom.out_hw
    k, p = c * kh * kw, n * ho * wo
    if order == NHW:
        run, t = wo, _NARROW
    else:
        run, t = (n * wo if geom.stride[1] == 1 else n), _TRANSPOSE
    if n == 1:  # both orders are then the same memory layout: nothing to transpose
        t = 0.0
    return k * p * (_GATHER + _RUN / run), k * p * (_ADD + _RUN_ADD / run), t


def choose_order(n, c, o, geom, forward=False, weight=False, inputs=False):
    """The column order with the lower estimated cost of the passes asked for: ``forward``
    (im2col, Y to NCHW), ``weight`` (G to columns; with the forward's columns) and
    ``inputs`` (G to columns, col2im, back to NCHW). Remembered per shape."""
    key = (n, c, o, geom.x_hw, geom.k_hw, geom.stride, geom.pad, geom.dil, forward, weight,
           inputs)
    order = _CHOSEN.get(key)
    if order is None:
        if len(_CHOSEN) > 4096:
            _CHOSEN.clear()
        order = _CHOSEN[key] = _choose(n, c, o, geom, forward, weight, inputs)
    return order


_CHOSEN: dict = {}


def _choose(n, c, o, geom, forward, weight, inputs):
    pixels_in = n * c * geom.x_hw[0] * geom.x_hw[1]
    pixels_out = n * o * geom.out_hw[0] * geom.out_hw[1]
    best, best_cost = NHW, None
    for order in (NHW, HWN):
        gather, scatter, t = _costs(order, n, c, o, geom)
        x_in = pixels_in * t if order == HWN else 0.0  # x transposed batch-last
        cost = 0.0
        if forward or weight:
            cost += gather + x_in
        if forward:
            if order == NHW and _per_sample(geom):  # straight into NCHW, one GEMM per sample
                cost += (n - 1) * _PER_GEMM
            else:
                cost += pixels_out * t
        if weight:
            if order == NHW and _per_sample(geom):  # G read in NCHW, one GEMM per sample
                cost += (n - 1) * _PER_GEMM
            else:
                cost += pixels_out * t
        if inputs:
            cost += scatter + (pixels_out + pixels_in) * t
        if best_cost is None or cost < best_cost:
            best, best_cost = order, cost
    return best


# -- columns ----------------------------------------------------------------------------------
def _padded(x, geom, order, use):
    """x zero-padded: (N, C, Hp, Wp) for "nhw" (x itself when there is no padding), or
    transposed to (C, Hp, Wp, N) for "hwn". The pad borders of a scratch array stay zero:
    only the interior is ever written (its tag holds the padding)."""
    (pt, pb), (pl, pr) = geom.pad
    h, w = geom.x_hw
    n, c = x.shape[:2]
    nopad = pt == pb == pl == pr == 0
    if order == NHW:
        if nopad:
            return x
        buf = scratch(("pad", NHW, geom.pad), (n, c) + geom.pad_hw, x.dtype, use, zeroed=True)
        buf[:, :, pt : pt + h, pl : pl + w] = x
        return buf
    buf = scratch(("pad", HWN, geom.pad), (c,) + geom.pad_hw + (n,), x.dtype, use, zeroed=True)
    np.copyto(buf[:, pt : pt + h, pl : pl + w, :], x.transpose(1, 2, 3, 0))
    return buf


def _window_view(xp, geom, order, lo, hi):
    """The im2col view of the padded input for the columns of samples (nhw) or output rows
    (hwn) lo..hi-1: (C, kh, kw, n, H_out, W_out) or (C, kh, kw, rows, W_out, N)."""
    kh, kw = geom.k_hw
    dh, dw = geom.dil
    sth, stw = geom.stride
    ho, wo = geom.out_hw
    if order == NHW:
        sn, sc, sh, sw = xp.strides
        return as_strided(xp[lo:hi], (xp.shape[1], kh, kw, hi - lo, ho, wo),
                          (sc, sh * dh, sw * dw, sn, sh * sth, sw * stw))
    sc, sh, sw, sn = xp.strides
    return as_strided(xp[:, lo * sth :], (xp.shape[0], kh, kw, hi - lo, wo, xp.shape[3]),
                      (sc, sh * dh, sw * dw, sh * sth, sw * stw, sn))


def _tiles(order, n, geom, col_bytes, budget):
    """(units, columns per unit, units per tile): tiles of samples (nhw) or output rows (hwn)
    whose columns take about ``budget`` bytes."""
    ho, wo = geom.out_hw
    units, per_unit = (n, ho * wo) if order == NHW else (ho, wo * n)
    return units, per_unit, max(1, budget // max(col_bytes * per_unit, 1))


def _to_cols(y, order, use):
    """G (N, O, H_out, W_out) -> (O, P) in the column order (scratch)."""
    n, o, ho, wo = y.shape
    y3 = y.reshape(n, o, ho * wo)
    if order == NHW:
        src = y3.transpose(1, 0, 2)
    else:
        src = y3.transpose(1, 2, 0)
    buf = scratch("g", src.shape, y.dtype, use)
    np.copyto(buf, src)
    return buf.reshape(o, n * ho * wo)


def _store(yc, out, order, b):
    """out (N, O, rows, W_out) = Y (O, P) in NCHW order, plus b per channel; ``out`` may be a
    slice of samples (nhw) or of output rows (hwn) of the whole output."""
    n, o, rows, wo = out.shape
    if order == NHW:
        src = yc.reshape(o, n, rows, wo).transpose(1, 0, 2, 3)
    else:
        src = yc.reshape(o, rows, wo, n).transpose(3, 0, 1, 2)
    if b is None:
        np.copyto(out, src)
    else:
        np.add(src, b.reshape(o, 1, 1), out=out)


# -- the three passes -------------------------------------------------------------------------
def _gemm(a, b, g, out):
    """out = a @ b per group: a (M, K) or (g, M/g, K/g), b (K, P), out (M, P)."""
    if g == 1:
        return np.matmul(a, b, out=out)
    kg = b.shape[0] // g
    np.matmul(a, b.reshape(g, kg, -1), out=out.reshape(g, -1, b.shape[1]))
    return out


def conv_forward(x, w, b, geom, order, keep, out=None, cols=None):
    """conv(x, w) + b: (N, C, H, W), (O, C/g, kh, kw) -> (N, O, H_out, W_out), and the columns
    (K, P) when ``keep`` (for the weight gradient) and they fit in 64 MB, else None (the
    weight gradient then rebuilds them). Tile by tile (8 MB of columns: one tile at W3's
    sizes, measured faster than cache-sized tiles here): gather, multiply, store in NCHW. Per-sample
    products take the bias as one more column of W against a row of ones (K + 1 rows: no
    separate pass over the output). ``out`` and ``cols`` (of ``forward_rows`` rows) are
    given when the call computes one piece of a batch (``_conv_parallel``)."""
    n, o, g = x.shape[0], w.shape[0], geom.groups
    use = cacheable(x, w)
    k = w[0].size * g
    ho, wo = geom.out_hw
    per_sample = order == NHW and _per_sample(geom)
    rows = forward_rows(w, b, geom, order)
    ones = rows > k  # the bias rides in the per-sample GEMMs as a row of ones
    keep = cols is not None or (keep and rows * n * ho * wo * x.itemsize <= _KEEP_BYTES)
    xp = _padded(x, geom, order, use)
    units, per_unit, step = _tiles(order, n, geom, rows * x.itemsize, _GATHER_TILE_BYTES)
    if keep and cols is None:
        cols = np.empty((rows, units * per_unit), x.dtype)
    if out is None:
        out = np.empty((n, o, ho, wo), x.dtype)
    if ones:
        wm = np.concatenate([w.reshape(o, k), b.reshape(o, 1)], axis=1, dtype=x.dtype)
    else:
        wm = w.reshape(o, k) if g == 1 else w.reshape(g, o // g, k // g)
    for lo in range(0, units, step):
        hi = min(units, lo + step)
        v = _window_view(xp, geom, order, lo, hi)
        width = (hi - lo) * per_unit
        if keep:
            cb = cols[:, lo * per_unit : hi * per_unit]
        else:
            cb = scratch("cols", (rows, width), x.dtype, use)
        np.copyto(cb[:k].reshape(v.shape), v)
        if ones:
            cb[k] = 1
        if per_sample:
            _gemm_nchw(wm, cb, g, out[lo:hi], None if ones else b)
            continue
        yc = _gemm(wm, cb, g, scratch("y", (o, width), x.dtype, use))
        if order == NHW:
            _store(yc, out[lo:hi], order, b)
        else:
            _store(yc, out[:, :, lo:hi], order, b)
    return out, cols


def forward_rows(w, b, geom, order):
    """The number of rows of the forward's columns: K, or K + 1 when the bias rides in the
    per-sample GEMMs as a row of ones."""
    k = w[0].size * geom.groups
    return k + 1 if order == NHW and _per_sample(geom) and b is not None and geom.groups == 1 \
        else k


def _per_sample(geom):
    """Whether the nhw forward multiplies sample by sample straight into NCHW (no transpose
    pass; NumPy's per-matrix cost only pays off with H_out * W_out >= _PER_SAMPLE_MIN)."""
    return geom.out_hw[0] * geom.out_hw[1] >= _PER_SAMPLE_MIN


def _gemm_nchw(wm, cb, g, out, b):
    """out (n, O, H_out, W_out) = W @ cols per sample, straight into NCHW (nhw columns of
    n samples: sample i's (K, L) matrix is a strided slice of cb, which BLAS reads as is)."""
    n, o = out.shape[:2]
    k = cb.shape[0]
    per = cb.reshape(k, n, -1).transpose(1, 0, 2)  # (n, K, L)
    dst = out.reshape(n, o, -1)
    if g == 1:
        np.matmul(wm, per, out=dst)
    else:
        np.matmul(wm, per.reshape(n, g, k // g, -1), out=dst.reshape(n, g, o // g, -1))
    if b is not None:
        dst += b.reshape(o, 1)


def conv_weight_grad(x, y, geom, order, cols=None, bias=False):
    """dW[o, (c, i, j)] = sum_p G[o, p] cols(x)[(c, i, j), p] -> (O, C/g, kh, kw), and with
    ``bias`` also db[o] = sum_p G[o, p]: one GEMM with the forward's columns (``cols``, in
    ``order``; a last row of ones there yields db as one more column), else tile by tile
    with rebuilt ones."""
    n, o, g = x.shape[0], y.shape[1], geom.groups
    use = cacheable(x, y)
    k = x.shape[1] * geom.k_hw[0] * geom.k_hw[1]
    shape = (o, x.shape[1] // g) + geom.k_hw
    if cols is not None and order == NHW and _per_sample(geom):
        res = _weight_grad_nchw(y, cols, g)
        if not bias:
            return res[..., :k].reshape(shape)
        if cols.shape[0] == k + 1:
            return np.ascontiguousarray(res[:, :k]).reshape(shape), res[:, k].copy()
        return res.reshape(shape), y.sum(0).reshape(o, -1).sum(1)
    gc = _to_cols(y, order, use)
    if cols is not None:
        tiles = [(cols[:k], gc)]
    else:
        xp = _padded(x, geom, order, use)
        units, per_unit, step = _tiles(order, n, geom, k * x.itemsize, _GATHER_TILE_BYTES)
        tiles = (_rebuilt(xp, gc, geom, order, use, lo, min(units, lo + step), per_unit)
                 for lo in range(0, units, step))
    gw = None
    for cb, gt in tiles:
        if g == 1:
            part = np.matmul(gt, cb.T)
        else:
            part = np.matmul(gt.reshape(g, o // g, -1), cb.reshape(g, k // g, -1).transpose(0, 2, 1))
        gw = part if gw is None else gw + part
    if bias:
        return gw.reshape(shape), gc.sum(1)
    return gw.reshape(shape)


def _weight_grad_nchw(y, cols, g):
    """sum over samples of G_n (O, L) @ cols_n^T, G read in NCHW as it is (no transpose
    pass; measured 25% faster than one GEMM after the transpose at W3's first conv)."""
    n, o = y.shape[:2]
    k = cols.shape[0]
    gn = y.reshape(n, o, -1)
    per = cols.reshape(k, n, -1)  # (K, N, L): sample n's columns are per[:, n]
    if g == 1:
        return np.matmul(gn, per.transpose(1, 2, 0)).sum(0)
    gn = gn.reshape(n, g, o // g, -1)
    per = per.reshape(g, k // g, n, -1).transpose(2, 0, 3, 1)  # (N, g, L, K/g)
    return np.matmul(gn, per).sum(0)


def _rebuilt(xp, gc, geom, order, use, lo, hi, per_unit):
    """(columns, G columns) of one tile, the columns rebuilt into scratch."""
    v = _window_view(xp, geom, order, lo, hi)
    cb = scratch("cols", (v.shape[0] * v.shape[1] * v.shape[2], (hi - lo) * per_unit), xp.dtype, use)
    np.copyto(cb.reshape(v.shape), v)
    return cb, gc[:, lo * per_unit : hi * per_unit]


def _col2im_add(acc, d, geom, order, lo, hi):
    """acc += D for the columns of samples (nhw) or output rows (hwn) lo..hi-1."""
    kh, kw = geom.k_hw
    dh, dw = geom.dil
    sth, stw = geom.stride
    ho, wo = geom.out_hw
    c = acc.shape[0]
    span = stw * (wo - 1) + 1
    if order == NHW:
        d6 = d.reshape(c, kh, kw, hi - lo, ho, wo)
        for i in range(kh):
            for j in range(kw):
                rows = slice(i * dh, i * dh + sth * (ho - 1) + 1, sth)
                acc[:, lo:hi, rows, j * dw : j * dw + span : stw] += d6[:, i, j]
    else:
        d6 = d.reshape(c, kh, kw, hi - lo, wo, acc.shape[-1])
        for i in range(kh):
            for j in range(kw):
                rows = slice(i * dh + lo * sth, i * dh + sth * (hi - 1) + 1, sth)
                acc[:, rows, j * dw : j * dw + span : stw, :] += d6[:, i, j]


def conv_input_grad(y, w, geom, order, out=None):
    """conv^T_w(y): G (N, O, H_out, W_out) -> (N, C, H, W): D = W^T @ G, then col2im, tile by
    tile (samples for "nhw", output rows for "hwn"), so col2im reads D from cache."""
    n, o = y.shape[:2]
    g = geom.groups
    c = w.shape[1] * g
    (pt, _), (pl, _) = geom.pad
    h, wd = geom.x_hw
    use = cacheable(y, w)
    k = c * geom.k_hw[0] * geom.k_hw[1]
    if g == 1:
        wt = np.ascontiguousarray(w.reshape(o, k).T)
    else:
        wt = np.ascontiguousarray(w.reshape(g, o // g, k // g).transpose(0, 2, 1))
    gc = _to_cols(y, order, use)
    if order == NHW:
        acc = scratch("acc", (c, n) + geom.pad_hw, y.dtype, use)
    else:
        acc = scratch("acc", (c,) + geom.pad_hw + (n,), y.dtype, use)
    acc.fill(0)
    units, per_unit, step = _tiles(order, n, geom, k * y.itemsize, _TILE_BYTES)
    for lo in range(0, units, step):
        hi = min(units, lo + step)
        d = scratch("d", (k, (hi - lo) * per_unit), y.dtype, use)
        _gemm(wt, gc[:, lo * per_unit : hi * per_unit], g, d)
        _col2im_add(acc, d, geom, order, lo, hi)
    if out is None:
        out = np.empty((n, c, h, wd), y.dtype)
    if order == NHW:
        np.copyto(out, acc[:, :, pt : pt + h, pl : pl + wd].transpose(1, 0, 2, 3))
    else:
        np.copyto(out, acc[:, pt : pt + h, pl : pl + wd, :].transpose(3, 0, 1, 2))
    return out
