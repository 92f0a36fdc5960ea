"""The profiler's text table, in PyTorch's layout (columns, widths, footer).

Columns: ``Name`` (width: longest key + 4, at most ``max_name_column_width``), then
``Self CPU %``, ``Self CPU``, ``CPU total %``, ``CPU total``, ``CPU time avg`` (12 wide),
``CPU Mem``/``Self CPU Mem`` with ``profile_memory``, ``# of Calls``, ``Input Shapes``
when the rows carry shapes, ``Source Location`` when they carry stacks, ``Total
<unit>FLOPs`` with ``with_flops``. Percentages are of the sum of the rows' self times,
printed in the footer ``Self CPU time total: ...``.
"""

from __future__ import annotations

import math

_WIDTH = 12  # every numeric column
_SPACING = 2


def format_time(time_us) -> str:
    """``1.234ms``-style: seconds, milliseconds or microseconds, 3 decimals."""
    if time_us >= 1e6:
        return f"{time_us / 1e6:.3f}s"
    if time_us >= 1e3:
        return f"{time_us / 1e3:.3f}ms"
    return f"{time_us:.3f}us"


def format_time_share(time_us, total_us) -> str:
    if total_us == 0:
        return "NaN"
    return f"{time_us * 100.0 / total_us:.2f}%"


def format_memory(nbytes) -> str:
    for unit, size in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if abs(nbytes) >= size:
            return f"{nbytes / size:.2f} {unit}"
    return f"{nbytes} B"


def _in_unit(time_us, unit):
    if unit == "s":
        return f"{time_us / 1e6:.3f}s"
    if unit == "ms":
        return f"{time_us / 1e3:.3f}ms"
    if unit == "us":
        return f"{time_us:.3f}us"
    return format_time(time_us)


def _trim_path(path, width):
    if len(path) > width:
        path = path[len(path) - width:]
        if len(path) > 3:
            path = "..." + path[3:]
    return path


def build_table(events, sort_by=None, header=None, row_limit=100, max_src_column_width=75,
                max_name_column_width=55, max_shapes_column_width=80, with_flops=False,
                profile_memory=False, top_level_events_only=False, time_unit=None) -> str:
    """The rows ``events`` (``FunctionEvent`` or ``FunctionEventAvg``) as a table."""
    if len(events) == 0:
        return ""
    if sort_by is not None:
        key = sort_by.replace("cuda", "device").replace("xpu", "device")
        if not hasattr(events[0], key):
            raise AttributeError(f"table(sort_by={sort_by!r}): the rows have no attribute "
                                 f"{key!r}; use e.g. 'cpu_time_total', 'self_cpu_time_total',"
                                 " 'count' or 'cpu_memory_usage'")
        events = sorted(events, key=lambda e: getattr(e, key), reverse=True)
    has_shapes = any(e.input_shapes is not None and len(e.input_shapes) > 0 for e in events)
    name_w = max(len(e.key) for e in events) + 4
    if max_name_column_width is not None:
        name_w = min(name_w, max_name_column_width)
    shapes_w = max(len(str(e.input_shapes)) for e in events) + 4
    if max_shapes_column_width is not None:
        shapes_w = min(shapes_w, max_shapes_column_width)
    stacks = [e.stack for e in events if e.stack]
    src_w = None
    if stacks:
        src_w = max(len(s) for st in stacks for s in st) + 4
        if max_src_column_width is not None:
            src_w = min(src_w, max_src_column_width)

    headers = ["Name", "Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg"]
    if profile_memory:
        headers += ["CPU Mem", "Self CPU Mem"]
    headers.append("# of Calls")
    fmt, sep, length = "", "", -_SPACING

    def column(width, align=">"):
        nonlocal fmt, sep, length
        fmt += "{: " + align + str(width) + "}" + " " * _SPACING
        sep += "-" * width + " " * _SPACING
        length += width + _SPACING

    column(name_w)
    for _ in headers[1:]:
        column(_WIDTH)
    if has_shapes:
        headers.append("Input Shapes")
        column(shapes_w)
    flops_scale = None
    if with_flops:
        raw = [e.flops for e in events if e.flops > 0]
        if raw:
            names = ["FLOPs", "KFLOPs", "MFLOPs", "GFLOPs", "TFLOPs", "PFLOPs"]
            level = int(max(0.0, min(math.log10(min(raw)) / 3, len(names) - 1.0)))
            flops_scale = 10.0 ** (-3 * level)
            headers.append(f"Total {names[level]}")
            column(_WIDTH)
    if stacks:  # last, so the stack's further frames print below it
        headers.append("Source Location")
        column(src_w, "<")

    total_self = sum(e.self_cpu_time_total for e in events)
    lines = []
    if header is not None:
        lines += ["=" * length, header]
    if top_level_events_only:
        lines += ["=" * length, "This report only display top-level ops statistics"]
    lines += [sep, fmt.format(*headers), sep]
    shown = 0
    for e in events:
        if shown == row_limit:
            break
        if top_level_events_only and e.cpu_parent is not None:
            continue
        shown += 1
        name = e.key
        if max_name_column_width is not None and len(name) >= max_name_column_width - 3:
            name = name[:max_name_column_width - 3] + "..."
        row = [name, format_time_share(e.self_cpu_time_total, total_self),
               _in_unit(e.self_cpu_time_total, time_unit),
               format_time_share(e.cpu_time_total, total_self),
               _in_unit(e.cpu_time_total, time_unit), _in_unit(e.cpu_time, time_unit)]
        if profile_memory:
            row += [format_memory(e.cpu_memory_usage), format_memory(e.self_cpu_memory_usage)]
        row.append(e.count)
        if has_shapes:
            row.append(str(e.input_shapes)[:shapes_w])
        if flops_scale is not None:
            row.append("--" if e.flops <= 0 else f"{e.flops * flops_scale:8.3f}")
        if stacks:
            row.append(_trim_path(e.stack[0], src_w) if e.stack else "")
        lines.append(fmt.format(*row))
        if stacks:
            blank = [""] * (len(headers) - 1)
            for entry in e.stack[1:]:
                lines.append(fmt.format(*(blank + [_trim_path(entry, src_w)])))
            lines.append(fmt.format(*(blank + [""])))
    lines += [sep, f"Self CPU time total: {_in_unit(total_self, time_unit)}"]
    return "".join(line + "\n" for line in lines)
