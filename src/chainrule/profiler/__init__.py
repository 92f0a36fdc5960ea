"""``chainrule.profiler`` (``torch.profiler``): time every operation of a program.

    with chainrule.profiler.profile(record_shapes=True) as prof:
        with chainrule.profiler.record_function("model"):
            loss = model(x).sum()
        loss.backward()
    print(prof.key_averages().table(sort_by="cpu_time_total", row_limit=10))

How it hooks in without costing anything when off: see _collector.py.
"""

from __future__ import annotations

from . import itt  # noqa: F401
from ._events import EventList, FunctionEvent, FunctionEventAvg  # noqa: F401
from ._record import record_function  # noqa: F401
from .profiler import (  # noqa: F401
    ProfilerAction, ProfilerActivity, _KinetoProfile, profile, schedule, supported_activities,
    tensorboard_trace_handler,
)

__all__ = ["profile", "record_function", "supported_activities", "tensorboard_trace_handler",
           "schedule", "ProfilerAction", "ProfilerActivity", "itt"]
