"""Named results (``torch.return_types``): the same type names, fields and printed form as
PyTorch's structseqs, for every operation that returns one."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr

A = np.array([[4.0, 1.0, 0.5], [1.0, 3.0, 0.2], [0.5, 0.2, 2.0]])

CASES = [
    ("max", lambda m, t: t.max(0)), ("min", lambda m, t: m.min(t, 1)),
    ("sort", lambda m, t: t.sort(1)), ("topk", lambda m, t: m.topk(t, 2)),
    ("median", lambda m, t: t.median(0)), ("mode", lambda m, t: t.mode(0)),
    ("kthvalue", lambda m, t: t.kthvalue(1, 0)), ("cummax", lambda m, t: t.cummax(0)),
    ("cummin", lambda m, t: m.cummin(t, 1)), ("aminmax", lambda m, t: m.aminmax(t)),
    ("frexp", lambda m, t: m.frexp(t)), ("histogram", lambda m, t: m.histogram(t, 3)),
    ("linalg_qr", lambda m, t: m.linalg.qr(t)), ("linalg_svd", lambda m, t: m.linalg.svd(t)),
    ("linalg_eigh", lambda m, t: m.linalg.eigh(t)),
    ("linalg_slogdet", lambda m, t: m.linalg.slogdet(t)),
    ("linalg_cholesky_ex", lambda m, t: m.linalg.cholesky_ex(t)),
    ("linalg_lu_factor", lambda m, t: m.linalg.lu_factor(t)),
    ("linalg_lu", lambda m, t: m.linalg.lu(t)), ("linalg_inv_ex", lambda m, t: m.linalg.inv_ex(t)),
    ("linalg_solve_ex", lambda m, t: m.linalg.solve_ex(t, t)),
    ("linalg_lstsq", lambda m, t: m.linalg.lstsq(t, t)), ("svd", lambda m, t: m.svd(t)),
]


@pytest.mark.parametrize("name,call", CASES, ids=[c[0] for c in CASES])
def test_type_name_and_fields_match_torch(name, call, torch):
    mine = call(cr, cr.tensor(A))
    theirs = call(torch, torch.tensor(A))
    assert type(theirs).__name__ == name
    assert type(mine).__name__ == name
    assert type(mine).__module__ == "chainrule.return_types"
    assert getattr(cr.return_types, name) is type(mine)
    assert len(mine) == len(theirs)
    for field, value in zip(mine._fields, mine):
        assert np.allclose(np.asarray(getattr(theirs, field)), np.asarray(value), atol=1e-6)


def test_printed_like_torch(torch):
    mine = repr(cr.tensor([3.0, 1.0, 2.0]).max(0))
    theirs = repr(torch.tensor([3.0, 1.0, 2.0]).max(0))
    assert mine == theirs.replace("torch.", "chainrule.")
    assert mine == "chainrule.return_types.max(\nvalues=tensor(3.),\nindices=tensor(0))"


def test_still_a_named_tuple():
    values, indices = cr.tensor([[1.0, 5.0]]).max(1)
    r = cr.tensor([[1.0, 5.0]]).max(1)
    assert r[0] is r.values and isinstance(r, tuple) and r._asdict()["indices"] is r[1]
    assert values.tolist() == [5.0] and indices.tolist() == [1]
