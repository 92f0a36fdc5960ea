"""``chainrule.autograd.function`` (PyTorch's ``torch.autograd.function``): ``Function``,
the one class every differentiable operation is, built-in or user-written (``base.py``), its
call ``Function.apply`` (``apply.py``), and the helpers ``FunctionCtx`` and
``once_differentiable`` (``helpers.py``)."""

from .apply import PLUGINS, apply as _apply  # noqa: F401  (PLUGINS: where upper layers plug in)
from .base import _FREED, Function, _AccumulateGrad, _modified_error, _OutRef  # noqa: F401

Function.apply = classmethod(_apply)

from .helpers import FunctionCtx, once_differentiable  # noqa: E402,F401
