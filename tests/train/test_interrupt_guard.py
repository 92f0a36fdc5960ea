"""SigintGuard's modes with real SIGINTs to this process: flag, raise, defer (a second
Ctrl-C held until the section ends), nested guards sharing one handler, fit stopping at once
when Ctrl-C came before it started."""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.train import fit
from chainrule.train._interrupt import SigintGuard


def _sigint():
    os.kill(os.getpid(), signal.SIGINT)


def test_modes_and_restore():
    before = signal.getsignal(signal.SIGINT)
    with SigintGuard() as g:
        _sigint()
        assert g.flag and g.count == 1
        with pytest.raises(KeyboardInterrupt):
            _sigint()  # the second one in "flag" mode
        with pytest.raises(KeyboardInterrupt), g.mode("raise"):
            _sigint()
    assert signal.getsignal(signal.SIGINT) is before


def test_defer_holds_a_second_sigint_until_the_section_ends():
    written = []
    with SigintGuard() as g:
        _sigint()  # the first: a flag
        with pytest.raises(KeyboardInterrupt):
            with g.mode("defer"):
                _sigint()  # held
                written.append("model")
                written.append("config")
        assert written == ["model", "config"]
        with g.mode("defer"), g.mode("defer"):  # nested: raised by the outer end only
            pass


def test_nested_guards_share_the_outer_one():
    with SigintGuard("raise") as outer:
        inner = SigintGuard()
        with inner as shared:
            assert shared is outer and not inner.owner
        assert SigintGuard._current is outer and outer.owner
    assert SigintGuard._current is None


def test_fit_returns_at_once_when_interrupted_before_it_started(tmp_path):
    X = cr.tensor(np.random.default_rng(0).normal(size=(40, 2)).astype(np.float32))
    y = cr.tensor(np.zeros((40, 1), np.float32))
    model = nn.Linear(2, 1)
    w = model.weight.detach().numpy().copy()
    with SigintGuard() as g:
        _sigint()
        h = fit(model, (X, y), loss=nn.MSELoss(), optimizer="sgd", lr=0.1, epochs=3,
                verbose=0, checkpoint=tmp_path / "c.safetensors")
    assert g.flag and h.interrupted and len(h) == 0
    assert np.array_equal(model.weight.detach().numpy(), w)  # not one step taken
    state = cr.load(tmp_path / "c.safetensors")
    assert (state["epoch"], state["batch"]) == (0, 0)
