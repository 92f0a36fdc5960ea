"""``chainrule.autograd``: Function, the engine (backward, grad), grad mode, forward mode,
functional transforms (jacobian, hessian, ...), gradcheck and anomaly detection."""

from . import forward_ad  # noqa: F401
from .anomaly import detect_anomaly, is_anomaly_enabled, set_detect_anomaly  # noqa: F401
from .engine import backward, grad  # noqa: F401
from .function import Function  # noqa: F401
from .grad_mode import (  # noqa: F401
    enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled,
)
from . import functional  # noqa: E402,F401
from .gradcheck import GradcheckError, gradcheck, gradgradcheck  # noqa: E402,F401
from .variable import Variable  # noqa: E402,F401  (deprecated; tensors are Variables)
