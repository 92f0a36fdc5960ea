"""``nn.TransformerEncoderLayer`` and ``nn.TransformerDecoderLayer`` (re-exported by
``nn.transformer``), with PyTorch's submodule names, options and numerics."""

from __future__ import annotations

from collections.abc import Callable

from .. import _dtype
from ..tensor import Tensor
from ._functional_act import gelu, relu
from ._attention_checks import _canonical_mask, _none_or_dtype
from .activation import GELU, ReLU
from .attention import MultiheadAttention
from .dropout import Dropout
from .linear import Linear
from .module import Module
from .normalization import LayerNorm

__all__ = ["TransformerDecoderLayer", "TransformerEncoderLayer"]


def _get_activation_fn(activation: str) -> Callable[[Tensor], Tensor]:
    if activation == "relu":
        return relu
    if activation == "gelu":
        return gelu
    raise RuntimeError(f"activation should be relu/gelu, not {activation}")


def _check_sizes(owner: str, d_model, nhead, dim_feedforward, dropout) -> None:
    for name, v in (("d_model", d_model), ("nhead", nhead), ("dim_feedforward", dim_feedforward)):
        if not isinstance(v, int) or isinstance(v, bool) or v <= 0:
            raise ValueError(f"{owner}: {name} must be a positive integer, got {v!r}")
    if not 0.0 <= dropout <= 1.0:
        raise ValueError(f"{owner}: dropout probability has to be between 0 and 1, but got "
                         f"{dropout}")


class _LayerBase(Module):
    """The parts both layers share: feed-forward block, norms, dropouts, activation."""

    _norms = 2

    def _build(self, d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps,
               batch_first, norm_first, bias, dtype):
        _check_sizes(type(self).__name__, d_model, nhead, dim_feedforward, dropout)
        dt = dtype or _dtype.get_default_dtype()
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                            batch_first=batch_first, dtype=dt)
        if self._norms == 3:
            self.multihead_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                                     batch_first=batch_first, dtype=dt)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, dtype=dt)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, dtype=dt)
        self.norm_first = norm_first
        for i in range(1, self._norms + 1):
            setattr(self, f"norm{i}", LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dt))
        for i in range(1, self._norms + 1):
            setattr(self, f"dropout{i}", Dropout(dropout))
        if isinstance(activation, str):
            activation = _get_activation_fn(activation)
        elif not callable(activation):
            raise TypeError(f"{type(self).__name__}: activation must be 'relu', 'gelu' or a "
                            f"callable, got {type(activation).__name__}")
        return activation

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal=False):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                           need_weights=False, is_causal=is_causal)[0]
        return self.dropout1(x)

    def _ff_block(self, x):
        x = self.linear2(self.dropout(self.activation(self.linear1(x))))
        return self.dropout2(x) if self._norms == 2 else self.dropout3(x)


class TransformerEncoderLayer(_LayerBase):
    """Self-attention and a feed-forward network, each with a residual connection and
    layer norm (Vaswani et al., 2017):

        post-norm (default):  x = norm1(x + SA(x));  x = norm2(x + FF(x))
        norm_first=True:      x = x + SA(norm1(x));  x = x + FF(norm2(x))

    with SA = dropout1(self_attn(x, x, x)) and
    FF(x) = dropout2(linear2(dropout(activation(linear1(x))))).

    Args:
        d_model: E, the feature size.  nhead: attention heads.
        dim_feedforward: hidden size of the feed-forward network (default 2048).
        dropout: probability of every dropout (default 0.1).
        activation: "relu", "gelu" or any unary callable (a function or a module such as
            ``nn.GELU()``; a module is registered as the submodule ``activation``).
        layer_norm_eps: eps of both LayerNorms.  batch_first: (N, S, E) instead of (S, N, E).
        norm_first: pre-norm instead of post-norm.  bias: biases of Linear and LayerNorm.

    ``forward(src, src_mask=None, src_key_padding_mask=None, is_causal=False)``; masks as in
    ``nn.MultiheadAttention`` (True = not allowed); ``is_causal`` is a hint that ``src_mask``
    is the causal mask.

    Shape: src (S, N, E), (N, S, E) with batch_first, or unbatched (S, E); output the same.

    Example::

        >>> layer = nn.TransformerEncoderLayer(d_model=32, nhead=4, batch_first=True)
        >>> layer(cr.randn(2, 10, 32)).shape
        chainrule.Size([2, 10, 32])
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048,
                 dropout: float = 0.1, activation: str | Callable[[Tensor], Tensor] = relu,
                 layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, device=None, dtype=None):
        super().__init__()
        activation = self._build(d_model, nhead, dim_feedforward, dropout, activation,
                                 layer_norm_eps, batch_first, norm_first, bias, dtype)
        # PyTorch records whether its fused inference kernel knows the activation
        if activation is relu or isinstance(activation, ReLU):
            self.activation_relu_or_gelu = 1
        elif activation is gelu or isinstance(activation, GELU):
            self.activation_relu_or_gelu = 2
        else:
            self.activation_relu_or_gelu = 0
        self.activation = activation

    def forward(self, src: Tensor, src_mask: Tensor | None = None,
                src_key_padding_mask: Tensor | None = None, is_causal: bool = False) -> Tensor:
        src_key_padding_mask = _canonical_mask(src_key_padding_mask, "src_key_padding_mask",
                                               _none_or_dtype(src_mask), "src_mask", src.dtype)
        src_mask = _canonical_mask(src_mask, "src_mask", None, "", src.dtype, False)
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            x = x + self._ff_block(self.norm2(x))
        else:
            x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
            x = self.norm2(x + self._ff_block(x))
        return x


class TransformerDecoderLayer(_LayerBase):
    """Self-attention, attention over the encoder's output (``memory``) and a feed-forward
    network, each with a residual connection and layer norm:

        post-norm (default):  x = norm1(x + SA(x));  x = norm2(x + MHA(x, mem));
                              x = norm3(x + FF(x))
        norm_first=True:      x = x + SA(norm1(x));  x = x + MHA(norm2(x), mem);
                              x = x + FF(norm3(x))

    Args: as ``TransformerEncoderLayer`` (submodules ``self_attn``, ``multihead_attn``,
    ``linear1/2``, ``norm1/2/3``, ``dropout``, ``dropout1/2/3``).

    ``forward(tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
    memory_key_padding_mask=None, tgt_is_causal=False, memory_is_causal=False)``.

    Shape: tgt (T, N, E) (batch_first: (N, T, E); unbatched (T, E)); memory (S, N, E);
    output like tgt.

    Example::

        >>> layer = nn.TransformerDecoderLayer(d_model=32, nhead=4)
        >>> layer(cr.randn(7, 2, 32), cr.randn(10, 2, 32)).shape
        chainrule.Size([7, 2, 32])
    """

    _norms = 3

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048,
                 dropout: float = 0.1, activation: str | Callable[[Tensor], Tensor] = relu,
                 layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, device=None, dtype=None):
        super().__init__()
        self.activation = self._build(d_model, nhead, dim_feedforward, dropout, activation,
                                      layer_norm_eps, batch_first, norm_first, bias, dtype)

    def forward(self, tgt: Tensor, memory: Tensor, tgt_mask: Tensor | None = None,
                memory_mask: Tensor | None = None, tgt_key_padding_mask: Tensor | None = None,
                memory_key_padding_mask: Tensor | None = None, tgt_is_causal: bool = False,
                memory_is_causal: bool = False) -> Tensor:
        x = tgt
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask, tgt_is_causal)
            x = x + self._mha_block(self.norm2(x), memory, memory_mask, memory_key_padding_mask,
                                    memory_is_causal)
            x = x + self._ff_block(self.norm3(x))
        else:
            x = self.norm1(x + self._sa_block(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal))
            x = self.norm2(x + self._mha_block(x, memory, memory_mask, memory_key_padding_mask,
                                               memory_is_causal))
            x = self.norm3(x + self._ff_block(x))
        return x

    def _mha_block(self, x, mem, attn_mask, key_padding_mask, is_causal=False):
        x = self.multihead_attn(x, mem, mem, attn_mask=attn_mask,
                                key_padding_mask=key_padding_mask, is_causal=is_causal,
                                need_weights=False)[0]
        return self.dropout2(x)
