"""``chainrule.autograd.profiler`` (``torch.autograd.profiler``): the older profiler API.

``profile`` records the same events as ``chainrule.profiler.profile`` (one collector, see
chainrule/profiler/_collector.py) without schedules; the results are read after the block::

    with chainrule.autograd.profiler.profile(record_shapes=True) as prof:
        y = (x @ w).relu().sum()
        y.backward()
    print(prof.key_averages().table(sort_by="self_cpu_time_total"))
    prof.function_events          # the EventList of FunctionEvent

``emit_nvtx``/``emit_itt`` are no-op context managers (no CUDA, no ITT in chainrule).
"""

from __future__ import annotations

import warnings

from ..profiler._collector import Collector
from ..profiler._events import (  # noqa: F401  (PyTorch's names at this path)
    EventList, FunctionEvent, FunctionEventAvg, write_chrome_trace,
)
from ..profiler._record import emit_itt, emit_nvtx, record_function  # noqa: F401
from ..profiler.profiler import ProfilerActivity  # noqa: F401


def kineto_available() -> bool:
    """False: chainrule has its own collector, not Kineto (both APIs work the same)."""
    return False


class profile:  # noqa: N801  (PyTorch's name)
    """Record the operations run inside the block (``torch.autograd.profiler.profile``).

    Args:
        enabled: False makes the block a no-op.
        use_cuda, use_device: a device to profile; there is none (warns, as PyTorch on a
            CPU-only build).
        record_shapes, with_flops, profile_memory, with_stack: as
            ``chainrule.profiler.profile``.
        use_cpu: must be True (the CPU is the only thing recorded).
    """

    def __init__(self, enabled=True, *, use_cuda=False, use_device=None, record_shapes=False,
                 with_flops=False, profile_memory=False, with_stack=False, with_modules=False,
                 use_kineto=False, use_cpu=True, experimental_config=None, acc_events=False,
                 custom_trace_id_callback=None, post_processing_timeout_s=None,
                 activity_filters=None):
        self.enabled = enabled
        if not enabled:
            return
        self.use_cuda = use_cuda
        if use_cuda:
            warnings.warn("The attribute `use_cuda` will be deprecated soon, please use "
                          "``use_device = 'cuda'`` instead.", FutureWarning, stacklevel=2)
            use_device = "cuda"
        self.use_device = use_device
        self.record_shapes = record_shapes
        self.with_flops = with_flops
        self.profile_memory = profile_memory
        self.with_stack = with_stack
        self.with_modules = with_modules
        self.use_cpu = use_cpu
        self.acc_events = acc_events
        self.entered = False
        self.function_events = None
        self._collector = None
        if not use_cpu and not use_kineto:
            raise AssertionError("Device-only events supported only with Kineto "
                                 "(use_kineto=True)")
        if use_device is not None:
            warnings.warn(f"{str(use_device).upper()} is not available, disabling "
                          f"{str(use_device).upper()} profiling", stacklevel=2)
            self.use_device = None

    def __enter__(self):
        if not self.enabled:
            return self
        if self.entered:
            raise RuntimeError("Profiler context manager is not reentrant")
        self.entered = True
        self._collector = Collector(self.record_shapes, self.with_stack, self.profile_memory,
                                    self.with_flops)
        self._collector.install()
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        if not self.enabled:
            return False
        self._collector.remove()
        events = EventList(self._collector.events, profile_memory=self.profile_memory,
                           with_flops=self.with_flops)
        if self.acc_events and self.function_events is not None:
            self.function_events.extend(events)
        else:
            self.function_events = events
        self.entered = False
        return False

    def _check_finish(self):
        if self.function_events is None:
            raise RuntimeError("Profiler didn't finish running")

    def __repr__(self):
        if self.function_events is None:
            return "<unfinished torch.autograd.profile>"
        return repr(self.function_events)

    def __str__(self):
        if self.function_events is None:
            return "<unfinished torch.autograd.profile>"
        return str(self.function_events)

    def table(self, sort_by=None, row_limit=100, max_src_column_width=75,
              max_name_column_width=55, max_shapes_column_width=80, header=None,
              top_level_events_only=False):
        """The events (not grouped) as PyTorch's table; see ``EventList.table``."""
        self._check_finish()
        return self.function_events.table(
            sort_by=sort_by, row_limit=row_limit, max_src_column_width=max_src_column_width,
            max_name_column_width=max_name_column_width,
            max_shapes_column_width=max_shapes_column_width, header=header,
            top_level_events_only=top_level_events_only)

    def export_chrome_trace(self, path):
        self._check_finish()
        write_chrome_trace(self.function_events, path)

    def export_stacks(self, path: str, metric: str = "self_cpu_time_total"):
        self._check_finish()
        if not self.with_stack:
            raise AssertionError("export_stacks() requires with_stack=True")
        self.function_events.export_stacks(path, metric)

    def key_averages(self, group_by_input_shape=False, group_by_stack_n=0,
                     group_by_overload_name=False):
        self._check_finish()
        return self.function_events.key_averages(group_by_input_shape, group_by_stack_n,
                                                 group_by_overload_name)

    def total_average(self):
        self._check_finish()
        return self.function_events.total_average()

    @property
    def self_cpu_time_total(self):
        """The sum of the self CPU times of all events (microseconds)."""
        self._check_finish()
        return self.function_events.self_cpu_time_total


__all__ = ["profile", "record_function", "emit_nvtx", "emit_itt", "EventList",
           "FunctionEvent", "FunctionEventAvg", "kineto_available"]
