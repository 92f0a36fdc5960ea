"""``chainrule.testing`` (``torch.testing`` under the torch shim): comparing results in tests.

- :func:`assert_close`: closeness of tensors, arrays, scalars and nested containers of them,
  with PyTorch's per-dtype tolerances and messages;
- :func:`assert_allclose`: its deprecated predecessor (warns, as in PyTorch);
- :func:`make_tensor`: random tensors of a shape and dtype for tests;
- :class:`FileCheck`: TorchScript's IR checker; chainrule has no TorchScript, so it raises.

Example::

    >>> import chainrule
    >>> chainrule.testing.assert_close(chainrule.ones(2) * 0.1, chainrule.full((2,), 0.1))
"""

from __future__ import annotations

from ._comparison import assert_allclose, assert_close
from ._creation import make_tensor

__all__ = ["FileCheck", "assert_allclose", "assert_close", "make_tensor"]


class FileCheck:
    """``torch.testing.FileCheck`` checks the text of TorchScript graphs (``graph.str()``)
    against patterns. chainrule has no TorchScript (``chainrule.jit.script``/``trace`` return
    the eager function), so there is no IR to check: constructing one raises."""

    def __init__(self, *args, **kwargs):
        raise NotImplementedError(
            "chainrule.testing.FileCheck: FileCheck matches patterns in TorchScript IR, and "
            "chainrule has no TorchScript (chainrule.jit.script/trace run the eager code). "
            "Check values with chainrule.testing.assert_close, or inspect a captured program "
            "with chainrule.compile / chainrule.export and print(program)")
