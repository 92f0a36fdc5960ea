"""Ctrl-C while the ``chainrule`` command is still importing: one line, exit 130.

The console script pip writes runs ``from chainrule.cli import main`` at module level, so
the ~1 s of ``import chainrule`` (NumPy, pyarrow, the library) happens before ``main`` can
catch anything; a Ctrl-C there used to print a 30-line ``KeyboardInterrupt`` traceback.
``chainrule/__init__.py`` imports this module first thing, which calls :func:`install`: when (and only when) this
process is the ``chainrule`` command — the console script, or ``python -m chainrule.cli`` —
it sets a ``sys.excepthook`` that turns an uncaught ``KeyboardInterrupt`` into the CLI's own
line ``chainrule: interrupted`` and exit status 130. Library users (``import chainrule`` in
their own program) are untouched. Once ``main`` runs it handles Ctrl-C itself, and
:func:`sigterm_as_sigint` makes SIGTERM behave the same (exit status 143).
"""

from __future__ import annotations

import os
import sys
import time

EXIT_INTERRUPTED = 130
_TERMINATED = []


def is_the_command() -> bool:
    """True when this process is the ``chainrule`` command (console script or ``-m``)."""
    main = sys.modules.get("__main__")
    script = getattr(main, "__file__", None) or ""
    if os.path.basename(script).removesuffix(".exe") == "chainrule" and \
            os.path.basename(sys.argv[0] if sys.argv else "").removesuffix(".exe") == "chainrule":
        return True
    orig = getattr(sys, "orig_argv", [])
    return any(a == "-m" and b in ("chainrule.cli", "chainrule")
               for a, b in zip(orig, orig[1:]))


def _hook(previous):
    def hook(kind, value, tb):
        if issubclass(kind, KeyboardInterrupt):
            try:
                sys.stderr.write("\nchainrule: interrupted\n")
                sys.stderr.flush()
            finally:
                os._exit(EXIT_INTERRUPTED)
        previous(kind, value, tb)
    hook.chainrule_console = True
    return hook


def install() -> None:
    """Set the quiet Ctrl-C hook if this process is the ``chainrule`` command (idempotent)."""
    if getattr(sys.excepthook, "chainrule_console", False) or not is_the_command():
        return
    sys.excepthook = _hook(sys.excepthook)
    if os.environ.get("CHAINRULE_PAUSE_AT") == "import":  # testing hook (tests/acceptance)
        print("chainrule-test: paused at import", file=sys.stderr, flush=True)
        time.sleep(60)


def sigterm_as_sigint() -> None:
    """Make SIGTERM do what SIGINT does now (the command's current Ctrl-C handling: a
    ``SigintGuard`` while training, ``KeyboardInterrupt`` otherwise), remembering it so
    the command can exit with 143 instead of 130. Only for the ``chainrule`` command."""
    import signal

    def on_term(signum, frame):
        _TERMINATED.append(signum)
        handler = signal.getsignal(signal.SIGINT)
        if callable(handler):
            handler(signal.SIGINT, frame)
        elif handler == signal.SIG_DFL:
            raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)


def terminated() -> bool:
    """True when a SIGTERM arrived (see :func:`sigterm_as_sigint`)."""
    return bool(_TERMINATED)


install()
