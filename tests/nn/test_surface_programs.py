"""torch.nn surface, client-style: a PyTorch program written against torch's API (lazy
layers, PReLU/GLU, InstanceNorm, EmbeddingBag, weight_norm and spectral_norm
parametrizations, a spatial transformer with affine_grid/grid_sample, Conv3d, PixelShuffle,
a CTC loss, hooks with kwargs, pruning) runs unchanged on chainrule through
``python -m chainrule.torch_compat`` and prints the same numbers as on torch."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np

import chainrule

PROGRAM = textwrap.dedent('''
    import numpy as np
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    from torch.nn.utils import parametrizations, prune

    torch.set_default_dtype(torch.float64)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.stn = nn.Linear(8, 6)
            self.conv = nn.Conv3d(1, 4, (1, 3, 3), padding=(0, 1, 1))
            self.shuffle = nn.PixelShuffle(2)
            self.norm = nn.InstanceNorm1d(4, affine=True)
            self.act = nn.PReLU(4)
            self.glu = nn.GLU(dim=1)
            self.bag = nn.EmbeddingBag(10, 6, mode="mean")
            self.head = nn.LazyLinear(5)

        def forward(self, img, words, offsets):
            theta = self.stn(img.flatten(1)[:, :8]).view(-1, 2, 3) * 0.1
            grid = F.affine_grid(theta, img.shape, align_corners=False)
            img = F.grid_sample(img, grid, padding_mode="border", align_corners=False)
            h = self.conv(img.unsqueeze(1)).squeeze(2)            # (N, 4, 6, 6)
            h = self.shuffle(h)                                    # (N, 1, 12, 12)
            h = h.view(h.shape[0], 4, -1)                          # (N, 4, 36)
            h = self.glu(self.act(self.norm(h)))                   # (N, 2, 36)
            return self.head(torch.cat([h.flatten(1), self.bag(words, offsets)], 1))

    net = Net()
    img = torch.tensor(np.random.default_rng(1).standard_normal((3, 1, 6, 6)))
    words = torch.tensor([1, 2, 3, 4, 5, 6, 7, 8, 9])
    offsets = torch.tensor([0, 3, 5])
    net(img, words, offsets)                                       # materialises LazyLinear
    parametrizations.weight_norm(net.stn)
    parametrizations.spectral_norm(net.head)
    rng = np.random.default_rng(0)
    with torch.no_grad():
        for name, p in sorted(net.named_parameters()):
            p.copy_(torch.tensor(rng.standard_normal(tuple(p.shape)) * 0.3))
        for name, b in sorted(net.named_buffers()):
            if b.dtype == torch.float64:
                b.copy_(torch.tensor(np.abs(rng.standard_normal(tuple(b.shape))) + 0.5))
    seen = []
    net.norm.register_forward_hook(lambda m, args, kwargs, out: seen.append(out.shape[-1]),
                                   with_kwargs=True)
    prune.l1_unstructured(net.conv, "weight", amount=0.25)
    ctc = nn.CTCLoss(blank=0)
    opt = torch.optim.SGD(net.parameters(), lr=0.05)
    targets = torch.tensor([[1, 2], [3, 3], [4, 1]])
    for step in range(3):
        opt.zero_grad()
        out = net(img, words, offsets)                             # (3, 5): 3 frames
        log_probs = out.unsqueeze(0).expand(4, -1, -1).log_softmax(2)  # (T=4, N=3, C=5)
        loss = ctc(log_probs, targets, torch.tensor([4, 4, 4]), torch.tensor([2, 2, 2]))
        loss.backward()
        opt.step()
        print(f"loss {loss.item():.12f}")
    print("shapes", type(net.head).__name__, net.head.in_features, seen[0])
    print("pruned", int((net.conv.weight == 0).sum()))
''')


def _numbers(text):
    return [float(tok) for line in text.splitlines() for tok in line.split()[1:]
            if tok.replace(".", "").replace("-", "").isdigit()]


def test_program_runs_unchanged_and_matches_torch(torch, tmp_path, capsys):
    script = tmp_path / "program.py"
    script.write_text(PROGRAM)
    src = str(Path(chainrule.__file__).resolve().parent.parent)
    proc = subprocess.run([sys.executable, "-m", "chainrule.torch_compat", str(script)],
                          capture_output=True, text=True, timeout=300,
                          env={"PYTHONPATH": src, "PATH": "/usr/bin:/bin",
                               "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    exec(compile(PROGRAM, "program.py", "exec"), {"__name__": "__main__"})
    reference = capsys.readouterr().out
    torch.set_default_dtype(torch.float32)
    assert "Linear 78" in proc.stdout
    np.testing.assert_allclose(_numbers(proc.stdout), _numbers(reference), rtol=1e-9)
    assert proc.stdout.splitlines()[-2:] == reference.splitlines()[-2:]
