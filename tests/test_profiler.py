"""chainrule.profiler / chainrule.autograd.profiler (torch.profiler): events, nesting,
tables, schedules, traces, and composition with chainrule.compile."""

import gzip
import json
import os
import re
import warnings
from collections import Counter

import pytest

import chainrule as cr
from chainrule._state import STATE
from chainrule.profiler import (
    ProfilerAction, ProfilerActivity, profile, record_function, schedule,
    tensorboard_trace_handler,
)

from ._functions import Cube

COMPARED = ["model", "aten::linear", "aten::addmm", "aten::mm", "aten::relu",
            "aten::threshold_backward", "ReluBackward0", "AddmmBackward0",
            "autograd::engine::evaluate_function: ReluBackward0",
            "autograd::engine::evaluate_function: AddmmBackward0",
            "Optimizer.step#SGD.step", "Optimizer.zero_grad#SGD.zero_grad"]


def _train_step(lib, prof_mod, steps=2):
    lib.manual_seed(0)
    m = lib.nn.Linear(4, 3)
    opt = lib.optim.SGD(m.parameters(), lr=0.1)
    x = lib.randn(5, 4)
    with prof_mod.profile(record_shapes=True) as prof:
        for _ in range(steps):
            with prof_mod.record_function("model"):
                y = lib.relu(m(x)).sum()
            y.backward()
            opt.step()
            opt.zero_grad()
    return prof


def _counts(prof):
    c = Counter(e.name for e in prof.events())
    return {k: c[k] for k in COMPARED}


def test_op_counts_match_torch(torch):
    ours = _counts(_train_step(cr, cr.profiler))
    theirs = _counts(_train_step(torch, torch.profiler))
    assert ours == theirs
    assert ours["aten::addmm"] == 2 and ours["Optimizer.step#SGD.step"] == 2


def test_nesting_and_self_times():
    prof = _train_step(cr, cr.profiler, steps=1)
    events = prof.events()
    by = {e.name: e for e in events}
    assert by["aten::linear"].cpu_parent is by["model"]
    assert by["aten::addmm"].cpu_parent is by["aten::linear"]
    assert by["aten::relu"].cpu_parent is by["model"]
    node = by["ReluBackward0"]
    assert node.cpu_parent is by["autograd::engine::evaluate_function: ReluBackward0"]
    assert by["aten::threshold_backward"].cpu_parent is node
    assert by["aten::mm"].cpu_parent is by["AddmmBackward0"]
    assert by["model"].cpu_parent is None
    for e in events:
        assert 0 <= e.self_cpu_time_total <= e.cpu_time_total
        kids = sum(c.cpu_time_total for c in e.cpu_children)
        assert e.self_cpu_time_total == pytest.approx(e.cpu_time_total - kids)
        for c in e.cpu_children:
            assert e.start_us <= c.start_us and c.end_us <= e.end_us
    avg = {a.key: a for a in prof.key_averages()}
    assert avg["model"].cpu_time_total == pytest.approx(by["model"].cpu_time_total)
    total = prof.key_averages().total_average()
    assert total.self_cpu_time_total == pytest.approx(events.self_cpu_time_total)
    shapes = {a.key: a.input_shapes for a in prof.key_averages(group_by_input_shape=True)}
    assert shapes["aten::addmm"] == [[5, 4], [3, 4], [3]]
    assert shapes["aten::relu"] == [[5, 3]]


def _head(table):
    return table.splitlines()[:3]


def _cols(line):
    return re.split(r"\s{2,}", line.strip())


def test_table_layout_matches_torch(torch):
    ours = _train_step(cr, cr.profiler, steps=1)
    theirs = _train_step(torch, torch.profiler, steps=1)
    for kw in ({}, {"sort_by": "cpu_time_total", "row_limit": 5},
               {"sort_by": "self_cpu_time_total", "max_name_column_width": 30},
               {"header": "TITLE", "row_limit": 3}):
        a = ours.key_averages().table(**kw)
        b = theirs.key_averages().table(**kw)
        n = 5 if "header" in kw else 3
        assert a.splitlines()[:n] == b.splitlines()[:n], kw
        assert a.splitlines()[-2] == a.splitlines()[2]  # closing separator
        assert re.fullmatch(r"Self CPU time total: \d+\.\d{3}(us|ms|s)", a.splitlines()[-1])
    a = ours.key_averages(group_by_input_shape=True).table(row_limit=4)
    b = theirs.key_averages(group_by_input_shape=True).table(row_limit=4)
    assert _cols(a.splitlines()[1]) == _cols(b.splitlines()[1])
    assert _cols(a.splitlines()[1])[-1] == "Input Shapes"
    rows = a.splitlines()[3:-2]
    assert len(rows) == 4 and rows[0].lstrip().startswith("model")
    assert a.endswith("\n")
    sorted_rows = ours.key_averages().table(sort_by="count").splitlines()[3:-2]
    counts = [int(r.split()[-1]) for r in sorted_rows]
    assert counts == sorted(counts, reverse=True)


def test_table_memory_columns_and_time_unit():
    x = cr.randn(50, 50)
    with profile(profile_memory=True) as prof:
        y = x @ x
    t = prof.key_averages().table(time_unit="ms")
    assert _cols(t.splitlines()[1])[6:9] == ["CPU Mem", "Self CPU Mem", "# of Calls"]
    assert "9.77 KB" in t  # the 50 x 50 float32 product
    assert re.search(r"\d\.\d{3}ms", t.splitlines()[3])
    assert y.shape == (50, 50)


@pytest.mark.parametrize("args", [
    dict(wait=1, warmup=1, active=2), dict(wait=1, warmup=1, active=2, repeat=2),
    dict(wait=2, warmup=1, active=1, repeat=1, skip_first=3),
    dict(wait=5, warmup=1, active=3, repeat=2, skip_first=2, skip_first_wait=1),
    dict(wait=0, warmup=2, active=1, repeat=3),
])
def test_schedule_matches_torch(torch, args):
    ours, theirs = schedule(**args), torch.profiler.schedule(**args)
    assert [ours(s).name for s in range(40)] == [theirs(s).name for s in range(40)]


def test_schedule_errors_and_warning(torch):
    with pytest.raises(AssertionError, match="Invalid profiler schedule"):
        schedule(wait=0, warmup=1, active=0)
    with pytest.warns(UserWarning, match="won't be using warmup"):
        schedule(wait=1, warmup=0, active=1)
    with pytest.raises(TypeError):
        schedule(1, 1, 1)  # keyword-only, as PyTorch's
    assert [a.name for a in ProfilerAction] == [a.name for a in torch.profiler.ProfilerAction]
    assert {a.name: a.value for a in ProfilerActivity} == {
        k: int(v.value) for k, v in torch.profiler.ProfilerActivity.__members__.items()}


def _cycles(lib, n_steps=11, **sched):
    cycles = []

    def ready(p):
        c = Counter(e.name for e in p.events())
        cycles.append((c["ProfilerStep*"], c["aten::add"]))

    x = lib.ones(3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with lib.profiler.profile(schedule=lib.profiler.schedule(**sched),
                                  on_trace_ready=ready) as p:
            for k in range(n_steps):
                for _ in range(k):  # step k runs k additions
                    x = x + 1
                p.step()
    return cycles


@pytest.mark.parametrize("sched", [dict(wait=1, warmup=1, active=2, repeat=2),
                                   dict(wait=0, warmup=1, active=3),
                                   dict(wait=2, warmup=1, active=1, skip_first=1)])
def test_schedule_cycles_match_torch(torch, sched):
    assert _cycles(cr, **sched) == _cycles(torch, **sched)


def test_tensorboard_trace_handler(tmp_path):
    x = cr.ones(3)
    with profile(schedule=schedule(wait=0, warmup=1, active=1, repeat=1),
                 on_trace_ready=tensorboard_trace_handler(str(tmp_path / "tb"), "w0")) as p:
        for _ in range(3):
            x = x * 2
            p.step()
    files = os.listdir(tmp_path / "tb")
    assert len(files) == 1 and re.fullmatch(r"w0\.\d+\.pt\.trace\.json", files[0])
    data = json.loads((tmp_path / "tb" / files[0]).read_text())
    names = [e["name"] for e in data["traceEvents"] if e["ph"] == "X"]
    assert names == ["ProfilerStep#1", "aten::mul"]
    handler = tensorboard_trace_handler(str(tmp_path / "gz"), use_gzip=True)
    with profile() as p:
        x + 1
    handler(p)
    (f,) = os.listdir(tmp_path / "gz")
    assert f.endswith(".pt.trace.json.gz") and f.startswith(f"{os.uname().nodename}_")
    with gzip.open(tmp_path / "gz" / f, "rt") as fh:
        assert [e["name"] for e in json.load(fh)["traceEvents"] if e["ph"] == "X"] == [
            "aten::add"]


def test_chrome_trace(tmp_path):
    prof = _train_step(cr, cr.profiler, steps=1)
    path = tmp_path / "trace.json"
    prof.export_chrome_trace(str(path))
    data = json.loads(path.read_text())
    ev = [e for e in data["traceEvents"] if e["ph"] == "X"]
    assert len(ev) == len(prof.events())
    first = ev[0]
    assert first["name"] == "model" and first["cat"] == "user_annotation"
    assert {"ph", "name", "pid", "tid", "ts", "dur", "args"} <= set(first)
    addmm = next(e for e in ev if e["name"] == "aten::addmm")
    assert addmm["cat"] == "cpu_op" and addmm["args"]["Input Dims"] == [[5, 4], [3, 4], [3]]
    assert first["ts"] <= addmm["ts"] and addmm["ts"] + addmm["dur"] <= first["ts"] + \
        first["dur"] + 1e-3


def test_record_function_decorator_and_context_manager():
    @record_function("my_fn")
    def f(x):
        return x.exp()

    x = cr.ones(2)
    assert f(x).tolist() == pytest.approx([2.718281828] * 2)  # no profiler: a no-op
    with record_function("outside"):
        pass
    with profile() as prof:
        with record_function("block", "extra"):
            f(x)
        f(x)
    names = [(e.name, e.cpu_parent.name if e.cpu_parent else None) for e in prof.events()]
    assert names == [("block", None), ("my_fn", "block"), ("aten::exp", "my_fn"),
                     ("my_fn", None), ("aten::exp", "my_fn")]
    assert f.__name__ == "f"


def test_user_function_and_names():
    x = cr.randn(2, 3, requires_grad=True)
    w = cr.randn(2, 4, 3, 3)
    with profile() as prof:
        Cube.apply(x).sum().backward()
        cr.nn.functional.conv2d(cr.randn(1, 4, 5, 5), w)
        x.detach() @ cr.randn(3, 2)
        x.softmax(1)
    ev = prof.events()
    names = [e.name for e in ev]
    pw = names.index("Cube")
    assert ev[pw + 1].name == "aten::pow" and ev[pw + 1].cpu_parent is ev[pw]
    assert "autograd::engine::evaluate_function: CubeBackward0" in names
    for outer, inner in [("aten::conv2d", "aten::convolution"), ("aten::matmul", "aten::mm"),
                         ("aten::softmax", "aten::_softmax")]:
        k = names.index(inner)
        assert ev[k].cpu_parent.name == outer


def test_compile_inside_profile_same_numbers():
    def loss(w, x):
        return ((x @ w).tanh() ** 2).sum()

    x = cr.randn(4, 3)
    w0 = cr.randn(3, 2)
    f = cr.compile(loss)
    want = loss(w0, x).item()
    with profile() as prof:
        assert not cr.compiler.is_compiling()
        got = [f(w0, x).item() for _ in range(3)]
    assert got == pytest.approx([want] * 3, rel=1e-6)
    assert STATE.tracer is None
    assert len(f.programs) == 1  # recorded once, replayed (not run eagerly)
    assert "aten::tanh" in [e.name for e in prof.events()]  # the recording call was seen


def test_profile_inside_compiled_function():
    seen = []

    def step(w, x):
        with profile() as prof:
            out = (x @ w).relu().sum()
        seen.append(Counter(e.name for e in prof.events()))
        return out

    x, w = cr.randn(4, 3), cr.randn(3, 2)
    f = cr.compile(step)
    want = step(w, x).item()
    got = [f(w, x).item() for _ in range(3)]
    assert got == pytest.approx([want] * 3, rel=1e-6)
    # the body runs (and its profile records) eagerly and when the call is recorded; the
    # replays run the recorded program, not the Python body (as PyTorch's dynamo ignores
    # a profiler context inside a compiled region)
    assert len(seen) == 2 and all(c["aten::relu"] == 1 for c in seen)
    assert len(f.programs) == 1
    assert STATE.tracer is None


def test_no_tracer_left_after_exceptions():
    x = cr.ones(2, 2)
    with pytest.raises(ValueError):
        with profile() as prof:
            with record_function("r"):
                x + 1
                raise ValueError("boom")
    assert STATE.tracer is None
    assert all(e.end_us >= e.start_us for e in prof.events())
    with pytest.raises(RuntimeError):
        with cr.autograd.profiler.profile():
            x @ cr.ones(3, 3)  # shape error inside an operation
    assert STATE.tracer is None
    f = cr.compile(lambda a: (a * 2).sum())
    with pytest.raises(ValueError):
        with profile():
            f(x)
            raise ValueError
    assert STATE.tracer is None and not cr.compiler.is_compiling()


def test_autograd_profiler_legacy_api(tmp_path):
    ap = cr.autograd.profiler
    x = cr.randn(3, 3, requires_grad=True)
    with ap.profile(record_shapes=True) as p:
        with ap.record_function("r"):
            (x.exp() * 2).sum().backward()
    assert isinstance(p.function_events, ap.EventList)
    avg = {a.key: a.count for a in p.key_averages()}
    assert avg["aten::exp"] == 1 and avg["r"] == 1
    assert "Self CPU time total" in p.table() and str(p) == p.function_events.table()
    assert p.self_cpu_time_total == pytest.approx(p.total_average().self_cpu_time_total)
    p.export_chrome_trace(str(tmp_path / "t.json"))
    assert "traceEvents" in json.loads((tmp_path / "t.json").read_text())
    with ap.profile(enabled=False) as q:
        x + 1
    with pytest.raises(RuntimeError, match="not reentrant"):
        with p:
            with p:
                pass
    with ap.emit_nvtx(), ap.emit_itt():
        x + 1
    assert not hasattr(q, "function_events") or q.function_events is None
    assert STATE.tracer is None


def test_device_activities_warn_as_torch():
    with pytest.warns(UserWarning, match="CUDA is not available, disabling CUDA profiling"):
        with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]):
            cr.ones(1) + 1
    with pytest.warns(FutureWarning, match="use_cuda"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            with profile(use_cuda=True):
                pass
    with pytest.warns(UserWarning, match="XPU is not available"):
        with pytest.raises(AssertionError, match="No activities"):
            with profile(activities=[ProfilerActivity.XPU]):
                pass
    assert cr.profiler.supported_activities() == {ProfilerActivity.CPU}
    assert STATE.tracer is None


def test_stacks_flops_and_step_markers(tmp_path):
    x = cr.randn(8, 4)
    w = cr.randn(4, 5)
    with profile(with_stack=True, with_flops=True) as prof:
        x @ w
    mm = next(e for e in prof.events() if e.name == "aten::mm")
    assert mm.flops == 2 * 8 * 4 * 5
    assert any("test_profiler.py" in s for s in mm.stack)
    t = prof.key_averages().table()
    assert "Total FLOPs" in t and "Source Location" not in t  # stacks: only when grouped
    t = prof.key_averages(group_by_stack_n=3).table()
    assert "Source Location" in t and "test_profiler.py(" in t
    prof.export_stacks(str(tmp_path / "s.txt"))
    line = (tmp_path / "s.txt").read_text().splitlines()[0]
    assert re.search(r";aten::matmul \d+$", line)
    with profile(schedule=schedule(wait=0, warmup=1, active=2, repeat=1)) as p:
        for _ in range(3):
            x + 1
            p.step()
    assert [e.name for e in p.events() if e.name.startswith("Profiler")] == [
        "ProfilerStep*", "ProfilerStep*"]  # PyTorch's event name (the trace keeps #1, #2)
