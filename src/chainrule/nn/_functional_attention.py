"""Attention as functions (``torch.nn.functional``): ``scaled_dot_product_attention`` and
``multi_head_attention_forward``, composed from primitives (MatMul, Softmax, Where, Linear,
dropout), so they support double backward and forward mode.

Masks follow PyTorch: a boolean ``attn_mask`` of ``scaled_dot_product_attention`` marks the
positions that MAY attend (True = keep), while the boolean masks of ``MultiheadAttention``
and the Transformer layers mark the positions that may NOT (True = masked out); float masks
are added to the scores in both. A row of scores that is masked everywhere gives an output
row of zeros and zero gradients in ``scaled_dot_product_attention`` (PyTorch 2.13's "safe
softmax"), and NaN in ``multi_head_attention_forward(need_weights=True)``, as in PyTorch.
"""

from __future__ import annotations

import math

import numpy as np

from .. import ops as P
from ..functions.shape import cat
from ..tensor import Tensor
from ._attention_checks import (
    _canonical_mask, _check_sdpa_args, _check_shapes, _const, _is_batched, _none_or_dtype,
    _sdpa_path, _shape, _static,
)
from ._functional_layers import dropout, linear
from ._spatial import pad

__all__ = ["multi_head_attention_forward", "scaled_dot_product_attention"]


def _repeat_heads(t: Tensor, groups: int) -> Tensor:
    """(..., Hk, S, E) -> (..., Hk * groups, S, E), each head repeated ``groups`` times in a
    row (``repeat_interleave`` along dim -3)."""
    shape = _shape(t)
    lead, hk = shape[:-3], shape[-3]
    wide = t.unsqueeze(-3).expand(*lead, hk, groups, *shape[-2:])
    return wide.reshape(*lead, hk * groups, *shape[-2:])


def _masked_scores(scores: Tensor, attn_mask, is_causal: bool) -> tuple:
    """(scores + M, rows of M that are -inf everywhere or None): boolean and causal masks
    become one constant additive array (0 / -inf); a float mask is folded into it unless it
    requires grad (then it is added as a tensor and gets its gradient)."""
    s = scores._data
    L, S = s.shape[-2], s.shape[-1]
    blocked = np.triu(np.ones((L, S), dtype=bool), 1) if is_causal else None
    float_mask = None
    if attn_mask is not None:
        m = attn_mask._data
        try:
            ok = np.broadcast_shapes(m.shape, s.shape) == s.shape
        except ValueError:
            ok = False
        if not ok:
            raise RuntimeError(
                f"scaled_dot_product_attention: attn_mask of shape {m.shape} does not broadcast "
                f"to the attention scores' shape {s.shape} (..., L, S)")
        if m.dtype == np.bool_:
            blocked = ~m if blocked is None else blocked | ~m
        else:
            float_mask = attn_mask if m.dtype == s.dtype else attn_mask.to(scores.dtype)
    const = None if blocked is None else np.where(blocked, -np.inf, 0.0).astype(s.dtype)
    if float_mask is not None and not float_mask.requires_grad:
        const = float_mask._data if const is None else const + float_mask._data
        float_mask = None
    ninf = None
    if const is not None:
        scores = scores + _const(const)
        ninf = np.isneginf(const)
    if float_mask is not None:
        scores = scores + float_mask
        f_ninf = np.isneginf(float_mask._data)
        ninf = f_ninf if ninf is None else ninf | f_ninf
    dead = ninf.all(-1, keepdims=True)
    return scores, (dead if dead.any() else None)


def _safe_softmax(scores: Tensor, dead) -> Tensor:
    """softmax over the last dim, with the ``dead`` rows (-inf everywhere) giving zeros (and
    zero gradients) instead of NaN."""
    if dead is None:
        return P.Softmax.apply(scores, scores.ndim - 1)
    zero = np.asarray(0.0, scores._data.dtype)
    live = P.Where.apply(_const(dead), zero, scores)
    return P.Where.apply(_const(dead), zero, P.Softmax.apply(live, scores.ndim - 1))


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor,
                                 attn_mask: Tensor | None = None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale: float | None = None,
                                 enable_gqa: bool = False) -> Tensor:
    """softmax(Q K^T * scale + M) V, with dropout on the attention weights.

    M is 0 where attention is allowed and -inf where not: a boolean ``attn_mask`` allows the
    positions where it is True; a float ``attn_mask`` is added to the scores; ``is_causal``
    allows key j for query i only when j <= i (the top-left-aligned lower triangle, also when
    L != S). A query row with no allowed key gives zeros (and zero gradients).

    Args:
        query, key, value: (..., L, E), (..., S, E), (..., S, Ev), any number of batch dims
            that broadcast.
        attn_mask: bool or float, broadcastable to (..., L, S).
        dropout_p: probability of zeroing an attention weight (always applied when > 0, as
            in PyTorch: pass 0.0 in eval mode); the kept weights are scaled by 1/(1 - p).
        is_causal: apply the causal mask. Together with ``attn_mask`` PyTorch 2.13 on the
            CPU applies both for 4-D inputs with equal head dims and no dropout (its fused
            kernel) and raises otherwise; chainrule does the same.
        scale: the factor of Q K^T (default 1/sqrt(E)).
        enable_gqa: grouped-query attention: the Hk key/value heads (dim -3) are each
            repeated Hq/Hk times to meet the query's Hq heads.

    Shape: output (..., L, Ev).

    Example::

        >>> q = cr.randn(2, 4, 10, 16); k = v = cr.randn(2, 4, 12, 16)
        >>> F.scaled_dot_product_attention(q, k, v, is_causal=True).shape
        chainrule.Size([2, 4, 10, 16])
    """
    _check_sdpa_args(query, key, value, attn_mask, dropout_p, enable_gqa)
    _sdpa_path(query, key, value, attn_mask, dropout_p, is_causal, enable_gqa)
    if enable_gqa and query.ndim >= 3 and key.shape[-3] != query.shape[-3]:
        groups = query.shape[-3] // key.shape[-3]
        key, value = _repeat_heads(key, groups), _repeat_heads(value, groups)
    if scale is None:
        scale = 1.0 / math.sqrt(query.shape[-1]) if query.shape[-1] else 1.0
    # scaling the (L, E) queries costs less than scaling the (L, S) scores
    scores = P.MatMul.apply(query * float(scale), key, False, True)
    if attn_mask is not None or is_causal:
        weights = _safe_softmax(*_masked_scores(scores, attn_mask, is_causal))
    else:
        weights = P.Softmax.apply(scores, scores.ndim - 1)
    if dropout_p > 0.0:
        weights = dropout(weights, dropout_p, True)
    return P.MatMul.apply(weights, value, False, False)


# -- multi-head attention -----------------------------------------------------------------
def _in_projection(query, key, value, in_proj_weight, in_proj_bias, separate):
    """q, k, v = query W_q^T + b_q, key W_k^T + b_k, value W_v^T + b_v (packed or separate)."""
    E = query.shape[-1]
    bq = bk = bv = None
    if in_proj_bias is not None:
        bq, bk, bv = in_proj_bias.chunk(3)
    if separate is not None:
        wq, wk, wv = separate
        for name, w, want in (("query", wq, (E, E)), ("key", wk, (E, key.shape[-1])),
                              ("value", wv, (E, value.shape[-1]))):
            if _shape(w) != want:
                raise AssertionError(f"expecting {name} weights shape of {want}, but got "
                                     f"{_shape(w)}")
        return linear(query, wq, bq), linear(key, wk, bk), linear(value, wv, bv)
    if key is value and query is key:  # self-attention: one GEMM
        q, k, v = linear(query, in_proj_weight, in_proj_bias).chunk(3, -1)
        return q, k, v
    wq, wk, wv = in_proj_weight.chunk(3)
    if key is value:  # encoder-decoder attention: keys and values from one GEMM
        bkv = None if in_proj_bias is None else in_proj_bias[E:]
        k, v = linear(key, in_proj_weight[E:], bkv).chunk(2, -1)
        return linear(query, wq, bq), k, v
    return linear(query, wq, bq), linear(key, wk, bk), linear(value, wv, bv)


def multi_head_attention_forward(
        query: Tensor, key: Tensor, value: Tensor, embed_dim_to_check: int, num_heads: int,
        in_proj_weight: Tensor | None, in_proj_bias: Tensor | None, bias_k: Tensor | None,
        bias_v: Tensor | None, add_zero_attn: bool, dropout_p: float, out_proj_weight: Tensor,
        out_proj_bias: Tensor | None, training: bool = True,
        key_padding_mask: Tensor | None = None, need_weights: bool = True,
        attn_mask: Tensor | None = None, use_separate_proj_weight: bool = False,
        q_proj_weight: Tensor | None = None, k_proj_weight: Tensor | None = None,
        v_proj_weight: Tensor | None = None, static_k: Tensor | None = None,
        static_v: Tensor | None = None, average_attn_weights: bool = True,
        is_causal: bool = False) -> tuple[Tensor, Tensor | None]:
    """The forward pass of ``nn.MultiheadAttention`` (sequence-first layout):

    head_i = softmax((Q W_q,i^T)(K W_k,i^T)^T / sqrt(d) + M) (V W_v,i^T),
    out = concat(head_1, ..., head_h) W_o^T + b_o,   d = embed_dim / num_heads,

    where M combines ``attn_mask`` (2-D (L, S) or 3-D (N * num_heads, L, S)) and
    ``key_padding_mask`` ((N, S)); boolean masks are True where attention is NOT allowed.
    ``bias_k``/``bias_v`` append one learned key/value to the sequence, ``add_zero_attn`` one
    zero key/value; ``static_k``/``static_v`` ((N * num_heads, S, d)) replace the projected
    keys/values. With ``need_weights`` the weights are returned (after dropout), averaged
    over heads ((N, L, S)) or per head ((N, num_heads, L, S)); without, attention runs through
    ``scaled_dot_product_attention`` and ``is_causal`` may stand in for ``attn_mask``.

    Shape: query (L, N, E) or unbatched (L, E); key (S, N, E_k); value (S, N, E_v);
    output (L, N, E).
    """
    is_batched = _is_batched(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not is_batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    tgt_len, bsz, embed_dim = _shape(query)
    src_len = key.shape[0]
    key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask",
                                       _none_or_dtype(attn_mask), "attn_mask", query.dtype)
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the "
                           "Transformer module method `generate_square_subsequent_mask` to "
                           "create this mask.")
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None  # the hint stands in for the mask: SDPA applies the causal mask
    else:
        attn_mask = _canonical_mask(attn_mask, "attn_mask", None, "", query.dtype, False)
        if key_padding_mask is not None:
            is_causal = False
    separate = (q_proj_weight, k_proj_weight, v_proj_weight) if use_separate_proj_weight \
        else None
    if separate is not None and any(w is None for w in separate):
        raise AssertionError("use_separate_proj_weight is True but q_proj_weight, "
                             "k_proj_weight or v_proj_weight is None")
    if separate is None and in_proj_weight is None:
        raise AssertionError("use_separate_proj_weight is False but in_proj_weight is None")
    attn_mask = _check_shapes(key, value, attn_mask, embed_dim, embed_dim_to_check, num_heads,
                              separate is not None, tgt_len, src_len, bsz)
    head_dim = embed_dim // num_heads
    q, k, v = _in_projection(query, key, value, in_proj_weight, in_proj_bias, separate)
    if (bias_k is None) != (bias_v is None):
        raise AssertionError("bias_k and bias_v must both be set or both be None")
    if bias_k is not None:
        if static_k is not None or static_v is not None:
            raise AssertionError("bias cannot be added to static key or value.")
        k = cat([k, bias_k.expand(1, bsz, embed_dim)], 0)
        v = cat([v, bias_v.expand(1, bsz, embed_dim)], 0)
        attn_mask = None if attn_mask is None else pad(attn_mask, (0, 1))
        if key_padding_mask is not None:
            key_padding_mask = pad(key_padding_mask, (0, 1))
    q = q.reshape(tgt_len, bsz * num_heads, head_dim).transpose(0, 1)
    k = _static(static_k, "static_k", bsz, num_heads, head_dim) if static_k is not None \
        else k.reshape(k.shape[0], bsz * num_heads, head_dim).transpose(0, 1)
    v = _static(static_v, "static_v", bsz, num_heads, head_dim) if static_v is not None \
        else v.reshape(v.shape[0], bsz * num_heads, head_dim).transpose(0, 1)
    if add_zero_attn:
        zeros = _const(np.zeros((bsz * num_heads, 1, head_dim), k._data.dtype))
        k, v = cat([k, zeros], 1), cat([v, zeros], 1)
        attn_mask = None if attn_mask is None else pad(attn_mask, (0, 1))
        if key_padding_mask is not None:
            key_padding_mask = pad(key_padding_mask, (0, 1))
    src_len = k.shape[1]
    if key_padding_mask is not None:
        if _shape(key_padding_mask) != (bsz, src_len):
            raise AssertionError(f"Expected key_padding_mask of shape {(bsz, src_len)}, but got "
                                 f"{_shape(key_padding_mask)}")
        kpm = key_padding_mask.reshape(bsz, 1, 1, src_len).expand(bsz, num_heads, 1, src_len)
        kpm = kpm.reshape(bsz * num_heads, 1, src_len)
        attn_mask = kpm if attn_mask is None else attn_mask + kpm
    if not training:
        dropout_p = 0.0
    if need_weights:
        scores = P.MatMul.apply(q * math.sqrt(1.0 / head_dim), k, False, True)
        if attn_mask is not None:
            scores = scores + attn_mask
        with np.errstate(invalid="ignore"):  # rows masked everywhere are NaN, as in PyTorch
            weights = P.Softmax.apply(scores, 2)
        if dropout_p > 0.0:
            weights = dropout(weights, dropout_p, True)
        out = P.MatMul.apply(weights, v, False, False)  # (N * h, L, d)
        out = out.transpose(0, 1).reshape(tgt_len * bsz, embed_dim)
        out = linear(out, out_proj_weight, out_proj_bias).reshape(tgt_len, bsz, -1)
        weights = weights.reshape(bsz, num_heads, tgt_len, src_len)
        if average_attn_weights:
            weights = weights.mean(1)
        if not is_batched:
            out, weights = out.squeeze(1), weights.squeeze(0)
        return out, weights
    if attn_mask is not None:
        attn_mask = attn_mask.unsqueeze(0) if attn_mask.shape[0] == 1 \
            else attn_mask.reshape(bsz, num_heads, -1, src_len)
    q = q.reshape(bsz, num_heads, tgt_len, head_dim)
    k = k.reshape(bsz, num_heads, src_len, head_dim)
    v = v.reshape(bsz, num_heads, src_len, head_dim)
    out = scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal)
    out = out.permute(2, 0, 1, 3).reshape(bsz * tgt_len, embed_dim)
    out = linear(out, out_proj_weight, out_proj_bias).reshape(tgt_len, bsz, -1)
    if not is_batched:
        out = out.squeeze(1)
    return out, None
