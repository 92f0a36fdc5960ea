"""Ctrl-C (SIGINT) while training: one handler, three modes, shared by nested users.

``fit`` opens a :class:`SigintGuard`; so does ``chainrule train`` around the whole command
(loading, model search, writing the run directory). A guard opened while another is active
shares the outer one (same flag, same handler), so the command decides what a Ctrl-C means
at each moment through :meth:`SigintGuard.mode`:

* ``"flag"`` (``fit``'s mode): the first SIGINT sets ``flag``; ``fit`` finishes the current
  batch, writes its checkpoint and returns. A second SIGINT raises ``KeyboardInterrupt``.
* ``"raise"``: nothing would be lost (no model yet, or the model is saved and what runs is
  recomputable): every SIGINT raises ``KeyboardInterrupt`` at once.
* ``"defer"``: files are being written; a SIGINT only sets ``flag`` (and, if it is not the
  first, remembers to raise ``KeyboardInterrupt`` when the section ends), so a run
  directory is never left with one file of a pair written and the other not.
"""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager

MODES = ("flag", "raise", "defer")


class SigintGuard:
    """While active, SIGINT is handled as its ``mode`` says (default ``"flag"``: the first
    sets ``flag``, the second raises ``KeyboardInterrupt``). The previous handler is
    restored on exit. Outside the main thread (where handlers cannot be installed) it only
    shares an active guard, or does nothing.

    Example::

        with SigintGuard() as guard:
            for step in range(1000):
                train_step()
                if guard.flag:       # Ctrl-C: stop after a whole step
                    break
    """

    _current: SigintGuard | None = None

    def __init__(self, mode: str = "flag"):
        if mode not in MODES:
            raise ValueError(f"SigintGuard: mode must be one of {MODES}, got {mode!r}")
        self.flag = False
        self.count = 0
        self._mode = mode
        self._pending = False
        self._installed = False
        self._previous = None
        self._outer: SigintGuard | None = None

    @property
    def owner(self) -> bool:
        """True when this guard installed the handler (it is not sharing an outer guard)."""
        return self._installed

    def _handle(self, signum, frame):
        self.count += 1
        first = not self.flag
        self.flag = True
        if self._mode == "raise":
            raise KeyboardInterrupt
        if not first:
            if self._mode == "defer":
                self._pending = True
            else:
                raise KeyboardInterrupt

    @contextmanager
    def mode(self, mode: str):
        """Handle SIGINT as ``mode`` inside the ``with`` block (see the module docstring);
        a second Ctrl-C that arrived inside a ``"defer"`` block raises at its end."""
        if mode not in MODES:
            raise ValueError(f"SigintGuard.mode: expected one of {MODES}, got {mode!r}")
        old, self._mode = self._mode, mode
        failed = False
        try:
            yield self
        except BaseException:
            failed = True
            raise
        finally:
            self._mode = old
            if self._pending and old != "defer":  # an enclosing "defer" block raises later
                self._pending = False
                if not failed:
                    raise KeyboardInterrupt

    def __enter__(self) -> SigintGuard:
        outer = SigintGuard._current
        if outer is not None:
            self._outer = outer
            return outer
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.getsignal(signal.SIGINT)
            signal.signal(signal.SIGINT, self._handle)
            self._installed = True
            SigintGuard._current = self
        return self

    def __exit__(self, *exc) -> None:
        if self._outer is not None:
            self._outer = None
            return
        if self._installed:
            previous = self._previous if self._previous is not None else signal.SIG_DFL
            signal.signal(signal.SIGINT, previous)
            self._installed = False
            SigintGuard._current = None
