"""``chainrule.utils.tensorboard``: a ``SummaryWriter`` with PyTorch's interface that writes
plain files instead of TensorBoard event files (chainrule does not depend on TensorBoard).

``add_scalar(tag, value, step)`` appends a row ``tag,step,value,wall_time`` to
``<log_dir>/scalars.csv`` (written through the csv module, flushed on ``flush``/``close``);
``add_scalars`` writes one row per sub-tag (``main/sub``); ``add_text`` appends to
``text.csv``; ``add_hparams`` writes ``hparams.json``. Images, histograms, graphs and
embeddings are accepted and ignored with one warning each, so training scripts that log
them still run. Plot the CSV with ``chainrule.viz`` or any tool.
"""

from __future__ import annotations

import csv
import json
import os
import socket
import time
import warnings
from datetime import datetime


def _number(value):
    if hasattr(value, "item"):
        value = value.item()
    return float(value)


class SummaryWriter:
    """Log scalars (and text) of a run to CSV files in ``log_dir`` (default
    ``runs/<date>_<host><comment>``, as PyTorch)."""

    def __init__(self, log_dir=None, comment="", purge_step=None, max_queue=10,
                 flush_secs=120, filename_suffix=""):
        if log_dir is None:
            stamp = datetime.now().strftime("%b%d_%H-%M-%S")
            log_dir = os.path.join("runs", f"{stamp}_{socket.gethostname()}{comment}")
        self.log_dir = str(log_dir)
        os.makedirs(self.log_dir, exist_ok=True)
        self._files = {}
        self._warned = set()

    def get_logdir(self) -> str:
        return self.log_dir

    def _writer(self, name, header):
        if name not in self._files:
            path = os.path.join(self.log_dir, name)
            new = not os.path.exists(path)
            f = open(path, "a", newline="", encoding="utf-8")  # noqa: SIM115 (kept open)
            w = csv.writer(f)
            if new:
                w.writerow(header)
            self._files[name] = (f, w)
        return self._files[name][1]

    def add_scalar(self, tag, scalar_value, global_step=None, walltime=None,
                   new_style=False, double_precision=False):
        w = self._writer("scalars.csv", ("tag", "step", "value", "wall_time"))
        w.writerow((tag, "" if global_step is None else int(global_step),
                    repr(_number(scalar_value)), walltime or time.time()))

    def add_scalars(self, main_tag, tag_scalar_dict, global_step=None, walltime=None):
        for sub, value in tag_scalar_dict.items():
            self.add_scalar(f"{main_tag}/{sub}", value, global_step, walltime)

    def add_text(self, tag, text_string, global_step=None, walltime=None):
        w = self._writer("text.csv", ("tag", "step", "text", "wall_time"))
        w.writerow((tag, "" if global_step is None else int(global_step), text_string,
                    walltime or time.time()))

    def add_hparams(self, hparam_dict, metric_dict, hparam_domain_discrete=None,
                    run_name=None, global_step=None):
        path = os.path.join(self.log_dir, "hparams.json")
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps({"hparams": hparam_dict, "metrics": {
                k: _number(v) for k, v in metric_dict.items()}}, default=str) + "\n")

    def _ignored(self, what, *_, **__):
        if what not in self._warned:
            self._warned.add(what)
            warnings.warn(f"SummaryWriter.{what}: not recorded by chainrule's writer (it "
                          "writes scalars and text as CSV; no TensorBoard dependency)",
                          stacklevel=3)

    def __getattr__(self, name):
        if name.startswith("add_"):
            return lambda *a, **k: self._ignored(name)
        raise AttributeError(name)

    def flush(self):
        for f, _ in self._files.values():
            f.flush()

    def close(self):
        for f, _ in self._files.values():
            f.close()
        self._files = {}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
