"""The rest of torch.compiler and the torch._dynamo names programs use: same names as
torch's, and what each does here (set_stance really switches to eager; the tracing hints
are accepted)."""

from __future__ import annotations

import pytest

import chainrule as cr
from chainrule import nn


def _counted_step():
    calls = []
    model = nn.Linear(3, 1)

    def f(x):
        calls.append(1)  # a Python side effect: runs at each eager call and at recording
        return model(x).sum()

    return cr.compile(f), calls


def test_set_stance_force_eager_as_call_block_and_decorator():
    f, calls = _counted_step()
    x = cr.randn(4, 3)
    f(x)
    f(x)
    assert len(calls) == 1  # recorded once, then replayed
    with cr.compiler.set_stance("force_eager"):
        f(x)
        f(x)
    assert len(calls) == 3
    f(x)
    assert len(calls) == 3  # replayed again after the block

    @cr.compiler.set_stance("force_eager")
    def eager_twice():
        f(x)
        f(x)

    eager_twice()
    assert len(calls) == 5
    cr.compiler.set_stance("force_eager")
    f(x)
    cr.compiler.set_stance("default")
    f(x)
    assert len(calls) == 6
    with pytest.raises(ValueError, match="unknown stance"):
        cr.compiler.set_stance("fast")


def test_compiler_names_match_torch(torch):
    missing = [n for n in torch.compiler.__all__ if not hasattr(cr.compiler, n)]
    assert missing == [n for n in missing if n in _REFUSED], missing


_REFUSED = {  # TorchDynamo's cache files and guard-skipping switches: no such machinery
    "config", "set_enable_guard_collectives", "load_compiled_function",
    "save_cache_artifacts", "load_cache_artifacts", "keep_portable_guards_unsafe",
    "skip_guard_on_inbuilt_nn_modules_unsafe", "skip_guard_on_all_nn_modules_unsafe",
    "keep_tensor_guards_unsafe", "skip_guard_on_globals_unsafe", "skip_all_guards_unsafe",
    "nested_compile_region"}


def test_hints_are_identity_and_exporting_is_seen():
    def g(t):
        return t * 2

    assert cr.compiler.allow_in_graph(g) is g
    assert cr.compiler.assume_constant_result(g) is g
    assert cr.compiler.substitute_in_graph(g)(g) is g
    assert "inductor" in cr.compiler.list_backends()
    seen = []

    class M(nn.Module):
        def forward(self, x):
            seen.append(cr.compiler.is_exporting())
            return x + 1

    cr.export(M(), (cr.randn(2),))
    M()(cr.randn(2))
    assert seen == [True, False] and not cr.compiler.is_dynamo_compiling()


def test_dynamo_names_programs_use():
    import chainrule._dynamo as dynamo

    assert cr._dynamo is dynamo
    dynamo.config.suppress_errors = True
    dynamo.config.cache_size_limit = 64
    with dynamo.config.patch(verbose=True):
        assert dynamo.config.verbose is True
    assert dynamo.config.verbose is False and dynamo.config.cache_size_limit == 64
    x = cr.randn(4, 3)
    dynamo.mark_dynamic(x, 0)
    dynamo.mark_static(x, 1)
    f, calls = _counted_step()
    f(x)
    dynamo.reset()
    f(x)
    assert len(calls) == 2  # reset forgets the recording

    @dynamo.optimize("inductor")
    def h(t):
        dynamo.graph_break()
        return (t * t).sum()

    assert h(x).item() == pytest.approx((x * x).sum().item())
    assert dynamo.disable(lambda t: t + 1)(cr.ones(1)).item() == 2.0
