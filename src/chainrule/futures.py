"""``chainrule.futures`` (``torch.futures``): a value that becomes available later.

A :class:`Future` is completed once, by ``set_result`` / ``set_exception`` or, for the
future of an asynchronous collective (``dist.all_reduce(t, async_op=True).get_future()``),
by the MPI operation finishing. ``then(callback)`` returns a new future completed with
``callback(this_future)`` once this one completes.

There is no background thread: MPI moves a nonblocking operation forward only inside MPI
calls, so a collective's future completes when it is asked (``wait()``, ``value()``,
``done()``), and the callbacks chained on it run at that moment, in the order they were
added — in the calling thread, as PyTorch runs callbacks of a future already completed.

Example::

    fut = chainrule.futures.Future()
    doubled = fut.then(lambda f: f.value() * 2)
    fut.set_result(21)
    doubled.wait()                       # 42
"""

from __future__ import annotations

__all__ = ["Future", "collect_all", "wait_all"]

_PENDING = object()


class Future:
    """A placeholder for the result of an asynchronous computation (``torch.futures.Future``).

    Args:
        devices: accepted for compatibility (CUDA devices in PyTorch); must be empty or CPU.
    """

    def __init__(self, *, devices=None):
        for d in devices or ():
            if str(d) != "cpu":
                raise ValueError(f"Future: chainrule runs on the CPU; got device {d!r}")
        self._value = _PENDING
        self._error = None
        self._callbacks: list = []
        self._poll = None  # () -> bool: completes this future if its source has finished
        self._block = None  # (): waits for the source and completes this future

    # -- completion -----------------------------------------------------------------------
    def _finished(self) -> bool:
        return self._value is not _PENDING or self._error is not None

    def _mark(self, value=_PENDING, error=None) -> None:
        if self._finished():
            raise RuntimeError("Attempting to mark a completed Future as complete again. Note "
                               "that a Future can only be marked completed once.")
        self._value, self._error = value, error
        callbacks, self._callbacks = self._callbacks, []
        for cb in callbacks:
            cb(self)

    def set_result(self, result) -> None:
        """Complete the future with ``result`` and run the callbacks added with ``then`` /
        ``add_done_callback``. A future completes only once (RuntimeError otherwise)."""
        self._mark(result)

    def set_exception(self, result: BaseException) -> None:
        """Complete the future with an error: ``wait()`` and ``value()`` raise it."""
        if not isinstance(result, BaseException):
            raise TypeError(f"Future.set_exception: expected an exception, got "
                            f"{type(result).__name__}")
        self._mark(error=result)

    def done(self) -> bool:
        """Whether the future has a value or an error (polls its MPI operation, if any)."""
        if not self._finished() and self._poll is not None:
            self._poll()
        return self._finished()

    def wait(self):
        """Block until the future completes (an MPI operation: within the group's
        deadline); return its value, or raise its error."""
        if not self._finished():
            if self._block is None:
                raise RuntimeError("Future.wait: this future is not complete and nothing will "
                                   "complete it (no thread runs in the background: call "
                                   "set_result first, or wait on the future it came from)")
            self._block()
        return self.value()

    def value(self):
        """The value of a completed future (raises its error; RuntimeError if pending)."""
        if self._error is not None:
            raise self._error
        if self._value is _PENDING and not self.done():
            raise RuntimeError("Future.value: the future is not completed yet; call wait() "
                               "(or check done()) first")
        if self._error is not None:
            raise self._error
        return self._value

    # -- chaining -------------------------------------------------------------------------
    def then(self, callback) -> Future:
        """A new future completed with ``callback(self)`` once this future completes (an
        error raised by the callback completes it with a RuntimeError naming it).

        Example::

            work = dist.all_reduce(t, async_op=True)
            fut = work.get_future().then(lambda f: f.value()[0] / 2)
        """
        child = Future()
        child._poll = lambda: self.done()
        child._block = self.wait_quietly

        def run(parent):
            try:
                result = callback(parent)
            except Exception as e:
                err = RuntimeError(f"Got the following error when running the callback: "
                                   f"{type(e).__name__}: {e}")
                err.__cause__ = e
                child._mark(error=err)
            else:
                child._mark(result)
        self.add_done_callback(run)
        return child

    def add_done_callback(self, callback) -> None:
        """Run ``callback(self)`` when the future completes (now, if it already has);
        unlike ``then`` nothing is returned and the callback's own errors propagate."""
        if self._finished():
            callback(self)
        else:
            self._callbacks.append(callback)

    def wait_quietly(self) -> None:
        """Wait for completion without raising the future's error."""
        if not self._finished():
            if self._block is None:
                raise RuntimeError("Future.wait: this future is not complete and nothing will "
                                   "complete it")
            self._block()

    def __repr__(self) -> str:
        state = "completed" if self._finished() else "pending"
        return f"<chainrule.futures.Future ({state})>"

    __class_getitem__ = classmethod(lambda cls, item: cls)  # Future[Tensor] in annotations


def _from_work(work, result) -> Future:
    """The future of a ``Work``: completed with ``result`` (the list of the call's tensors)
    when the operation finishes."""
    fut = Future()

    def poll():
        if work.is_completed():
            fut._mark(result)
        return fut._finished()

    def block():
        work.wait()
        if not fut._finished():
            fut._mark(result)
    fut._poll, fut._block = poll, block
    return fut


def collect_all(futures) -> Future:
    """A future completed with the list of ``futures`` (each completed) once all of them
    complete.

    Example::

        both = collect_all([fut_a, fut_b]).wait()     # [fut_a, fut_b], both done
    """
    futures = list(futures)
    for f in futures:
        if not isinstance(f, Future):
            raise TypeError(f"collect_all: expected a list of Future, got {type(f).__name__}")
    out = Future()

    def poll():
        if all(f.done() for f in futures) and not out._finished():
            out._mark(futures)

    def block():
        for f in futures:
            f.wait_quietly()
        if not out._finished():
            out._mark(futures)
    out._poll, out._block = poll, block
    if not futures:
        out._mark([])
    return out


def wait_all(futures) -> list:
    """Wait for every future and return their values (the first error is raised)."""
    return [f.wait() for f in collect_all(futures).wait()]
