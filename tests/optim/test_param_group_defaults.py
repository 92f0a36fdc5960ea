"""Every optimizer's param_groups defaults as PyTorch 2.13 stores them, value and type:
programs print ``optimizer.state_dict()`` (the saving tutorial does) and compare it."""

from __future__ import annotations

import pytest


def _names(torch):
    return [n for n in dir(torch.optim) if n[0].isupper() and n not in ("Optimizer", "Muon")
            and isinstance(getattr(torch.optim, n), type)]


def test_param_group_defaults_as_torch(torch):
    import chainrule as cr

    names = _names(torch)
    assert len(names) >= 13
    for name in names:
        kw = {"lr": 0.1} if name == "SGD" else {}
        ours = getattr(cr.optim, name)([cr.nn.Parameter(cr.ones(2))], **kw)
        theirs = getattr(torch.optim, name)([torch.nn.Parameter(torch.ones(2))], **kw)
        g_ours = ours.state_dict()["param_groups"][0]
        g_theirs = theirs.state_dict()["param_groups"][0]
        assert list(g_ours) == list(g_theirs), name
        for k in g_theirs:
            assert repr(g_ours[k]) == repr(g_theirs[k]), (name, k, g_ours[k], g_theirs[k])


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop", "Adagrad"])
def test_printed_state_dict_as_torch(torch, name):
    import chainrule as cr

    kw = {"lr": 0.1} if name == "SGD" else {}
    ours = getattr(cr.optim, name)([cr.nn.Parameter(cr.ones(2))], **kw)
    theirs = getattr(torch.optim, name)([torch.nn.Parameter(torch.ones(2))], **kw)
    assert str(ours.state_dict()) == str(theirs.state_dict())


@pytest.mark.parametrize("name", ["Adam", "AdamW", "NAdam", "RAdam", "Adamax", "Adagrad",
                                  "Adadelta", "RMSprop", "Rprop", "ASGD", "Adafactor"])
def test_state_after_steps_as_torch(torch, name):
    """After three steps: the same state keys in the same order, ``step`` (and NAdam's
    ``mu_product``) 0-d tensors of the scalar dtype, and the same parameters to float32
    rounding (NAdam's float32 mu_product included)."""
    import numpy as np

    import chainrule as cr

    w0 = np.array([0.5, -1.5, 2.0], np.float32)
    got = {}
    for lib in (torch, cr):
        p = lib.nn.Parameter(lib.tensor(w0))
        opt = getattr(lib.optim, name)([p], lr=0.1)
        for k in range(3):
            p.grad = lib.tensor(w0 * (k + 1))
            opt.step()
        st = opt.state[p]
        got[lib.__name__] = (p.detach().numpy().copy(), list(st), st["step"])
    (wt, kt, st), (wc, kc, sc) = got["torch"], got["chainrule"]
    assert kc == kt
    assert sc.item() == st.item() == 3.0 and str(sc.dtype).endswith(str(st.dtype)[6:])
    np.testing.assert_allclose(wc, wt, rtol=2e-6, atol=1e-7)
