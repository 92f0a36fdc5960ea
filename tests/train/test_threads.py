"""The default BLAS threads: one for small models (a second one only oversubscribes a busy
machine, see benchmarks/threads.py), more for large ones when cores are free; fit applies
it while training unless the user set the threads."""

from __future__ import annotations

import numpy as np
from threadpoolctl import threadpool_info

import chainrule as cr
from chainrule import _threads, nn
from chainrule.train import Callback, fit
from chainrule.train import threads as th


def _blas() -> int:
    infos = [i for i in threadpool_info() if i.get("user_api") == "blas"]
    return max(i["num_threads"] for i in infos) if infos else 1


def test_auto_threads_rule(monkeypatch):
    monkeypatch.setattr(th.os, "cpu_count", lambda: 2)
    assert th.auto_threads(None) == 1
    assert th.auto_threads(th.flops_per_step(5_000, 32)) == 1  # the Heart MLP: 1 MFLOP
    monkeypatch.setattr(th.os, "getloadavg", lambda: (0.9, 0.9, 0.9))  # only us running
    assert th.auto_threads(1e9) == 2
    monkeypatch.setattr(th.os, "getloadavg", lambda: (2.1, 2.0, 2.0))  # the other core busy
    assert th.auto_threads(1e9) == 1
    monkeypatch.setattr(th.os, "cpu_count", lambda: 1)
    monkeypatch.setattr(th.os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    assert th.auto_threads(1e12) == 1


class Seen(Callback):
    def on_batch_end(self, batch, logs=None):
        self.threads = _blas()


def _fit(**kw):
    X = cr.tensor(np.random.default_rng(0).normal(size=(64, 3)).astype(np.float32))
    y = cr.tensor(np.zeros((64, 1), np.float32))
    seen = Seen()
    fit(nn.Linear(3, 1), (X, y), loss=nn.MSELoss(), optimizer="sgd", lr=0.1, epochs=1,
        verbose=0, callbacks=[seen], **kw)
    return seen.threads


def test_fit_uses_one_thread_for_small_models_and_restores(monkeypatch):
    monkeypatch.setattr(_threads, "_limiter", None)  # as if nobody called set_num_threads
    before = _blas()
    assert _fit() == 1
    assert _blas() == before
    if before > 1:  # explicit settings win
        assert _fit(threads=None) == before
        assert _fit(threads=2) == 2
        monkeypatch.setattr(_threads, "_limiter", object())  # as after cr.set_num_threads
        assert _fit() == before
