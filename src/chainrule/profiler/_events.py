"""The recorded events and their summaries (PyTorch's ``torch.autograd.profiler_util``).

A ``FunctionEvent`` is one timed range: an operation, a ``record_function`` block, a
backward node. Its *total* CPU time is its duration; its *self* time is the total minus
the totals of its direct children (the ranges that opened and closed inside it on the
same thread)::

    self(e) = total(e) - sum(total(c) for c in children(e))

``EventList.key_averages()`` groups events by name (and optionally input shapes or
stack) into ``FunctionEventAvg`` rows; ``table()`` prints them in PyTorch's layout.
Times are in microseconds, as PyTorch's.

Example::

    with chainrule.profiler.profile() as prof:
        (x @ w).relu().sum()
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=5))
"""

from __future__ import annotations

import gzip
import json
import os

from ._format import build_table, format_time


class _Times:
    """What both event kinds share: the fixed attributes of a CPU event and the formatted
    times (no device: device times are 0)."""

    device_type = "CPU"
    is_async = False
    is_legacy = False
    is_user_annotation = False
    use_device = None
    node_id = -1
    overload_name = ""

    device_time = cuda_time = property(lambda self: 0.0)
    cpu_time_str = property(lambda self: format_time(self.cpu_time))
    cpu_time_total_str = property(lambda self: format_time(self.cpu_time_total))
    self_cpu_time_total_str = property(lambda self: format_time(self.self_cpu_time_total))
    device_time_str = device_time_total_str = self_device_time_total_str = property(
        lambda self: format_time(0.0))


class FunctionEvent(_Times):
    """One recorded range (``torch.autograd.profiler_util.FunctionEvent``)."""

    device_time_total = self_device_time_total = 0
    cuda_time_total = self_cuda_time_total = 0
    device_memory_usage = self_device_memory_usage = 0
    self_cuda_memory_usage = 0
    kernels = ()
    count = 1
    scope = 0
    metadata_json = None

    def __init__(self, id, name, thread, start_us, end_us=0.0, input_shapes=None,  # noqa: A002
                 stack=None, sequence_nr=-1, cpu_memory_usage=0, flops=0, kind="cpu_op"):
        self.id = id
        self.name = name
        self.thread = thread
        self.fwd_thread = thread
        self.start_us = start_us
        self.end_us = end_us
        self.input_shapes = input_shapes if input_shapes is not None else []
        self.stack = stack if stack is not None else []
        self.sequence_nr = sequence_nr
        self.cpu_memory_usage = cpu_memory_usage
        self.flops = flops
        self.kind = kind  # "cpu_op" (an operation) or "user_annotation" (a named range)
        self.is_user_annotation = kind == "user_annotation"
        self.cpu_parent = None
        self.cpu_children = []

    # -- the tree -------------------------------------------------------------------------
    def append_cpu_child(self, child):
        self.cpu_children.append(child)

    def set_cpu_parent(self, parent):
        self.cpu_parent = parent

    def append_kernel(self, name, device, duration):
        raise RuntimeError("chainrule profiles the CPU only: no device kernels to append")

    # -- times (microseconds) -------------------------------------------------------------
    @property
    def key(self):
        return self.name

    @property
    def time_range(self):
        return (self.start_us, self.end_us)

    @property
    def cpu_time_total(self):
        return self.end_us - self.start_us

    @property
    def self_cpu_time_total(self):
        return self.cpu_time_total - sum(c.cpu_time_total for c in self.cpu_children)

    @property
    def cpu_time(self):
        return self.cpu_time_total / max(self.count, 1)

    @property
    def self_cpu_memory_usage(self):
        return self.cpu_memory_usage - sum(c.cpu_memory_usage for c in self.cpu_children)

    def __repr__(self):
        return (f"<FunctionEvent id={self.id} name={self.name} thread={self.thread} "
                f"cpu_time={self.cpu_time_total_str} start_us={self.start_us:.3f} "
                f"end_us={self.end_us:.3f} cpu_children={[c.id for c in self.cpu_children]} "
                f"input_shapes={self.input_shapes} cpu_memory_usage={self.cpu_memory_usage}>")


class FunctionEventAvg(_Times):
    """The events of one key, summed (``FunctionEventAvg``): one row of the table."""

    cpu_parent = None
    device_time_total = self_device_time_total = 0
    cuda_time_total = self_cuda_time_total = 0
    device_memory_usage = self_device_memory_usage = 0

    def __init__(self):
        self.key = None
        self.count = 0
        self.cpu_time_total = 0.0
        self.self_cpu_time_total = 0.0
        self.cpu_memory_usage = 0
        self.self_cpu_memory_usage = 0
        self.flops = 0
        self.input_shapes = None
        self.stack = None

    def add(self, other):
        if self.key is None:
            self.key = other.key
            self.input_shapes = other.input_shapes
            self.stack = other.stack
            self.is_user_annotation = other.is_user_annotation
        elif other.key != self.key:
            raise AssertionError(f"FunctionEventAvg.add: key {other.key!r} != {self.key!r}")
        self.count += other.count
        self.cpu_time_total += other.cpu_time_total
        self.self_cpu_time_total += other.self_cpu_time_total
        self.cpu_memory_usage += other.cpu_memory_usage
        self.self_cpu_memory_usage += other.self_cpu_memory_usage
        self.flops += other.flops
        return self

    def __iadd__(self, other):
        return self.add(other)

    @property
    def cpu_time(self):
        return 0.0 if self.count == 0 else self.cpu_time_total / self.count

    def __repr__(self):
        return (f"<FunctionEventAvg key={self.key} self_cpu_time={self.self_cpu_time_total_str}"
                f" cpu_time={self.cpu_time_str} input_shapes={self.input_shapes} "
                f"cpu_memory_usage={self.cpu_memory_usage}>")


class EventList(list):
    """A list of events with PyTorch's summaries (``EventList``)."""

    def __init__(self, *args, use_device=None, profile_memory=False, with_flops=False,
                 **kwargs):
        super().__init__(*args, **kwargs)
        self._use_device = use_device
        self._profile_memory = profile_memory
        self._with_flops = with_flops

    def __str__(self):
        return self.table()

    def table(self, sort_by=None, row_limit=100, max_src_column_width=75,
              max_name_column_width=55, max_shapes_column_width=80, header=None,
              top_level_events_only=False, time_unit=None):
        """The events as PyTorch's text table; ``sort_by`` is an attribute name of the
        rows (``"cpu_time_total"``, ``"self_cpu_time_total"``, ``"count"`` ...)."""
        return build_table(self, sort_by=sort_by, header=header, row_limit=row_limit,
                           max_src_column_width=max_src_column_width,
                           max_name_column_width=max_name_column_width,
                           max_shapes_column_width=max_shapes_column_width,
                           with_flops=self._with_flops, profile_memory=self._profile_memory,
                           top_level_events_only=top_level_events_only, time_unit=time_unit)

    def key_averages(self, group_by_input_shapes=False, group_by_stack_n=0,
                     group_by_overload_name=False):
        """One ``FunctionEventAvg`` per name (and input shapes / first ``n`` stack frames
        when asked), in the order the keys first occur."""
        groups = {}
        for evt in self:
            key = (evt.key,)
            if group_by_input_shapes:
                key += (str(evt.input_shapes),)
            if group_by_stack_n > 0:
                key += tuple(evt.stack[:group_by_stack_n])
            if group_by_overload_name:
                key += (evt.overload_name,)
            avg = groups.get(key)
            if avg is None:
                avg = groups[key] = FunctionEventAvg()
            avg.add(evt)
        out = EventList(groups.values(), use_device=self._use_device,
                        profile_memory=self._profile_memory, with_flops=self._with_flops)
        for avg in out:
            if not group_by_input_shapes:
                avg.input_shapes = ""  # mixed shapes: the table shows no shapes column
            if not group_by_stack_n:
                avg.stack = []
        return out

    def total_average(self):
        """All events summed into one ``FunctionEventAvg`` (key ``"Total"``)."""
        total = FunctionEventAvg()
        for evt in self:
            total.count += evt.count
            total.cpu_time_total += evt.cpu_time_total
            total.self_cpu_time_total += evt.self_cpu_time_total
            total.cpu_memory_usage += evt.cpu_memory_usage
            total.self_cpu_memory_usage += evt.self_cpu_memory_usage
        total.key = "Total"
        return total

    @property
    def self_cpu_time_total(self):
        return sum(evt.self_cpu_time_total for evt in self)

    def supported_export_stacks_metrics(self):
        return ["self_cpu_time_total", "self_cuda_time_total", "self_xpu_time_total",
                "self_privateuse1_time_total"]

    def export_stacks(self, path: str, metric: str = "self_cpu_time_total"):
        """Write one line ``frame;frame;...;name value`` per event that has a stack (for
        flame graphs: ``flamegraph.pl``); outermost frame first, value in microseconds."""
        if metric not in self.supported_export_stacks_metrics():
            raise ValueError(f"export_stacks: metric should be one of "
                             f"{self.supported_export_stacks_metrics()}, not {metric!r}")
        with open(path, "w") as f:
            for evt in self:
                if evt.stack:
                    value = int(getattr(evt, metric, 0) or 0)
                    frames = ";".join(s.replace(";", "_") for s in reversed(evt.stack))
                    f.write(f"{frames};{evt.name} {value}\n")

    def export_chrome_trace(self, path: str):
        """Write the events as a Chrome trace (JSON ``{"traceEvents": [...]}``, complete
        events ``"ph": "X"`` with ``ts``/``dur`` in microseconds): open it in
        chrome://tracing or https://ui.perfetto.dev. A path ending in ``.gz`` is gzipped."""
        write_chrome_trace(self, path)


def chrome_trace(events, metadata=None) -> dict:
    """The Chrome trace of ``events`` as a dict (the JSON object PyTorch writes)."""
    pid = os.getpid()
    trace = []
    for evt in events:
        args = {"External id": evt.id, "Record function id": 0}
        if evt.sequence_nr >= 0:
            args["Sequence number"] = evt.sequence_nr
        if evt.input_shapes:
            args["Input Dims"] = evt.input_shapes
        if evt.stack:
            args["Call stack"] = ";".join(evt.stack)
        trace.append({"ph": "X", "cat": getattr(evt, "kind", "cpu_op"),
                      "name": getattr(evt, "trace_name", evt.name),
                      "pid": pid, "tid": evt.thread, "ts": round(evt.start_us, 3),
                      "dur": round(evt.cpu_time_total, 3), "args": args})
    trace.append({"name": "process_name", "ph": "M", "ts": 0, "pid": pid, "tid": 0,
                  "args": {"name": "python"}})
    out = {"schemaVersion": 1, "deviceProperties": [], "traceEvents": trace,
           "traceName": "", "displayTimeUnit": "ms", "baseTimeNanoseconds": 0}
    if metadata:
        out.update(metadata)
    return out


def write_chrome_trace(events, path: str, metadata=None) -> None:
    data = chrome_trace(events, metadata)
    data["traceName"] = os.fspath(path)
    text = json.dumps(data, indent=1)
    if os.fspath(path).endswith(".gz"):
        with gzip.open(path, "wt", encoding="utf-8") as f:
            f.write(text)
    else:
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
