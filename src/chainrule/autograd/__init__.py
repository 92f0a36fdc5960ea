"""``chainrule.autograd``: Function, the engine (backward, grad), grad mode, forward mode,
functional transforms (jacobian, hessian, ...), gradcheck and anomaly detection."""

from . import forward_ad  # noqa: F401
from .anomaly import detect_anomaly, is_anomaly_enabled, set_detect_anomaly  # noqa: F401
from .engine import backward  # noqa: F401
from ._grad import grad  # noqa: F401  (the engine's grad, plus is_grads_batched)
from .function import Function  # noqa: F401
from .grad_mode import (  # noqa: F401
    enable_grad, inference_mode, is_grad_enabled, is_inference_mode_enabled, no_grad,
    set_grad_enabled,
)
from . import functional  # noqa: E402,F401
from .gradcheck import GradcheckError, gradcheck, gradgradcheck  # noqa: E402,F401
from .variable import Variable  # noqa: E402,F401  (deprecated; tensors are Variables)
from . import graph  # noqa: E402,F401
from . import profiler  # noqa: E402,F401  (torch.autograd.profiler)
