# A Dataset whose __getitem__ does real work, loaded by two worker processes with a
# worker_init_fn, and an IterableDataset that shards itself with get_worker_info; the
# batches must arrive in the same order as with num_workers=0.
import json

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, IterableDataset, get_worker_info


class Signals(Dataset):
    def __len__(self):
        return 40

    def __getitem__(self, i):
        t = np.linspace(0, 1, 64)
        x = np.sin(2 * np.pi * (i % 7 + 1) * t) + 0.01 * i
        return torch.from_numpy(x.astype(np.float32)), i % 3


class Counting(IterableDataset):
    def __iter__(self):
        info = get_worker_info()
        start, step = (0, 1) if info is None else (info.id, info.num_workers)
        return iter(range(start, 20, step))


def init(worker_id):
    np.random.seed(worker_id)


if __name__ == "__main__":
    out = {}
    for workers in (0, 2):
        loader = DataLoader(Signals(), batch_size=8, num_workers=workers, worker_init_fn=init)
        out[f"sums_{workers}"] = [float(x.sum()) for x, _ in loader]
        out[f"labels_{workers}"] = [y.tolist() for _, y in loader]
    counted = DataLoader(Counting(), batch_size=5, num_workers=2)
    out["counting"] = sorted(int(v) for b in counted for v in b)
    print(json.dumps(out))
