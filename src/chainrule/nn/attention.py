"""``nn.MultiheadAttention`` (PyTorch's parameter names, shapes, initialisation and numerics)."""

from __future__ import annotations

from .. import _dtype
from ..creation import empty
from ..tensor import Tensor
from . import init
from ._functional_attention import _canonical_mask, _none_or_dtype, multi_head_attention_forward
from .linear import Linear
from .module import Module
from .parameter import Parameter

__all__ = ["MultiheadAttention", "NonDynamicallyQuantizableLinear"]


class NonDynamicallyQuantizableLinear(Linear):
    """An ``nn.Linear`` under the class name PyTorch gives ``MultiheadAttention.out_proj``
    (PyTorch uses the name to keep it out of dynamic quantisation; here it is a plain Linear)."""


class MultiheadAttention(Module):
    """MultiHead(Q, K, V) = concat(head_1, ..., head_h) W_o^T + b_o,
    head_i = softmax((Q W_q,i^T)(K W_k,i^T)^T / sqrt(d) + M) (V W_v,i^T), d = embed_dim / h
    (Vaswani et al., 2017, "Attention Is All You Need").

    Args:
        embed_dim: E, the model dimension (split across the heads).
        num_heads: h; E must be divisible by h.
        dropout: dropout probability on the attention weights (training mode only).
        bias: biases of the input and output projections.
        add_bias_kv: append a learned key ``bias_k`` and value ``bias_v`` (1, 1, E) to the
            key/value sequences.
        add_zero_attn: append a zero key and value (after the projections).
        kdim, vdim: feature sizes of key and value (default E); when they differ from E the
            projections are three parameters ``q_proj_weight`` (E, E), ``k_proj_weight``
            (E, kdim), ``v_proj_weight`` (E, vdim), else one ``in_proj_weight`` (3E, E).
        batch_first: inputs and output are (N, L, E) instead of (L, N, E).

    Parameters start as PyTorch's: xavier_uniform_ projection weights, zero biases (also
    ``out_proj.bias``), xavier_normal_ ``bias_k``/``bias_v``; ``out_proj`` is a Linear with
    its own default initialisation. ``state_dict`` keys equal PyTorch's, so a PyTorch
    state dict (converted to arrays) loads unchanged.

    ``forward(query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
    average_attn_weights=True, is_causal=False)`` returns ``(attn_output, attn_weights)``:

    * key_padding_mask (N, S) or (S,): True (or -inf) marks keys to ignore.
    * attn_mask (L, S) or (N * num_heads, L, S): True (or -inf) marks disallowed pairs; a
      float mask is added to the scores.
    * attn_weights: (N, L, S) averaged over heads, (N, num_heads, L, S) per head
      (``average_attn_weights=False``), None when ``need_weights=False``.
    * is_causal: a hint that ``attn_mask`` is the causal mask (which must still be given).

    Shape: query (L, N, E) (or (N, L, E) with batch_first, or unbatched (L, E)); key (S, N,
    kdim); value (S, N, vdim); attn_output like query.

    PyTorch's inference fast path (eval mode, no grad, batch_first, self-attention) computes
    the same values except in rows where every key is masked, for which it returns NaN even
    with ``need_weights=False``; chainrule always computes PyTorch's training-path values
    (zeros there with ``need_weights=False``, NaN with ``need_weights=True``).

    Example::

        >>> mha = nn.MultiheadAttention(16, 4, batch_first=True)
        >>> x = cr.randn(2, 5, 16)
        >>> out, w = mha(x, x, x)
        >>> out.shape, w.shape
        (chainrule.Size([2, 5, 16]), chainrule.Size([2, 5, 5]))
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False, kdim: int | None = None,
                 vdim: int | None = None, batch_first: bool = False, device=None, dtype=None):
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError("embed_dim and num_heads must be greater than 0, got "
                             f"embed_dim={embed_dim} and num_heads={num_heads} instead")
        super().__init__()
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        if self.head_dim * num_heads != embed_dim:
            raise AssertionError(f"embed_dim must be divisible by num_heads (MultiheadAttention("
                                 f"embed_dim={embed_dim}, num_heads={num_heads}))")
        dt = dtype or _dtype.get_default_dtype()
        if not self._qkv_same_embed_dim:
            self.q_proj_weight = Parameter(empty(embed_dim, embed_dim, dtype=dt))
            self.k_proj_weight = Parameter(empty(embed_dim, self.kdim, dtype=dt))
            self.v_proj_weight = Parameter(empty(embed_dim, self.vdim, dtype=dt))
            self.register_parameter("in_proj_weight", None)
        else:
            self.in_proj_weight = Parameter(empty(3 * embed_dim, embed_dim, dtype=dt))
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(empty(3 * embed_dim, dtype=dt))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias, dtype=dt)
        if add_bias_kv:
            self.bias_k = Parameter(empty(1, 1, embed_dim, dtype=dt))
            self.bias_v = Parameter(empty(1, 1, embed_dim, dtype=dt))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
        if self.bias_v is not None:
            init.xavier_normal_(self.bias_v)

    def forward(self, query: Tensor, key: Tensor, value: Tensor,
                key_padding_mask: Tensor | None = None, need_weights: bool = True,
                attn_mask: Tensor | None = None, average_attn_weights: bool = True,
                is_causal: bool = False) -> tuple[Tensor, Tensor | None]:
        for name, t in (("query", query), ("key", key), ("value", value)):
            if not isinstance(t, Tensor):
                raise TypeError(f"MultiheadAttention: {name} must be a chainrule Tensor, got "
                                f"{type(t).__name__}")
        is_batched = query.ndim == 3
        key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask",
                                           _none_or_dtype(attn_mask), "attn_mask", query.dtype)
        attn_mask = _canonical_mask(attn_mask, "attn_mask", None, "", query.dtype, False)
        if self.batch_first and is_batched:  # keep the "is" relations between q, k and v
            if key is value:
                if query is key:
                    query = key = value = query.transpose(1, 0)
                else:
                    query, key = query.transpose(1, 0), key.transpose(1, 0)
                    value = key
            else:
                query, key, value = (x.transpose(1, 0) for x in (query, key, value))
        separate = not self._qkv_same_embed_dim
        out, weights = multi_head_attention_forward(
            query, key, value, self.embed_dim, self.num_heads, self.in_proj_weight,
            self.in_proj_bias, self.bias_k, self.bias_v, self.add_zero_attn, self.dropout,
            self.out_proj.weight, self.out_proj.bias, training=self.training,
            key_padding_mask=key_padding_mask, need_weights=need_weights, attn_mask=attn_mask,
            use_separate_proj_weight=separate, q_proj_weight=self.q_proj_weight,
            k_proj_weight=self.k_proj_weight, v_proj_weight=self.v_proj_weight,
            average_attn_weights=average_attn_weights, is_causal=is_causal)
        if self.batch_first and is_batched:
            out = out.transpose(1, 0)
        return out, weights

    def merge_masks(self, attn_mask: Tensor | None, key_padding_mask: Tensor | None,
                    query: Tensor) -> tuple[Tensor | None, int | None]:
        """PyTorch's helper for self-attention masks: ``(mask, type)`` with type 1 for a key
        padding mask alone ((N, L), returned as is) and 2 when there is an ``attn_mask``
        (expanded to (N, num_heads, L, L), plus the expanded key padding mask if given)."""
        merged, mask_type = None, None
        if key_padding_mask is not None:
            merged, mask_type = key_padding_mask, 1
        if attn_mask is not None:
            n, L, _ = query.shape
            mask_type = 2
            expanded = attn_mask.reshape(n, -1, L, L) if attn_mask.ndim == 3 else \
                attn_mask.reshape(1, 1, L, L).expand(n, self.num_heads, L, L)
            merged = expanded
            if key_padding_mask is not None:
                kpm = key_padding_mask.reshape(n, 1, 1, L).expand(n, self.num_heads, L, L)
                merged = expanded + kpm
        return merged, mask_type
