"""Argument checks and mask handling shared by ``F.scaled_dot_product_attention``,
``F.multi_head_attention_forward`` and the attention modules (PyTorch's messages and
conventions: boolean MHA masks are True where attention is NOT allowed)."""

from __future__ import annotations

import warnings

import numpy as np

from ..tensor import Tensor


def _const(arr) -> Tensor:
    return Tensor._make(arr, False, None, 0)


def _shape(t) -> tuple:
    return tuple(t._data.shape)


def _dtype_name(t) -> str:
    return str(t.dtype).replace("chainrule.", "")


def _check_sdpa_args(query, key, value, attn_mask, dropout_p, enable_gqa):
    for name, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor):
            raise TypeError(f"scaled_dot_product_attention: {name} must be a chainrule Tensor, "
                            f"got {type(t).__name__}")
    dq, dk, dv = query._data.dtype, key._data.dtype, value._data.dtype
    if not dq == dk == dv:
        raise RuntimeError(
            "scaled_dot_product_attention: expected query, key and value to have the same "
            f"dtype, got query {_dtype_name(query)}, key {_dtype_name(key)} and value "
            f"{_dtype_name(value)}; convert them with .to(dtype)")
    if dq.kind != "f":
        raise RuntimeError(f"scaled_dot_product_attention: expected floating-point query, key "
                           f"and value, got {_dtype_name(query)}")
    if min(query.ndim, key.ndim, value.ndim) < 2:
        raise RuntimeError(
            "scaled_dot_product_attention: expected query, key and value to be at least 2-D "
            f"(..., L, E), (..., S, E), (..., S, Ev); got shapes {_shape(query)}, "
            f"{_shape(key)} and {_shape(value)}")
    if key.shape[-1] != query.shape[-1] or key.shape[-2] != value.shape[-2]:
        raise RuntimeError(
            f"scaled_dot_product_attention: query {_shape(query)}, key {_shape(key)} and value "
            f"{_shape(value)} don't fit: expected query (..., L, E), key (..., S, E) and value "
            "(..., S, Ev)")
    if attn_mask is not None and attn_mask._data.dtype.kind not in "bf":
        raise RuntimeError(
            "scaled_dot_product_attention: expected attn_mask of dtype bool or floating point, "
            f"got {_dtype_name(attn_mask)}")
    if not 0.0 <= dropout_p <= 1.0:
        raise RuntimeError(f"scaled_dot_product_attention: dropout probability has to be between "
                           f"0 and 1, but got {dropout_p}")
    if enable_gqa and query.ndim >= 3:
        hq, hk, hv = query.shape[-3], key.shape[-3], value.shape[-3]
        if hk != hv or hq % hk != 0:
            raise RuntimeError(
                "scaled_dot_product_attention: number of heads in key and value must divide the "
                f"number of heads in query (enable_gqa=True), got query heads {hq}, key heads "
                f"{hk} and value heads {hv} (dim -3)")


def _fused_cpu_kernel_accepts(query, key, value, attn_mask, dropout_p, enable_gqa) -> bool:
    """Whether PyTorch 2.13's CPU flash-attention kernel would run this call: it is the one
    path that accepts ``attn_mask`` together with ``is_causal`` (and applies both)."""
    if not query.ndim == key.ndim == value.ndim == 4 or dropout_p > 0.0:
        return False
    if not query.shape[-1] == key.shape[-1] == value.shape[-1]:
        return False
    if key.shape[:2] != value.shape[:2] or key.shape[0] != query.shape[0]:
        return False
    if key.shape[1] != query.shape[1] and not enable_gqa:
        return False
    return attn_mask is None or attn_mask.ndim in (2, 4)


# The attention backends that ``nn.attention.sdpa_kernel`` allows (PyTorch's SDPBackend
# values: 0 MATH, 1 FLASH_ATTENTION; the others are CUDA kernels, never usable on the CPU).
ENABLED_BACKENDS = {0, 1, 2, 3, 4}


def _sdpa_path(query, key, value, attn_mask, dropout_p, is_causal, enable_gqa) -> None:
    """Raise what PyTorch 2.13 on the CPU raises for this call given the enabled backends;
    return normally when it would compute (its flash kernel applies ``attn_mask`` and
    ``is_causal`` together; its math kernel refuses that pair)."""
    if not ENABLED_BACKENDS & {0, 1}:
        raise RuntimeError("No viable backend for scaled_dot_product_attention was found: "
                           "sdpa_kernel allows only CUDA kernels; allow SDPBackend.MATH")
    flash = 1 in ENABLED_BACKENDS and _fused_cpu_kernel_accepts(
        query, key, value, attn_mask, dropout_p, enable_gqa)
    if is_causal and attn_mask is not None and not flash:
        if 0 in ENABLED_BACKENDS:
            raise RuntimeError(
                "_scaled_dot_product_attention: Explicit attn_mask should not be set when "
                "is_causal=True (PyTorch applies both only in its fused CPU kernel: 4-D "
                "inputs, equal head dims, dropout_p=0); fold the causal mask into attn_mask")
        raise RuntimeError("No available kernel.  Aborting execution.")
    if not flash and 0 not in ENABLED_BACKENDS:
        raise RuntimeError("No available kernel.  Aborting execution. (scaled_dot_product_"
                           "attention: the math backend is disabled by sdpa_kernel and the "
                           "CPU flash kernel does not take these inputs)")


def _canonical_mask(mask, mask_name: str, other_type, other_name: str, target_type,
                    check_other: bool = True):
    """A bool mask (True = masked out) as a float mask of ``target_type`` with -inf where True;
    float masks pass unchanged. Mixing a bool and a float mask warns (PyTorch deprecates it)."""
    if mask is None:
        return None
    kind = mask._data.dtype.kind
    if kind not in "bf":
        raise AssertionError(f"only bool and floating types of {mask_name} are supported")
    if check_other and other_type is not None and mask.dtype != other_type:
        warnings.warn(f"Support for mismatched {mask_name} and {other_name} is deprecated. "
                      "Use same type for both instead.", UserWarning, stacklevel=3)
    if kind == "f":
        return mask
    np_dtype = target_type.np
    return _const(np.where(mask._data, np.asarray(-np.inf, np_dtype),
                           np.asarray(0.0, np_dtype)))


def _none_or_dtype(t):
    return None if t is None else t.dtype


def _is_batched(query, key, value, key_padding_mask, attn_mask, num_heads) -> bool:
    nd = query.ndim
    if nd not in (2, 3):
        raise AssertionError("query should be unbatched 2D or batched 3D tensor but received "
                             f"{nd}-D query tensor")
    if key.ndim != nd or value.ndim != nd:
        raise AssertionError(f"For {'batched (3-D)' if nd == 3 else 'unbatched (2-D)'} `query`, "
                             f"expected `key` and `value` to be {nd}-D but found {key.ndim}-D "
                             f"and {value.ndim}-D tensors respectively")
    if key_padding_mask is not None and key_padding_mask.ndim != nd - 1:
        raise AssertionError(f"expected `key_padding_mask` to be `None` or {nd - 1}-D for a "
                             f"{nd}-D `query`, but found {key_padding_mask.ndim}-D")
    if attn_mask is not None and attn_mask.ndim not in (2, 3):
        raise AssertionError("expected `attn_mask` to be `None`, 2-D or 3-D but found "
                             f"{attn_mask.ndim}-D tensor instead")
    if nd == 2 and attn_mask is not None and attn_mask.ndim == 3:
        want = (num_heads, query.shape[0], key.shape[0])
        if _shape(attn_mask) != want:
            raise AssertionError(f"Expected `attn_mask` shape to be {want} but got "
                                 f"{_shape(attn_mask)}")
    return nd == 3


def _check_shapes(key, value, attn_mask, embed_dim, embed_dim_to_check, num_heads, separate,
                  tgt_len, src_len, bsz):
    if embed_dim != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but "
                             f"got {embed_dim}")
    if embed_dim % num_heads != 0:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if separate and key.shape[:2] != value.shape[:2]:
        raise AssertionError(f"key's sequence and batch dims {tuple(key.shape[:2])} do not match "
                             f"value's {tuple(value.shape[:2])}")
    if not separate and key.shape != value.shape:
        raise AssertionError(f"key shape {_shape(key)} does not match value shape {_shape(value)}")
    if attn_mask is None:
        return None
    want = (tgt_len, src_len) if attn_mask.ndim == 2 else (bsz * num_heads, tgt_len, src_len)
    if _shape(attn_mask) != want:
        raise RuntimeError(f"The shape of the {attn_mask.ndim}D attn_mask is "
                           f"{_shape(attn_mask)}, but should be {want}.")
    return attn_mask.unsqueeze(0) if attn_mask.ndim == 2 else attn_mask


def _static(t, name, bsz, num_heads, head_dim):
    if t.shape[0] != bsz * num_heads or t.shape[2] != head_dim:
        raise AssertionError(f"expecting {name} of shape ({bsz * num_heads}, S, {head_dim}), but "
                             f"got {_shape(t)}")
    return t
