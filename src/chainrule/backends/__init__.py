"""``chainrule.backends``: the switches PyTorch programs set for their backends.

chainrule computes with NumPy on the CPU, so these flags change nothing; they exist so that
``torch.backends.cudnn.deterministic = True`` and ``torch.backends.mps.is_available()`` run
unchanged. The availability questions answer False (no cuDNN, MPS or MKL-DNN here)."""

from __future__ import annotations

import sys
import types


def _namespace(name, doc, **attrs):
    """A submodule ``chainrule.backends.<name>`` (importable, as ``import
    torch.backends.cudnn as cudnn`` needs) holding ``attrs``."""
    m = types.ModuleType(f"{__name__}.{name}", doc)
    m.__dict__.update(attrs)
    sys.modules[m.__name__] = m
    return m


def _false(*_, **__) -> bool:
    return False


cudnn = _namespace("cudnn", "cuDNN switches (no cuDNN here).", enabled=True, benchmark=False,
                   deterministic=False, allow_tf32=True, is_available=_false,
                   version=lambda: None)
mps = _namespace("mps", "Apple MPS (not available).", is_available=_false, is_built=_false)
mkldnn = _namespace("mkldnn", "oneDNN (not used: chainrule computes with NumPy).",
                    enabled=False, is_available=_false)
mkl = _namespace("mkl", "MKL (NumPy's BLAS is used instead).", is_available=_false)
openmp = _namespace("openmp", "OpenMP (not used).", is_available=_false)
cuda = _namespace("cuda", "CUDA switches (no GPU here).", is_built=_false,
                  matmul=types.SimpleNamespace(allow_tf32=False,
                                               allow_fp16_reduced_precision_reduction=True,
                                               allow_bf16_reduced_precision_reduction=True),
                  flash_sdp_enabled=_false, math_sdp_enabled=lambda: True,
                  enable_flash_sdp=lambda *_: None, enable_math_sdp=lambda *_: None,
                  enable_mem_efficient_sdp=lambda *_: None)
opt_einsum = _namespace("opt_einsum", "opt_einsum contraction order (NumPy's einsum "
                        "optimize=True is used instead).", enabled=True, strategy="auto",
                        is_available=_false)
