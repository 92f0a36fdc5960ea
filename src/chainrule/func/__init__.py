"""``chainrule.func``: composable function transforms (``torch.func``).

``grad``, ``grad_and_value``, ``vjp``, ``jvp``, ``linearize``, ``jacrev``, ``jacfwd``,
``hessian`` and ``vmap`` take and return pytrees (tuples, lists, dicts of tensors) and nest
in any order (``jacfwd(jacfwd(f))``, ``vmap(grad(f))``, ``jacrev(jacfwd(f))``...).
``vmap`` is a batched computation: each primitive has a batching rule (``_batching.RULES``).
``functional_call`` and ``stack_module_state`` turn modules into functions of their
parameters.
"""

from ._module import (  # noqa: F401
    functional_call, functionalize, replace_all_batch_norm_modules_, stack_module_state,
)
from ._jacobians import hessian, jacfwd, jacrev  # noqa: F401
from ._transforms import grad, grad_and_value, jvp, linearize, vjp  # noqa: F401
from ._vmap import vmap  # noqa: F401
from . import _dispatch  # noqa: F401,E402  (plugs batched calls into Function.apply)
from . import _batched_numpy, _batching, _batching_more  # noqa: F401,E402  (register)

__all__ = [
    "functional_call", "functionalize", "grad", "grad_and_value", "hessian", "jacfwd",
    "jacrev", "jvp", "linearize", "replace_all_batch_norm_modules_", "stack_module_state",
    "vjp", "vmap",
]
