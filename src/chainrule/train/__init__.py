"""``chainrule.train``: ``fit`` / ``evaluate`` / ``predict``, callbacks, metrics, history and
the output-unit table (``tasks``).

    from chainrule.train import fit, evaluate, EarlyStopping
    h = fit(model, (X, y), loss=nn.CrossEntropyLoss(), optimizer="adam", epochs=20,
            val=(Xv, yv), metrics=["accuracy"], callbacks=[EarlyStopping(patience=5)])
"""

from . import metrics, tasks
from ._finite import NonFiniteLossWarning
from ._setup import OPTIMIZERS, make_optimizer
from .callbacks import (CSVLogger, Callback, EarlyStopping, LRScheduler, ModelCheckpoint,
                        ProgressBar, TerminateOnNaN)
from .fit import fit
from ._evaluate import evaluate, predict
from .history import History
from .rundir import RunError, load_run
from .tasks import Head, head_for, infer_task

__all__ = ["CSVLogger", "Callback", "EarlyStopping", "Head", "History", "LRScheduler",
           "ModelCheckpoint", "NonFiniteLossWarning", "OPTIMIZERS", "ProgressBar", "RunError", "TerminateOnNaN",
           "evaluate", "fit", "head_for", "infer_task", "load_run", "make_optimizer", "metrics",
           "predict", "tasks"]
