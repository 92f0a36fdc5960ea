"""``chainrule.profiler.profile``: where the time of a program goes (``torch.profiler``).

Inside ``with profile() as prof:`` every chainrule operation is recorded as an event named
like PyTorch's (``aten::addmm``, ``aten::relu``...; see _names.py), nested under the
``record_function`` ranges, backward nodes and optimizer steps that contain it. Then::

    prof.key_averages().table(sort_by="cpu_time_total", row_limit=10)
    prof.export_chrome_trace("trace.json")     # chrome://tracing, ui.perfetto.dev

With a ``schedule``, ``prof.step()`` marks the end of each training step; the schedule
says, per step, whether to wait, warm up or record, and ``on_trace_ready`` runs at the end
of each recorded cycle (``tensorboard_trace_handler(dir)`` writes its trace file).
Only the CPU exists: asking for CUDA/XPU/HPU warns as PyTorch does without the device.
"""

from __future__ import annotations

import os
import socket
import time
import warnings
from enum import Enum

from ._collector import Collector
from ._events import EventList, write_chrome_trace
from ._record import record_function


class ProfilerActivity(Enum):
    """The activity groups (PyTorch's values); chainrule records ``CPU`` only."""

    CPU = 0
    XPU = 1
    CUDA = 2
    HPU = 3
    MTIA = 4
    PrivateUse1 = 5


class ProfilerAction(Enum):
    """What the profiler does during a step (the value a ``schedule`` returns)."""

    NONE = 0
    WARMUP = 1
    RECORD = 2
    RECORD_AND_SAVE = 3
    DEVICE_STOPPED = 4


def supported_activities() -> set:
    """The activities this build can record: ``{ProfilerActivity.CPU}``."""
    return {ProfilerActivity.CPU}


def schedule(*, wait: int, warmup: int, active: int, repeat: int = 0, skip_first: int = 0,
             skip_first_wait: int = 0):
    """The step -> ``ProfilerAction`` function: skip ``skip_first`` steps, then cycles of
    ``wait`` (NONE), ``warmup`` (WARMUP) and ``active`` steps (RECORD, the last one
    RECORD_AND_SAVE), ``repeat`` times (0: forever). ``skip_first_wait``: the first cycle
    has no wait."""

    def schedule_fn(step: int) -> ProfilerAction:
        if step < 0:
            raise AssertionError(f"Step must be non-negative. Got {step}.")
        if step < skip_first:
            return ProfilerAction.NONE
        step -= skip_first
        if skip_first_wait != 0:
            step += wait
        period = wait + warmup + active
        if repeat > 0 and step / period >= repeat:
            return ProfilerAction.NONE
        k = step % period
        if k < wait:
            return ProfilerAction.NONE
        if k < wait + warmup:
            return ProfilerAction.WARMUP
        return ProfilerAction.RECORD if k < period - 1 else ProfilerAction.RECORD_AND_SAVE

    if wait < 0 or warmup < 0 or active <= 0 or repeat < 0 or skip_first < 0:
        raise AssertionError(
            f"Invalid profiler schedule arguments. Got wait={wait} (need >= 0), warmup="
            f"{warmup} (need >= 0), active={active} (need > 0), repeat={repeat} (need >= 0), "
            f"skip_first={skip_first} (need >= 0).")
    if warmup == 0:
        warnings.warn("Profiler won't be using warmup, this can skew profiler results",
                      stacklevel=2)
    return schedule_fn


_WARNED = []  # the "clears events" warning was given (once per process, as PyTorch's)


def _default_schedule_fn(_: int) -> ProfilerAction:
    return ProfilerAction.RECORD


def tensorboard_trace_handler(dir_name: str, worker_name: str | None = None,
                              use_gzip: bool = False, use_python_export: bool = False):
    """An ``on_trace_ready`` that writes each trace as
    ``<dir_name>/<worker_name>.<time_ns>.pt.trace.json[.gz]`` (``worker_name`` defaults
    to ``<hostname>_<pid>``), the files TensorBoard's profiler plugin reads."""

    def handler_fn(prof) -> None:
        nonlocal worker_name
        if not os.path.isdir(dir_name):
            try:
                os.makedirs(dir_name, exist_ok=True)
            except Exception as e:
                raise RuntimeError("Can't create directory: " + dir_name) from e
        if not worker_name:
            worker_name = f"{socket.gethostname()}_{os.getpid()}"
        name = f"{worker_name}.{time.time_ns()}.pt.trace.json" + (".gz" if use_gzip else "")
        prof.export_chrome_trace(os.path.join(dir_name, name))

    return handler_fn


def _groups(activities) -> set:
    """The activity groups asked for (items: a ``ProfilerActivity``, or a dict of them to
    lists of activity type names, which a CPU-only collector has no use for)."""
    out = set()
    for a in activities:
        if isinstance(a, dict):
            for k in a:
                if k in out:
                    raise ValueError(f"profile: activity {k} appears more than once")
                out.add(k)
        else:
            out.add(a)
    return out


class _KinetoProfile:
    """Start/stop recording and read the results (the base of ``profile``)."""

    def __init__(self, *, activities=None, record_shapes=False, profile_memory=False,
                 with_stack=False, with_flops=False, with_modules=False,
                 experimental_config=None, execution_trace_observer=None, acc_events=False,
                 custom_trace_id_callback=None, post_processing_timeout_s=None):
        self.activities = _groups(activities) if activities else supported_activities()
        self.record_shapes = record_shapes
        self.with_flops = with_flops
        self.profile_memory = profile_memory
        self.with_stack = with_stack
        self.with_modules = with_modules
        self.experimental_config = experimental_config
        self.execution_trace_observer = execution_trace_observer
        self.acc_events = acc_events
        self.custom_trace_id_callback = custom_trace_id_callback
        self.use_device = None
        self.profiler = None  # the collector of the current (or last) recording
        self._events = EventList()
        self._metadata = {}

    def start(self):
        self.prepare_trace()
        self.start_trace()

    def stop(self):
        self.stop_trace()

    def prepare_trace(self):
        for a in self.activities:
            if a is ProfilerActivity.MTIA:
                raise AssertionError("Legacy MTIA profiling is not supported. Requires "
                                     "use_kineto=True on MTIA devices.")
        for a in sorted(self.activities - {ProfilerActivity.CPU}, key=lambda a: a.value):
            if a is ProfilerActivity.PrivateUse1:
                warnings.warn("The privateuseone is not a valid device option.", stacklevel=3)
            else:
                warnings.warn(f"{a.name} is not available, disabling {a.name} profiling",
                              stacklevel=3)
        if ProfilerActivity.CPU not in self.activities:
            raise AssertionError("No activities specified for the profiler")
        if self.profiler is not None and not self.acc_events and not _WARNED:
            _WARNED.append(True)
            warnings.warn("Warning: Profiler clears events at the end of each cycle. Only "
                          "events from the current cycle will be reported. To keep events "
                          "across cycles, set acc_events=True.", stacklevel=3)
        if self.profiler is None or not self.acc_events:
            self._events = EventList()
        self.profiler = Collector(self.record_shapes, self.with_stack, self.profile_memory,
                                  self.with_flops)

    def start_trace(self):
        if self.profiler is None:
            raise AssertionError("Profiler must be initialized before starting trace")
        if not self.profiler.installed:
            self.profiler.install()

    def stop_trace(self):
        if self.profiler is not None and self.profiler.installed:
            self.profiler.remove()
            events = self.profiler.events
            if self.acc_events:
                self._events.extend(events)
            else:
                self._events = EventList(events)
            self._events._profile_memory = self.profile_memory
            self._events._with_flops = self.with_flops

    def events(self):
        """The recorded events (``FunctionEvent``), in start order."""
        if self.profiler is not None and self.profiler.installed:
            return EventList(self.profiler.events, profile_memory=self.profile_memory,
                             with_flops=self.with_flops)
        return self._events

    def key_averages(self, group_by_input_shape: bool = False, group_by_stack_n: int = 0,
                     group_by_overload_name: bool = False):
        """The events grouped by name (and input shapes / stack), one row each."""
        if group_by_input_shape and not self.record_shapes:
            raise AssertionError("key_averages(group_by_input_shape=True) needs the profiler "
                                 "made with record_shapes=True")
        return self.events().key_averages(group_by_input_shape, group_by_stack_n,
                                          group_by_overload_name)

    def export_chrome_trace(self, path: str, use_python_export: bool = False):
        """Write the Chrome trace JSON (a ``.gz`` path is gzipped)."""
        write_chrome_trace(self.events(), path, self._metadata or None)

    def export_stacks(self, path: str, metric: str = "self_cpu_time_total"):
        """Flame-graph lines ``frame;...;name value`` (needs ``with_stack=True``)."""
        if not self.with_stack:
            raise AssertionError("export_stacks() requires with_stack=True")
        self.events().export_stacks(path, metric)

    def export_memory_timeline(self, path: str, device: str | None = None) -> None:
        raise NotImplementedError("export_memory_timeline: chainrule does not record memory "
                                  "timelines; use profile_memory=True and the table")

    def add_metadata(self, key: str, value: str) -> None:
        self._metadata[key] = value

    def add_metadata_json(self, key: str, value: str) -> None:
        import json

        self._metadata[key] = json.loads(value)

    preset_metadata_json = add_metadata_json

    def toggle_collection_dynamic(self, enable: bool, activities) -> None:
        """Pause (``enable=False``) or resume recording CPU events."""
        if ProfilerActivity.CPU not in set(activities) or self.profiler is None:
            return
        if enable and not self.profiler.installed:
            self.profiler.install()
        elif not enable and self.profiler.installed:
            self.profiler.remove()

    def get_trace_id(self):
        return None if self.custom_trace_id_callback is None else \
            self.custom_trace_id_callback()

    def set_custom_trace_id_callback(self, callback) -> None:
        self.custom_trace_id_callback = callback


class profile(_KinetoProfile):  # noqa: N801  (PyTorch's name)
    """The profiler context manager (``torch.profiler.profile``); see the module doc.

    Args:
        activities: ``ProfilerActivity`` values (CPU only here; others warn).
        schedule: step -> ``ProfilerAction`` (``schedule(...)``); None records every step.
        on_trace_ready: called with the profiler at the end of each recorded cycle.
        record_shapes: keep each operation's input shapes (``key_averages(
            group_by_input_shape=True)``, the ``Input Shapes`` column).
        profile_memory: the bytes of each operation's outputs (``CPU Mem`` columns).
        with_stack: the Python frames of each event (``Source Location``).
        with_flops: estimated FLOPs of the matrix products.
        acc_events: keep the events of every cycle, not only the last one's.
    """

    def __init__(self, *, activities=None, schedule=None, on_trace_ready=None,
                 record_shapes=False, profile_memory=False, with_stack=False,
                 with_flops=False, with_modules=False, experimental_config=None,
                 execution_trace_observer=None, acc_events=False, use_cuda=None,
                 custom_trace_id_callback=None, post_processing_timeout_s=None):
        activities = _groups(activities) if activities else supported_activities()
        if use_cuda is not None:
            warnings.warn("`use_cuda` is deprecated, use `activities` argument instead",
                          FutureWarning, stacklevel=2)
            if use_cuda:
                activities.add(ProfilerActivity.CUDA)
            else:
                activities.discard(ProfilerActivity.CUDA)
        super().__init__(activities=activities, record_shapes=record_shapes,
                         profile_memory=profile_memory, with_stack=with_stack,
                         with_flops=with_flops, with_modules=with_modules,
                         experimental_config=experimental_config,
                         execution_trace_observer=execution_trace_observer,
                         acc_events=acc_events,
                         custom_trace_id_callback=custom_trace_id_callback)
        self.record_steps = schedule is not None
        self.schedule = schedule if schedule is not None else _default_schedule_fn
        self.on_trace_ready = on_trace_ready
        self.step_num = 0
        self.step_rec_fn = None
        self.current_action = self.schedule(self.step_num)
        if self.current_action == ProfilerAction.DEVICE_STOPPED:
            raise ValueError("ProfilerAction.DEVICE_STOPPED is set internally by the profiler "
                             "and must not be returned by a user-provided schedule")
        A = ProfilerAction
        stop_save = [self.stop_trace, self._trace_ready]
        both = [self.prepare_trace, self.start_trace]
        self.action_map = {
            (A.NONE, A.NONE): [], (A.NONE, A.WARMUP): [self.prepare_trace],
            (A.NONE, A.RECORD): both, (A.NONE, A.RECORD_AND_SAVE): both,
            (A.WARMUP, A.NONE): [lambda: warnings.warn(
                "Incorrect schedule: WARMUP followed by NONE", stacklevel=4),
                self.start_trace, self.stop_trace],
            (A.WARMUP, A.WARMUP): [], (A.WARMUP, A.RECORD): [self.start_trace],
            (A.WARMUP, A.RECORD_AND_SAVE): [self.start_trace],
            (A.RECORD, A.NONE): [lambda: warnings.warn(
                "Incorrect schedule: RECORD followed by NONE", stacklevel=4), self.stop_trace],
            (A.RECORD, A.WARMUP): [lambda: warnings.warn(
                "Incorrect schedule: RECORD followed by WARMUP", stacklevel=4),
                self.stop_trace],
            (A.RECORD, A.RECORD): [], (A.RECORD, A.RECORD_AND_SAVE): [],
            (A.RECORD_AND_SAVE, A.NONE): stop_save,
            (A.RECORD_AND_SAVE, A.WARMUP): stop_save + [self.prepare_trace],
            (A.RECORD_AND_SAVE, A.RECORD): stop_save + both,
            (A.RECORD_AND_SAVE, A.RECORD_AND_SAVE): stop_save + both,
            (A.WARMUP, None): [self.start_trace, self.stop_trace],
            (A.RECORD, None): stop_save, (A.RECORD_AND_SAVE, None): stop_save,
            (A.NONE, None): [],
        }

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        self.stop()
        return False

    def start(self):
        self._transit_action(ProfilerAction.NONE, self.current_action)
        if self.record_steps:
            self.step_rec_fn = record_function("ProfilerStep#" + str(self.step_num))
            self.step_rec_fn.__enter__()

    def stop(self):
        if self.record_steps and self.step_rec_fn:
            self.step_rec_fn.__exit__(None, None, None)
            self.step_rec_fn = None
        self._transit_action(self.current_action, None)

    def step(self):
        """The current training step ended: advance the schedule."""
        if self.record_steps and self.step_rec_fn:
            self.step_rec_fn.__exit__(None, None, None)
            self.step_rec_fn = None
        prev_action = self.current_action
        self.step_num += 1
        self.current_action = self.schedule(self.step_num)
        if self.current_action == ProfilerAction.DEVICE_STOPPED:
            raise ValueError("ProfilerAction.DEVICE_STOPPED is set internally by the profiler "
                             "and must not be returned by a user-provided schedule")
        self._transit_action(prev_action, self.current_action)
        if self.record_steps:
            self.step_rec_fn = record_function("ProfilerStep#" + str(self.step_num))
            self.step_rec_fn.__enter__()

    def _trace_ready(self):
        if self.on_trace_ready:
            self.on_trace_ready(self)

    def _transit_action(self, prev_action, current_action):
        for action in self.action_map.get((prev_action, current_action), []):
            action()
