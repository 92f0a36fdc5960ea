"""The numeric core of ``assert_close``: closeness as ``torch.isclose`` computes it, and the
mismatch messages (counts, greatest absolute and relative difference with their index).

Everything here works on NumPy arrays; ``_comparison`` turns tensors and tensor-likes into
arrays first. The arithmetic is done in the dtype PyTorch uses for it, so that a borderline
case passes or fails as it does under PyTorch:

- floating and complex inputs: in their own dtype (a float16 tolerance test rounds to float16
  as PyTorch's does; NumPy 2 keeps Python-scalar ``rtol``/``atol`` from up-casting);
- integer and bool inputs: the allowed error ``atol + |rtol * expected|`` in float32 (PyTorch's
  default dtype) and the actual error ``|actual - expected|`` in the integer dtype (it wraps
  as PyTorch's does), compared in float32.
"""

from __future__ import annotations

import numpy as np

# Default (rtol, atol) per dtype, as PyTorch 2.13 documents them for assert_close. chainrule
# has no bfloat16 and no complex tensors; complex NumPy arrays still get PyTorch's values.
DEFAULT_TOLERANCES = {
    np.dtype(np.float16): (1e-3, 1e-5),
    np.dtype(np.float32): (1.3e-6, 1e-5),
    np.dtype(np.float64): (1e-7, 1e-7),
    np.dtype(np.complex64): (1.3e-6, 1e-5),
    np.dtype(np.complex128): (1e-7, 1e-7),
}

_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}


def default_tolerances(*np_dtypes, table=None) -> tuple[float, float]:
    """The loosest (rtol, atol) of the given dtypes; dtypes not in the table get (0, 0)."""
    table = DEFAULT_TOLERANCES if table is None else table
    pairs = [table.get(np.dtype(d), (0.0, 0.0)) for d in np_dtypes]
    return max(p[0] for p in pairs), max(p[1] for p in pairs)


def promote(a: np.dtype, b: np.dtype) -> np.dtype:
    """PyTorch's ``promote_types`` on NumPy dtypes: the higher category (bool < integer <
    floating < complex) wins whole; within a category the wider type. uint16/32/64 count as
    int64 first, as ``assert_close`` treats them."""
    a, b = (np.dtype(np.int64) if d.kind == "u" and d.itemsize > 1 else d for d in (a, b))
    ca, cb = _CATEGORY[a.kind], _CATEGORY[b.kind]
    if ca == cb or {ca, cb} == {2, 3}:
        return np.result_type(a, b)  # complex64 with float64 is complex128, as in PyTorch
    return a if ca > cb else b


def isclose(actual: np.ndarray, expected: np.ndarray, rtol, atol, equal_nan: bool) -> np.ndarray:
    """``|actual - expected| <= atol + rtol * |expected|`` elementwise, with PyTorch's rules:
    equal values (infinities included) are close, NaN only with ``equal_nan``, a non-finite
    difference never, and zero tolerances mean exact equality."""
    if rtol < 0 or atol < 0:
        name, value = ("rtol", rtol) if rtol < 0 else ("atol", atol)
        raise RuntimeError(f"assert_close: {name} must be greater than or equal to zero, but "
                           f"got {value} (tolerances are magnitudes; pass abs({value}))")
    with np.errstate(all="ignore"):
        close = np.asarray(actual == expected)
        if equal_nan and actual.dtype.kind in "fc":
            close = close | (np.isnan(actual) & np.isnan(expected))
        if rtol == 0 and atol == 0:
            return close
        if actual.dtype.kind == "b":
            actual, expected = actual.astype(np.float32), expected.astype(np.float32)
        if actual.dtype.kind in "iu":
            allowed = atol + np.abs(rtol * expected.astype(np.float32))
            error = np.abs(actual - expected).astype(np.float32)
        else:
            allowed = atol + np.abs(rtol * expected)
            error = np.abs(actual - expected)
        return close | (np.isfinite(error) & (error <= allowed))


def _diff_line(kind: str, diff, index, tol, equality: bool) -> str:
    if index is None:
        line = f"{kind.title()} difference: {diff}"
    else:
        line = f"Greatest {kind} difference: {diff} at index {index}"
    return line if equality else f"{line} (up to {tol} allowed)"


def mismatch_message(identifier: str, extra: str, abs_diff, abs_index, rel_diff, rel_index,
                     rtol, atol) -> str:
    """The message body: header, the extra line, the absolute and relative lines."""
    equality = rtol == 0 and atol == 0
    lines = [f"{identifier} are not {'equal' if equality else 'close'}!", ""]
    if extra:
        lines.append(extra.strip())
    lines.append(_diff_line("absolute", abs_diff, abs_index, atol, equality))
    lines.append(_diff_line("relative", rel_diff, rel_index, rtol, equality))
    return "\n".join(lines).strip()


def scalar_message(actual, expected, rtol, atol, identifier: str = "Scalars") -> str:
    """Message for two Python scalars (and 0-dimensional tensors, through ``.item()``)."""
    abs_diff = abs(actual - expected)
    rel_diff = float("inf") if expected == 0 else abs_diff / abs(expected)
    return mismatch_message(identifier, f"Expected {expected} but got {actual}.",
                            abs_diff, None, rel_diff, None, rtol, atol)


def array_message(actual: np.ndarray, expected: np.ndarray, matches: np.ndarray, rtol, atol,
                  identifier: str = "Tensor-likes") -> str:
    """Message for arrays: the mismatch count, and the greatest absolute and relative
    differences among the mismatched elements (the first index on ties and NaN)."""
    total = matches.size
    wrong = total - int(np.count_nonzero(matches))
    extra = f"Mismatched elements: {wrong} / {total} ({wrong / total:.1%})"
    a, e, m = actual.reshape(-1), expected.reshape(-1), matches.reshape(-1)
    if a.dtype.kind not in "fc":
        a, e = a.astype(np.int64), e.astype(np.int64)
    with np.errstate(all="ignore"):
        abs_diff = np.abs(a - e)
        abs_diff[m] = 0
        if abs_diff.dtype.kind in "iu":  # PyTorch divides integers in its default float32
            rel_diff = abs_diff.astype(np.float32) / np.abs(e).astype(np.float32)
        else:
            rel_diff = abs_diff / np.abs(e)
        rel_diff[m] = 0
    i, j = int(np.argmax(abs_diff)), int(np.argmax(rel_diff))

    def unravel(flat: int) -> tuple:
        return tuple(int(k) for k in np.unravel_index(flat, matches.shape))

    return mismatch_message(identifier, extra, abs_diff[i].item(), unravel(i),
                            rel_diff[j].item(), unravel(j), rtol, atol)
