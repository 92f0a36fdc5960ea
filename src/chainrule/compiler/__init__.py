"""``chainrule.compiler``: capture a call once, replay it as straight-line NumPy.

``chainrule.compile`` (PyTorch's ``torch.compile``) and ``chainrule.export``
(``torch.export.export``) are built here; see DESIGN.md, "Compiled execution, export and
ONNX (issue 10)". Modules: ``trace`` (the recording array type), ``capture`` (the
tracer), ``program`` (the IR), ``replay`` (buffer planning and code generation),
``compiled`` (guards and the program cache), ``joint`` (backward through a compiled
forward), ``api`` (``compile``, ``OptimizedModule``, ``reset``).
"""

from .api import OptimizedModule, compile, disable, is_compiling, reset  # noqa: F401
from .capture import Unsupported  # noqa: F401
from .compiled import CompiledFunction, CompileWarning  # noqa: F401
from .program import Node, Program, Value  # noqa: F401
from .torch_api import (  # noqa: F401  (the rest of torch.compiler)
    allow_in_graph, assume_constant_result, cudagraph_mark_step_begin, get_default_backend,
    is_dynamo_compiling, is_exporting, list_backends, set_default_backend, set_stance,
    substitute_in_graph, wrap_numpy,
)
