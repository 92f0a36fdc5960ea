"""``chainrule.onnx``: export models to ONNX (PyTorch's ``torch.onnx``).

``export(model, args, f, ...)`` records the forward with ``chainrule.export`` and writes
the same program as an ONNX graph (opset 17 or later). Needs the ``onnx`` package (the
``[onnx]`` extra), imported when ``export`` is called. ``ops.py`` has one row per
primitive; an operation without one is a ``UnsupportedOperatorError`` error naming it.
"""

from .export import ONNXProgram, TrainingMode, export  # noqa: F401
from .errors import UnsupportedOperatorError  # noqa: F401
