"""Run a PyTorch program on chainrule without editing it: ``import torch`` gets chainrule.

``install()`` puts an import hook in front of Python's finders that answers every
``torch`` and ``torch.<sub>`` import with the chainrule module of the same path
(``torch.nn.functional`` -> ``chainrule.nn.functional``, ``torch.utils.data`` ->
``chainrule.utils.data``, ...). A path chainrule does not have fails as the import of a
missing module would, naming it. ``uninstall()`` removes the hook (modules already imported
under ``torch`` stay in ``sys.modules`` until removed).

From the command line::

    python -m chainrule.torch_compat train.py --epochs 3     # runs train.py on chainrule

Only imports are redirected: the program's code runs as written, so whatever chainrule does
not implement raises its usual clear error. Once ``torch`` is imported through the hook,
reprs name the package as the program does: ``torch.float32``, ``torch.Size([2, 3])``,
``x.type() == 'torch.FloatTensor'`` (``uninstall()`` restores ``chainrule.``).
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import os
import runpy
import sys


class _AliasLoader(importlib.abc.Loader):
    """Hands out an already imported chainrule module under a ``torch`` name."""

    def __init__(self, module):
        self.module = module

    def create_module(self, spec):
        return self.module

    def exec_module(self, module):
        pass


class _TorchFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        if fullname != "torch" and not fullname.startswith("torch."):
            return None
        name = "chainrule" + fullname[len("torch"):]
        try:
            module = importlib.import_module(name)
            if fullname == "torch":  # the program sees torch: dtypes print as torch.float32
                from . import _dtype

                _dtype.DISPLAY[0] = "torch"
        except ModuleNotFoundError as e:
            if e.name != name:
                raise
            raise ModuleNotFoundError(
                f"No module named {fullname!r} (running on chainrule, which has no {name!r})",
                name=fullname,
            ) from None
        return importlib.util.spec_from_loader(fullname, _AliasLoader(module),
                                               is_package=hasattr(module, "__path__"))


_FINDER = _TorchFinder()


def install() -> None:
    """Make ``import torch`` (and every ``torch.*`` path) import chainrule."""
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)


def uninstall() -> None:
    """Remove the hook and the ``torch`` entries it put in ``sys.modules``."""
    if _FINDER in sys.meta_path:
        sys.meta_path.remove(_FINDER)
    for name in [n for n in sys.modules if n == "torch" or n.startswith("torch.")]:
        if getattr(sys.modules[name], "__name__", "").startswith("chainrule"):
            del sys.modules[name]
    from . import _dtype

    _dtype.DISPLAY[0] = "chainrule"


def main(argv=None) -> int:
    """``python -m chainrule.torch_compat script.py [args...]``."""
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help"):
        print("usage: python -m chainrule.torch_compat SCRIPT.py [ARGS...]\n"
              "Run a PyTorch script with `import torch` mapped to chainrule.")
        return 0 if argv else 2
    script = argv[0]
    if not (os.path.isfile(script) or os.path.isfile(os.path.join(script, "__main__.py"))):
        # as `python missing.py` says it: one line, exit 2 (the script's own errors, later,
        # keep their tracebacks, as under python)
        why = "No such file or directory" if not os.path.exists(script) else \
            "not a Python file (a directory without __main__.py?)"
        print(f"python -m chainrule.torch_compat: can't open file {script!r}: {why}",
              file=sys.stderr)
        return 2
    install()
    sys.argv = list(argv)
    runpy.run_path(script, run_name="__main__")
    return 0


if __name__ == "__main__":
    sys.exit(main())
