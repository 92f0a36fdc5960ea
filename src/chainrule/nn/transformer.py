"""Transformers (PyTorch's ``torch.nn.modules.transformer``): ``Transformer``,
``TransformerEncoder``, ``TransformerDecoder`` and the layers ``TransformerEncoderLayer``,
``TransformerDecoderLayer`` (defined in ``_transformer_layers.py``)."""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import _dtype
from ..autograd.grad_mode import is_grad_enabled
from ..tensor import Tensor
from . import init
from ._functional_act import relu
from ._attention_checks import _canonical_mask, _none_or_dtype
from ._transformer_layers import TransformerDecoderLayer, TransformerEncoderLayer
from .container import ModuleList
from .module import Module
from .normalization import LayerNorm

__all__ = ["Transformer", "TransformerDecoder", "TransformerDecoderLayer", "TransformerEncoder",
           "TransformerEncoderLayer"]


def _generate_square_subsequent_mask(sz: int, device=None, dtype=None) -> Tensor:
    dt = dtype or _dtype.get_default_dtype()
    if dt.np.kind == "b":
        arr = np.triu(np.ones((sz, sz), dtype=bool), 1)
    else:
        arr = np.triu(np.full((sz, sz), -np.inf, dtype=dt.np), 1)
    return Tensor._make(arr, False, None, 0)


def _get_seq_len(src: Tensor, batch_first: bool) -> int:
    if src.ndim == 2:
        return src.shape[0]
    return src.shape[1 if batch_first else 0]


def _detect_is_causal_mask(mask: Tensor | None, is_causal: bool | None = None,
                           size: int | None = None) -> bool:
    """``is_causal`` when given; otherwise whether ``mask`` equals the causal mask of the
    sequence length (PyTorch checks this to use its causal kernels)."""
    make_causal = is_causal is True
    if is_causal is None and mask is not None:
        sz = size if size is not None else mask.shape[-2]
        causal = _generate_square_subsequent_mask(sz, dtype=mask.dtype)
        make_causal = tuple(mask.shape) == (sz, sz) and bool(np.all(mask._data == causal._data))
    return make_causal


def _get_clones(module: Module, n: int) -> ModuleList:
    return ModuleList([copy.deepcopy(module) for _ in range(n)])


def _why_no_nested_tensor(layer) -> str:
    """Why PyTorch's encoder would not use nested tensors with this layer ("" if it would)."""
    name = "encoder_layer"
    if not isinstance(layer, TransformerEncoderLayer):
        return f"{name} was not TransformerEncoderLayer"
    if layer.norm_first:
        return f"{name}.norm_first was True"
    if not layer.self_attn.batch_first:
        return (f"{name}.self_attn.batch_first was not True(use batch_first for better "
                "inference performance)")
    if not layer.self_attn._qkv_same_embed_dim:
        return f"{name}.self_attn._qkv_same_embed_dim was not True"
    if layer.self_attn.in_proj_bias is None:
        return f"{name}.self_attn was passed bias=False"
    if not layer.activation_relu_or_gelu:
        return f"{name}.activation_relu_or_gelu was not True"
    if layer.norm1.eps != layer.norm2.eps:
        return f"{name}.norm1.eps was not equal to {name}.norm2.eps"
    if layer.self_attn.num_heads % 2 == 1:
        return f"{name}.self_attn.num_heads is odd"
    return ""


class TransformerEncoder(Module):
    """A stack of ``num_layers`` deep copies of ``encoder_layer`` (all starting from the same
    weights, as PyTorch), then ``norm`` if given.

    Args:
        encoder_layer: a ``TransformerEncoderLayer`` (or any module with its call signature).
        num_layers: N.  norm: an optional final module (usually ``LayerNorm``).
        enable_nested_tensor: accepted; it decides, as in PyTorch, whether padded positions
            come out as zeros in inference (below). PyTorch warns when the layer does not
            allow it (e.g. ``batch_first=False``); so does chainrule.
        mask_check: check that padding masks are left-aligned before the nested path.

    ``forward(src, mask=None, src_key_padding_mask=None, is_causal=None)``; ``is_causal=None``
    detects a causal ``mask``.

    Inference with padding: PyTorch runs the layers on nested tensors when the encoder is
    in eval mode, no gradient is recorded, ``use_nested_tensor`` holds, the input is batched,
    a (left-aligned) ``src_key_padding_mask`` and no ``mask`` is given. The outputs at padded
    positions are then zeros before ``norm``; chainrule computes the same values.

    Shape: src (S, N, E) ((N, S, E) with batch_first; unbatched (S, E)); output the same.

    Example::

        >>> layer = nn.TransformerEncoderLayer(32, 4, 64, batch_first=True)
        >>> enc = nn.TransformerEncoder(layer, num_layers=2)
        >>> enc(cr.randn(3, 9, 32)).shape
        chainrule.Size([3, 9, 32])
    """

    def __init__(self, encoder_layer: Module, num_layers: int, norm: Module | None = None,
                 enable_nested_tensor: bool = True, mask_check: bool = True):
        super().__init__()
        if not isinstance(num_layers, int) or num_layers < 0:
            raise ValueError(f"TransformerEncoder: num_layers must be a non-negative integer, "
                             f"got {num_layers!r}")
        self.layers = _get_clones(encoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm
        self.enable_nested_tensor = enable_nested_tensor
        self.use_nested_tensor = enable_nested_tensor
        self.mask_check = mask_check
        why = _why_no_nested_tensor(encoder_layer)
        if enable_nested_tensor and why:
            warnings.warn(f"enable_nested_tensor is True, but self.use_nested_tensor is False "
                          f"because {why}", UserWarning, stacklevel=2)
            self.use_nested_tensor = False

    def _padding_zeroed(self, src, mask, padding) -> bool:
        """Whether PyTorch would take its nested-tensor path (padded outputs become 0)."""
        first = self.layers[0] if len(self.layers) else None
        if first is None or not self.use_nested_tensor or first.training or src.ndim != 3 \
                or padding is None or mask is not None:
            return False
        pad = padding._data != 0
        if self.mask_check and np.any(pad[:, :-1] & ~pad[:, 1:]):
            return False  # not left-aligned: PyTorch stays on the padded path
        if not is_grad_enabled():
            return True
        a, n1, n2, l1, l2 = (first.self_attn, first.norm1, first.norm2, first.linear1,
                             first.linear2)
        tensors = (src, a.in_proj_weight, a.in_proj_bias, a.out_proj.weight, a.out_proj.bias,
                   n1.weight, n1.bias, n2.weight, n2.bias, l1.weight, l1.bias, l2.weight,
                   l2.bias)
        return not any(t is not None and t.requires_grad for t in tensors)

    def forward(self, src: Tensor, mask: Tensor | None = None,
                src_key_padding_mask: Tensor | None = None,
                is_causal: bool | None = None) -> Tensor:
        src_key_padding_mask = _canonical_mask(src_key_padding_mask, "src_key_padding_mask",
                                               _none_or_dtype(mask), "mask", src.dtype)
        mask = _canonical_mask(mask, "mask", None, "", src.dtype, False)
        zero_padding = self._padding_zeroed(src, mask, src_key_padding_mask)
        batch_first = self.layers[0].self_attn.batch_first if len(self.layers) else False
        is_causal = _detect_is_causal_mask(mask, is_causal, _get_seq_len(src, batch_first))
        output = src
        for mod in self.layers:
            output = mod(output, src_mask=mask, is_causal=is_causal,
                         src_key_padding_mask=src_key_padding_mask)
        if zero_padding:
            pad = src_key_padding_mask._data != 0
            pad = pad[:, :, None] if batch_first else pad.T[:, :, None]
            output = output.masked_fill(Tensor._make(pad, False, None, 0), 0.0)
        if self.norm is not None:
            output = self.norm(output)
        return output


class TransformerDecoder(Module):
    """A stack of ``num_layers`` deep copies of ``decoder_layer``, then ``norm`` if given.

    ``forward(tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
    memory_key_padding_mask=None, tgt_is_causal=None, memory_is_causal=False)``;
    ``tgt_is_causal=None`` detects a causal ``tgt_mask``.

    Shape: tgt (T, N, E), memory (S, N, E) (batch-first or unbatched as the layers);
    output like tgt.

    Example::

        >>> dec = nn.TransformerDecoder(nn.TransformerDecoderLayer(32, 4, 64), num_layers=2)
        >>> dec(cr.randn(7, 2, 32), cr.randn(9, 2, 32)).shape
        chainrule.Size([7, 2, 32])
    """

    def __init__(self, decoder_layer: Module, num_layers: int, norm: Module | None = None):
        super().__init__()
        if not isinstance(num_layers, int) or num_layers < 0:
            raise ValueError(f"TransformerDecoder: num_layers must be a non-negative integer, "
                             f"got {num_layers!r}")
        self.layers = _get_clones(decoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm

    def forward(self, tgt: Tensor, memory: Tensor, tgt_mask: Tensor | None = None,
                memory_mask: Tensor | None = None, tgt_key_padding_mask: Tensor | None = None,
                memory_key_padding_mask: Tensor | None = None,
                tgt_is_causal: bool | None = None, memory_is_causal: bool = False) -> Tensor:
        output = tgt
        batch_first = self.layers[0].self_attn.batch_first if len(self.layers) else False
        tgt_is_causal = _detect_is_causal_mask(tgt_mask, tgt_is_causal,
                                               _get_seq_len(tgt, batch_first))
        for mod in self.layers:
            output = mod(output, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                         tgt_key_padding_mask=tgt_key_padding_mask,
                         memory_key_padding_mask=memory_key_padding_mask,
                         tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)
        if self.norm is not None:
            output = self.norm(output)
        return output


class Transformer(Module):
    """The encoder-decoder Transformer of Vaswani et al. (2017): ``encoder`` (a
    ``TransformerEncoder`` of ``num_encoder_layers`` layers and a final LayerNorm) reads
    ``src``; ``decoder`` (``num_decoder_layers`` layers and a LayerNorm) reads ``tgt`` and
    attends to the encoder's output.

    Args:
        d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps, batch_first,
            norm_first, bias: as ``TransformerEncoderLayer`` (defaults 512, 8, 2048, 0.1,
            relu, 1e-5, False, False, True).
        num_encoder_layers, num_decoder_layers: default 6 each.
        custom_encoder, custom_decoder: modules used instead of the built ones.

    Every parameter with more than one dimension is re-drawn with ``xavier_uniform_`` after
    construction (PyTorch's ``_reset_parameters``), so the layers no longer share weights.

    ``forward(src, tgt, src_mask=None, tgt_mask=None, memory_mask=None,
    src_key_padding_mask=None, tgt_key_padding_mask=None, memory_key_padding_mask=None,
    src_is_causal=None, tgt_is_causal=None, memory_is_causal=False)``. Masks as in
    ``nn.MultiheadAttention``: src_mask (S, S), tgt_mask (T, T), memory_mask (T, S) (or
    (N * nhead, ., .)); key padding masks (N, S) / (N, T) / (N, S).

    Shape: src (S, N, E), tgt (T, N, E) ((N, S, E), (N, T, E) with batch_first; unbatched
    (S, E), (T, E)); output (T, N, E).

    Example::

        >>> model = nn.Transformer(d_model=32, nhead=4, num_encoder_layers=2,
        ...                        num_decoder_layers=2, dim_feedforward=64)
        >>> tgt_mask = nn.Transformer.generate_square_subsequent_mask(7)
        >>> model(cr.randn(10, 2, 32), cr.randn(7, 2, 32), tgt_mask=tgt_mask).shape
        chainrule.Size([7, 2, 32])
    """

    def __init__(self, d_model: int = 512, nhead: int = 8, num_encoder_layers: int = 6,
                 num_decoder_layers: int = 6, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation: str | Callable[[Tensor], Tensor] = relu,
                 custom_encoder: Any | None = None, custom_decoder: Any | None = None,
                 layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, device=None, dtype=None):
        super().__init__()
        args = (d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps,
                batch_first, norm_first, bias)
        if custom_encoder is not None:
            self.encoder = custom_encoder
        else:
            layer = TransformerEncoderLayer(*args, dtype=dtype)
            norm = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
            self.encoder = TransformerEncoder(layer, num_encoder_layers, norm)
        if custom_decoder is not None:
            self.decoder = custom_decoder
        else:
            layer = TransformerDecoderLayer(*args, dtype=dtype)
            norm = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
            self.decoder = TransformerDecoder(layer, num_decoder_layers, norm)
        self._reset_parameters()
        self.d_model = d_model
        self.nhead = nhead
        self.batch_first = batch_first

    def forward(self, src: Tensor, tgt: Tensor, src_mask: Tensor | None = None,
                tgt_mask: Tensor | None = None, memory_mask: Tensor | None = None,
                src_key_padding_mask: Tensor | None = None,
                tgt_key_padding_mask: Tensor | None = None,
                memory_key_padding_mask: Tensor | None = None,
                src_is_causal: bool | None = None, tgt_is_causal: bool | None = None,
                memory_is_causal: bool = False) -> Tensor:
        is_batched = src.ndim == 3
        b = 0 if self.batch_first else 1
        if is_batched and src.shape[b] != tgt.shape[b]:
            raise RuntimeError(f"the batch number of src and tgt must be equal (src "
                               f"{tuple(src.shape)}, tgt {tuple(tgt.shape)}, batch_first="
                               f"{self.batch_first})")
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise RuntimeError(f"the feature number of src and tgt must be equal to d_model "
                               f"({self.d_model}), got src {tuple(src.shape)} and tgt "
                               f"{tuple(tgt.shape)}")
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask,
                              is_causal=src_is_causal)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask,
                            memory_key_padding_mask=memory_key_padding_mask,
                            tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)

    @staticmethod
    def generate_square_subsequent_mask(sz: int, device=None, dtype=None) -> Tensor:
        """The (sz, sz) causal mask: -inf above the diagonal, 0.0 on and below it (float,
        default dtype unless ``dtype`` is given)."""
        return _generate_square_subsequent_mask(sz, device=device, dtype=dtype)

    def _reset_parameters(self) -> None:
        for p in self.parameters():
            if p.dim() > 1:
                init.xavier_uniform_(p)
