"""Ctrl-C during ``fit``: a SIGINT handler installed only while training runs."""

from __future__ import annotations

import signal
import threading


class SigintGuard:
    """While active, the first SIGINT sets ``flag`` (``fit`` stops after the current batch);
    a second one raises ``KeyboardInterrupt``. The previous handler is restored on exit.
    Outside the main thread (where handlers cannot be installed) it does nothing."""

    def __init__(self):
        self.flag = False
        self._installed = False
        self._previous = None

    def _handle(self, signum, frame):
        if self.flag:
            raise KeyboardInterrupt
        self.flag = True

    def __enter__(self) -> SigintGuard:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.getsignal(signal.SIGINT)
            signal.signal(signal.SIGINT, self._handle)
            self._installed = True
        return self

    def __exit__(self, *exc) -> None:
        if self._installed:
            previous = self._previous if self._previous is not None else signal.SIG_DFL
            signal.signal(signal.SIGINT, previous)
            self._installed = False
