"""When do DataLoader worker processes help?  ``num_workers`` 0, 1 and 2 on three datasets.

    flock /tmp/chainrule-heavy.lock python -m benchmarks.dataloader_workers [--quick]

* ``numpy``: ``__getitem__`` does ~1 ms of NumPy work per sample (a stand-in for decoding and
  augmenting an image), single-threaded.
* ``io``: ``__getitem__`` sleeps 1 ms per sample (a stand-in for reading a file).
* ``tensor``: a ``TensorDataset`` of 4096 x 64 floats, where the loader's fast path cuts
  each batch with one indexing per tensor.

Each epoch of batches of 32 is read with a small training step in the main process (an MLP
forward and backward on the batch, ~1 ms) so that loading can overlap with training, as in a
real loop. Workers are persistent; the table gives the median epoch time over the epochs
after the first (steady state) and, separately, the first epoch (which pays for starting the
workers). Speed-up is relative to ``num_workers=0``. The last column is the main process's
own CPU time (``time.process_time``): it shows the loading work leaving the training process
even on a busy machine, where wall-clock speed-ups need free cores. BLAS is limited to one
thread so the worker processes are not competing with a multi-threaded main process.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import chainrule as cr
from chainrule import nn
from chainrule.utils.data import DataLoader, Dataset, TensorDataset

BATCH = 32


class NumpyWork(Dataset):
    """~``ms`` milliseconds of elementwise NumPy work per sample."""

    def __init__(self, n: int, size: int):
        self.n, self.size = n, size

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        rng = np.random.default_rng(i)
        x = rng.standard_normal(self.size).astype(np.float32)
        x = np.sort(np.tanh(x) * np.exp(-x * x))
        return cr.tensor(x[:64]), i % 10


class SleepWork(Dataset):
    """``ms`` milliseconds of waiting per sample (I/O)."""

    def __init__(self, n: int, ms: float):
        self.n, self.ms = n, ms

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        time.sleep(self.ms / 1000)
        return cr.full((64,), float(i)), i % 10


def sample_ms(size: int) -> float:
    ds = NumpyWork(1, size)
    ds[0]
    reps = []
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(10):
            ds[0]
        reps.append((time.perf_counter() - t0) / 10 * 1000)
    return statistics.median(reps)


def calibrate_size(target_ms: float = 1.0) -> int:
    """Array length for which one NumpyWork sample takes ~target_ms here."""
    size = 4096
    while sample_ms(size) < target_ms / 2 and size < 1 << 22:
        size *= 2
    return int(size * target_ms / sample_ms(size))


def train_step(model, opt, batch) -> None:
    x, y = batch
    opt.zero_grad()
    nn.functional.cross_entropy(model(x.float()), y).backward()
    opt.step()


def run(ds, workers: int, epochs: int) -> tuple[float, float, float]:
    """(first epoch seconds, median seconds of the later epochs, median CPU seconds of the
    main process in the later epochs)."""
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 10))
    opt = cr.optim.SGD(model.parameters(), lr=0.01)
    loader = DataLoader(ds, batch_size=BATCH, shuffle=True, num_workers=workers,
                        persistent_workers=workers > 0)
    times, cpu = [], []
    for _ in range(epochs):
        t0, c0 = time.perf_counter(), time.process_time()
        for batch in loader:
            train_step(model, opt, batch)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    del loader
    return times[0], statistics.median(times[1:]), statistics.median(cpu[1:])


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer samples and epochs")
    args = parser.parse_args(argv)
    cr.set_num_threads(1)
    n = 256 if args.quick else 1024
    epochs = 3 if args.quick else 5
    size = calibrate_size()
    datasets = {
        "numpy ~1 ms/sample": NumpyWork(n, size),
        "io 1 ms/sample (sleep)": SleepWork(n, 1.0),
        f"TensorDataset {4 * n}x64": TensorDataset(cr.randn(4 * n, 64),
                                                   cr.randint(0, 10, (4 * n,))),
    }
    print(f"batches of {BATCH}; numpy work: arrays of {size} floats "
          f"({sample_ms(size):.2f} ms/sample here); {n} samples per epoch for the first two "
          "datasets\n")
    print("| dataset | workers | first epoch (s) | later epochs (s) | speed-up | "
          "main-process CPU per epoch (s) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, ds in datasets.items():
        base = None
        for workers in (0, 1, 2):
            first, later, cpu = run(ds, workers, epochs)
            base = later if base is None else base
            print(f"| {name} | {workers} | {first:.3f} | {later:.3f} | {base / later:.2f}x | "
                  f"{cpu:.3f} |", flush=True)


if __name__ == "__main__":
    main()
