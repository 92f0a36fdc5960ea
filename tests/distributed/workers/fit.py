"""fit(distributed=...) on N processes; writes the result as JSON for test_train.py.

    python fit.py OUT.json [single] [--resume CKPT] [--kill-at EPOCH]
"""

import json
import os
import signal
import sys

import numpy as np

import chainrule as cr
from chainrule import nn
from chainrule.train import Callback, EarlyStopping, fit

out_path = sys.argv[1]
single = "single" in sys.argv
resume = sys.argv[sys.argv.index("--resume") + 1] if "--resume" in sys.argv else None
kill_at = int(sys.argv[sys.argv.index("--kill-at") + 1]) if "--kill-at" in sys.argv else None
epochs = int(sys.argv[sys.argv.index("--epochs") + 1]) if "--epochs" in sys.argv else 4
ckpt = sys.argv[sys.argv.index("--checkpoint") + 1] if "--checkpoint" in sys.argv else None

cr.set_default_dtype(cr.float64)
rng = np.random.default_rng(0)
X = cr.tensor(rng.standard_normal((200, 5)))
y = cr.tensor((X._data[:, 0] + X._data[:, 1] ** 2 > 0.8).astype(np.int64))
Xv = cr.tensor(rng.standard_normal((50, 5)))
yv = cr.tensor((Xv._data[:, 0] + Xv._data[:, 1] ** 2 > 0.8).astype(np.int64))
cr.manual_seed(0)
model = nn.Sequential(nn.Linear(5, 16), nn.Tanh(), nn.Linear(16, 2))


class KillMe(Callback):
    """SIGKILL rank 1 in the middle of epoch ``kill_at`` (a real crash: no cleanup)."""

    def on_batch_end(self, batch, logs=None):
        import chainrule.distributed as dist

        if dist.get_rank() == 1 and self.run.position[0] == kill_at and batch == 2:
            os.kill(os.getpid(), signal.SIGKILL)


callbacks = [EarlyStopping("val_loss", patience=50)] + ([KillMe()] if kill_at is not None
                                                       else [])
h = fit(model, (X, y), loss=nn.CrossEntropyLoss(), optimizer="adam", lr=0.01, epochs=epochs,
        batch_size=32, val=(Xv, yv), metrics=["accuracy"], seed=0, verbose=0,
        callbacks=callbacks, distributed=False if single else None, checkpoint=ckpt,
        resume_from=resume)
weights = np.concatenate([p._data.ravel() for p in model.parameters()])
import chainrule.distributed as dist  # noqa: E402

rank = dist.get_rank() if dist.is_initialized() else 0
with open(f"{out_path}.{rank}", "w") as f:
    json.dump({"weights": weights.tolist(), "history": h.history,
               "world": dist.get_world_size() if dist.is_initialized() else 1}, f)
