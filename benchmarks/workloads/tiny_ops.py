"""Programs of thousands of tiny operations: a linear-chain CRF and a hand-stepped LSTM.

The pattern of real PyTorch programs such as a BiLSTM-CRF tagger or a sequence model
stepped one time step at a time: scalar-sized tensors, a Python loop per tag and per step,
indexing, ``view``/``expand``, ``torch.cat``, ``max`` and ``.item()`` inside the loop. Per
step, almost nothing is arithmetic: the time is what the framework adds around each op.

Rows (seconds per step, forward + backward + an SGD update):

* ``crf`` -- the forward algorithm (log partition function) of a CRF with 6 tags over a
  sentence of 20 words, written tag by tag with a max-shifted log-sum-exp that reads the
  maximum's index with ``.item()``, plus the gold path's score;
* ``lstmcell`` -- an ``nn.LSTMCell(8, 16)`` stepped 30 times by hand, a linear readout per
  step, the loss accumulated with ``+=`` and its value read with ``.item()`` each step.
"""

from __future__ import annotations

import numpy as np

from .._common import SEED, median, time_calls

NAME = "tiny-ops"
TITLE = "tiny-op programs: a CRF forward algorithm and a hand-stepped LSTMCell"
UNIT = "s/step"
TARGET = 1.0
ITEMS = ("crf", "lstmcell")
#: why the compiled peers have no row: every step reads values with ``.item()`` and picks
#: tensors by them, which a captured program cannot replay (eager is the figure here)
NO_COMPILE = ("not compiled: each step branches on .item() values (a graph break per tag); "
              "the eager row is the figure for this pattern")
TAGS, WORDS, STEPS = 6, 20, 30


def _reps(quick):
    return (3, 3) if quick else (10, 7)  # steps per block, blocks


def _log_sum_exp(lib, v):
    best = lib.argmax(v, dim=1).item()
    top = v[0, best]
    return top + lib.log(lib.sum(lib.exp(v - top.view(1, -1).expand(1, v.size(1)))))


def _crf_step(lib, feats, trans, gold, opt):
    opt.zero_grad()
    alpha = lib.full((1, TAGS), -1e4)
    alpha[0][0] = 0.0
    for feat in feats:
        nxt = []
        for tag in range(TAGS):
            score = alpha + trans[tag].view(1, -1) + feat[tag].view(1, -1).expand(1, TAGS)
            nxt.append(_log_sum_exp(lib, score).view(1))
        alpha = lib.cat(nxt).view(1, -1)
    log_z = _log_sum_exp(lib, alpha + trans[TAGS - 1].view(1, -1))
    gold_score = lib.zeros(1)
    prev = 0
    for i, tag in enumerate(gold):
        gold_score = gold_score + trans[tag, prev] + feats[i, tag]
        prev = tag
    loss = log_z - gold_score
    loss.backward()
    opt.step()
    return loss.item()


def _lstm_step(lib, cell, head, xs, ys, opt):
    opt.zero_grad()
    h = lib.zeros(1, 16)
    c = lib.zeros(1, 16)
    loss = 0
    total = 0.0
    for t in range(STEPS):
        h, c = cell(xs[t], (h, c))
        err = head(h) - ys[t]
        step_loss = (err * err).mean()
        loss += step_loss
        total += step_loss.item()
    loss.backward()
    opt.step()
    return total


def framework(lib, quick, compile=False):
    rng = np.random.default_rng(SEED)
    lib.manual_seed(SEED)
    feats = lib.tensor(rng.standard_normal((WORDS, TAGS)).astype(np.float32), requires_grad=True)
    trans = lib.tensor(0.1 * rng.standard_normal((TAGS, TAGS)).astype(np.float32),
                       requires_grad=True)
    gold = [int(t) for t in rng.integers(0, TAGS, WORDS)]
    opt = lib.optim.SGD([feats, trans], lr=0.01)
    cell, head = lib.nn.LSTMCell(8, 16), lib.nn.Linear(16, 1)
    xs = lib.tensor(rng.standard_normal((STEPS, 1, 8)).astype(np.float32))
    ys = lib.tensor(rng.standard_normal((STEPS, 1, 1)).astype(np.float32))
    opt2 = lib.optim.SGD(list(cell.parameters()) + list(head.parameters()), lr=0.01)
    n, blocks = _reps(quick)
    runs = {
        "crf": lambda: _crf_step(lib, feats, trans, gold, opt),
        "lstmcell": lambda: _lstm_step(lib, cell, head, xs, ys, opt2),
    }
    items, losses = {}, {}
    for name, fn in runs.items():
        losses[name] = fn()

        def block(fn=fn):
            for _ in range(n):
                fn()

        items[name] = median(time_calls(block, blocks)) / n
    return {"items": items, "loss": losses}


def numpy(quick):
    return None
