"""Variable-length sequences: ``pad_sequence``, ``pack_padded_sequence``,
``pad_packed_sequence``, ``pack_sequence``, ``unpad_sequence``, ``unpack_sequence`` and
``PackedSequence`` (as ``torch.nn.utils.rnn``).

A ``PackedSequence`` stores the valid steps of a batch time-major: for each step t, the
entries of the ``batch_sizes[t]`` sequences still running, sequences sorted by decreasing
length (``sorted_indices`` maps sorted position -> original batch index,
``unsorted_indices`` the inverse; both None when the input was already sorted). Packing and
unpacking are index gathers, so gradients flow through them.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ...creation import full
from ...functions.shape import cat, stack
from ...tensor import Tensor


class PackedSequence(NamedTuple):
    """data (sum of lengths, *), batch_sizes (T,) int64, sorted/unsorted_indices or None."""

    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None = None
    unsorted_indices: Tensor | None = None

    @property
    def is_cuda(self) -> bool:
        return False

    def to(self, *args, **kwargs) -> PackedSequence:
        return self._replace(data=self.data.to(*args, **kwargs))


def _lengths_array(lengths) -> np.ndarray:
    if isinstance(lengths, Tensor):
        return lengths._data.astype(np.int64).reshape(-1)
    return np.asarray(lengths, dtype=np.int64).reshape(-1)


def _tensor(a: np.ndarray) -> Tensor:
    return Tensor._make(np.ascontiguousarray(a, dtype=np.int64), False, None, 0)


def _packed_index(batch_sizes: np.ndarray, B: int) -> np.ndarray:
    """Flat (t * B + b) positions of the packed entries, in packing order."""
    return np.concatenate([t * B + np.arange(bs) for t, bs in enumerate(batch_sizes)]) \
        if len(batch_sizes) else np.zeros(0, np.int64)


def pad_sequence(sequences, batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:
    """Stack sequences of shapes (L_i, *) into (L_max, B, *) (or (B, L_max, *)), padding
    with ``padding_value`` on the right (or left).

    Example::

        >>> pad_sequence([cr.ones(3, 2), cr.ones(1, 2)]).shape
        chainrule.Size([3, 2, 2])
    """
    seqs = list(sequences)
    if not seqs:
        raise ValueError("pad_sequence: received an empty list of sequences")
    if padding_side not in ("right", "left"):
        raise ValueError(f"pad_sequence: padding_side must be 'right' or 'left', got "
                         f"{padding_side!r}")
    trail = tuple(seqs[0].shape[1:])
    for i, s in enumerate(seqs):
        if s.dim() == 0 or tuple(s.shape[1:]) != trail:
            raise ValueError(f"pad_sequence: sequence {i} has shape {tuple(s.shape)}; all "
                             f"sequences must be (L_i, {', '.join(map(str, trail))})")
    L = max(s.shape[0] for s in seqs)
    padded = []
    for s in seqs:
        extra = L - s.shape[0]
        if extra:
            pad = full((extra,) + trail, padding_value, dtype=s.dtype)
            s = cat([s, pad]) if padding_side == "right" else cat([pad, s])
        padded.append(s)
    return stack(padded, 0 if batch_first else 1)


def pack_padded_sequence(input: Tensor, lengths, batch_first: bool = False,  # noqa: A002
                         enforce_sorted: bool = True) -> PackedSequence:
    """Pack a padded batch (T, B, *) (or (B, T, *)) with the given lengths.

    With ``enforce_sorted=True`` the lengths must be decreasing; otherwise the batch is
    sorted here and the permutation recorded in the result.
    """
    lens = _lengths_array(lengths)
    bdim, tdim = (0, 1) if batch_first else (1, 0)
    if input.dim() < 2 or lens.size != input.shape[bdim]:
        raise ValueError(f"pack_padded_sequence: {lens.size} lengths for an input of shape "
                         f"{tuple(input.shape)} (batch dim {bdim})")
    if lens.size and (lens.min() <= 0 or lens.max() > input.shape[tdim]):
        raise ValueError(f"pack_padded_sequence: lengths must be in 1..{input.shape[tdim]} "
                         f"(the padded length), got {lens.tolist()}")
    sorted_idx = unsorted_idx = None
    if enforce_sorted:
        if np.any(np.diff(lens) > 0):
            raise RuntimeError(f"pack_padded_sequence: lengths {lens.tolist()} are not sorted "
                               "in decreasing order; sort the batch or pass "
                               "enforce_sorted=False")
    else:
        order = np.argsort(-lens, kind="stable")
        sorted_idx, unsorted_idx = order, np.argsort(order)
        lens = lens[order]
        input = input[order] if batch_first else input[:, order]  # noqa: A001
    x = input.transpose(0, 1) if batch_first else input
    T, B = int(lens[0]), x.shape[1]
    batch_sizes = (lens[None, :] > np.arange(T)[:, None]).sum(1)
    data = x.reshape((x.shape[0] * B,) + tuple(x.shape[2:]))[_packed_index(batch_sizes, B)]
    return PackedSequence(data, _tensor(batch_sizes),
                          None if sorted_idx is None else _tensor(sorted_idx),
                          None if unsorted_idx is None else _tensor(unsorted_idx))


def packed_to_padded(sequence: PackedSequence, padding_value: float = 0.0,
                     total_length: int | None = None):
    """(padded (T, B, *) in *sorted* order, sorted lengths array) of a PackedSequence."""
    data = sequence.data
    bs = sequence.batch_sizes._data.astype(np.int64)
    B = int(bs[0]) if bs.size else 0
    T = len(bs) if total_length is None else total_length
    if T < len(bs):
        raise ValueError(f"pad_packed_sequence: total_length={total_length} is shorter than "
                         f"the longest sequence ({len(bs)})")
    offsets = np.concatenate([[0], np.cumsum(bs)[:-1]])
    idx = np.full((T, B), data.shape[0], np.int64)  # the padding row
    for t in range(len(bs)):
        idx[t, :bs[t]] = offsets[t] + np.arange(bs[t])
    pad = full((1,) + tuple(data.shape[1:]), padding_value, dtype=data.dtype)
    padded = cat([data, pad])[idx.reshape(-1)]
    padded = padded.reshape((T, B) + tuple(data.shape[1:]))
    lens = (bs[None, :] > np.arange(B)[:, None]).sum(1) if B else np.zeros(0, np.int64)
    return padded, lens


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False,
                        padding_value: float = 0.0, total_length: int | None = None):
    """Inverse of ``pack_padded_sequence``: (padded (T, B, *) or (B, T, *), lengths (B,)),
    batch in the original order."""
    padded, lens = packed_to_padded(sequence, padding_value, total_length)
    if sequence.unsorted_indices is not None:
        un = sequence.unsorted_indices._data
        padded = padded[:, un]
        lens = lens[un]
    if batch_first:
        padded = padded.transpose(0, 1)
    return padded, _tensor(lens)


def pack_sequence(sequences, enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of (L_i, *) sequences (``pad_sequence`` then ``pack_padded_sequence``)."""
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpad_sequence(padded_sequences: Tensor, lengths, batch_first: bool = False) -> list:
    """The list of (L_i, *) sequences of a padded batch."""
    x = padded_sequences if batch_first else padded_sequences.transpose(0, 1)
    return [x[i, :int(n)] for i, n in enumerate(_lengths_array(lengths))]


def unpack_sequence(packed_sequences: PackedSequence) -> list:
    """The list of (L_i, *) sequences of a PackedSequence (original order)."""
    padded, lens = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lens, batch_first=True)


PackedSequence_ = PackedSequence  # PyTorch's name of the tuple base of PackedSequence


def invert_permutation(permutation):
    """The inverse of an index permutation (None stays None)."""
    if permutation is None:
        return None
    p = permutation._data if isinstance(permutation, Tensor) else np.asarray(permutation)
    out = np.empty_like(p)
    out[p] = np.arange(p.size, dtype=p.dtype)
    return _tensor(out)


def bind(optional, fn):
    """``fn(optional)``, or None when ``optional`` is None."""
    return None if optional is None else fn(optional)
