"""``chainrule.torch_compat``: PyTorch programs run unchanged with ``import torch`` mapped."""

from __future__ import annotations

import subprocess
import sys
import textwrap

PROGRAM = textwrap.dedent("""
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    import torch.backends.cudnn as cudnn
    from torch.nn.modules.loss import _Loss
    from torch.utils.data import DataLoader, TensorDataset
    cudnn.benchmark = True
    torch.manual_seed(0)
    x = torch.randn(64, 4)
    y = (x.sum(1) > 0).long()
    model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(inplace=True), nn.Linear(16, 2))
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    first = None
    for epoch in range(20):
        loss_sum = 0
        for xb, yb in DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True):
            opt.zero_grad()
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
            loss_sum += loss.item()
        first = loss_sum if first is None else first
    print(torch.__name__, first, loss_sum)
""")


def test_program_runs_on_chainrule_unchanged(tmp_path):
    script = tmp_path / "prog.py"
    script.write_text(PROGRAM)
    proc = subprocess.run([sys.executable, "-m", "chainrule.torch_compat", str(script)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    name, first, last = proc.stdout.split()
    assert name == "chainrule" and float(last) < 0.2 * float(first)


def test_missing_torch_path_is_named(tmp_path):
    script = tmp_path / "prog.py"
    script.write_text("import torch.no_such_module\n")
    proc = subprocess.run([sys.executable, "-m", "chainrule.torch_compat", str(script)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    assert "No module named 'torch.no_such_module'" in proc.stderr
    assert "chainrule" in proc.stderr


def test_install_and_uninstall_in_process():
    from chainrule import torch_compat

    real = {k: sys.modules.pop(k) for k in list(sys.modules)
            if k == "torch" or k.startswith("torch.")}  # PyTorch itself, if a test imported it
    torch_compat.install()
    try:
        import torch.nn.functional as F  # noqa: F401  (chainrule's, under the torch name)

        assert sys.modules["torch"].__name__ == "chainrule"
        assert F.__name__ == "chainrule.nn.functional"
        assert repr(sys.modules["torch"].float32) == "torch.float32"
    finally:
        torch_compat.uninstall()
        sys.modules.update(real)
    import chainrule as cr

    assert repr(cr.float32) == "chainrule.float32"
    assert "torch" not in sys.modules or sys.modules["torch"].__name__ == "torch"


_REPRS = """
import torch
x = torch.zeros(2, 3, dtype=torch.float64)
print(x.dtype, torch.int64, x.shape, x.size(1), torch.Size([4]))
print(x.type(), torch.ones(2, dtype=torch.int32).type(), x.type() == 'torch.DoubleTensor')
print(repr(torch.ones(2, dtype=torch.float16)))
print(torch.strided, torch.contiguous_format, torch.LongTensor)
print(str(x.dtype).split('.')[-1], torch.typename(x))
print(torch.topk(torch.tensor([1., 5., 3.]), 2))
"""


def test_reprs_name_torch_under_the_shim(tmp_path, torch):
    """A program run through the shim prints what it prints on PyTorch (torch.float32,
    torch.Size, 'torch.FloatTensor'); importing chainrule directly keeps chainrule.*."""
    script = tmp_path / "reprs.py"
    script.write_text(_REPRS)
    ours = subprocess.run([sys.executable, "-m", "chainrule.torch_compat", str(script)],
                          capture_output=True, text=True, timeout=120)
    theirs = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                            timeout=120)
    assert ours.returncode == 0, ours.stderr
    assert ours.stdout == theirs.stdout
    import chainrule as cr

    assert repr(cr.float32) == "chainrule.float32" and repr(cr.Size([2])) == "chainrule.Size([2])"
