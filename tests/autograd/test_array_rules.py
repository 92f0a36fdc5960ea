"""The engine's plain pass runs the marked backward rules on NumPy arrays
(ops/_array_rules.py): same gradients, bit for bit, as the tensor pass (create_graph=True
takes the tensor path), hooks and grad() still see tensors, nothing is aliased."""

import numpy as np
import pytest

import chainrule as cr
from chainrule._state import STATE
from chainrule.ops._array_rules import ARRAY_RULES
from chainrule.tensor import Tensor


def _leaves(*shapes, dtype=np.float32, positive=False, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for s in shapes:
        a = rng.standard_normal(s).astype(dtype)
        if positive:
            a = np.abs(a) + 0.5
        out.append(cr.tensor(a, requires_grad=True))
    return out


def _grads(fn, leaves, create_graph):
    for t in leaves:
        t.grad = None
    out = fn(*leaves)
    w = cr.tensor(np.linspace(-1.0, 2.0, out.numel()).reshape(out.shape).astype(
        out.detach().numpy().dtype))
    (out * w).sum().backward(create_graph=create_graph)
    return [None if t.grad is None else t.grad.detach().numpy().copy() for t in leaves]


CASES = {
    "add_broadcast": (lambda a, b: a + b, [(3, 1), (4,)], {}),
    "sub_mul_div": (lambda a, b: (a - b) * a / b, [(3, 4), (4,)], {"positive": True}),
    "neg_cast": (lambda a: (-a).double() * 3, [(5,)], {}),
    "unary": (lambda a: a.exp() + a.log() + a.log1p() + a.sqrt() + a.expm1() + a.tan(),
              [(6,)], {"positive": True}),
    "activations": (lambda a: a.tanh() * a.sigmoid() + a.relu(), [(2, 5)], {}),
    "sum": (lambda a: a.sum(1, keepdim=True) * a.sum(0) + a.sum(), [(3, 4)], {}),
    "views": (lambda a: a.view(4, 3).t().permute(1, 0).reshape(-1, 6).expand(2, 2, 6),
              [(3, 4)], {}),
    "index": (lambda a: a[1] + a[:, 2].sum() + a[[0, 0, 2]].sum(0) + a[0, 1], [(3, 4)], {}),
    "cat": (lambda a, b: cr.cat([a, b, a], 1), [(2, 3), (2, 1)], {}),
    "matmul": (lambda a, b: a @ b + a.transpose(1, 2).transpose(1, 2) @ b, [(2, 3, 4), (4, 5)], {}),
    "linear": (lambda x, w: cr.nn.functional.linear(x, w) + cr.nn.functional.linear(
        x, w, w[:, 0]), [(2, 3, 4), (5, 4)], {}),
    "zero_dim": (lambda a: (a.sum().log() + a[0, 0]).view(1), [(2, 2)], {"positive": True}),
    "float64": (lambda a, b: (a * b).exp().sum(0), [(3, 2), (2,)], {"dtype": np.float64}),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_plain_pass_equals_tensor_pass_bitwise(name):
    fn, shapes, kw = CASES[name]
    leaves = _leaves(*shapes, **kw)
    plain = _grads(fn, leaves, False)
    tensor = _grads(fn, leaves, True)
    for p, t in zip(plain, tensor):
        assert p.dtype == t.dtype and p.shape == t.shape
        np.testing.assert_array_equal(p, t)


def test_fused_grad_nodes_and_index_add_run_on_arrays_in_double_backward():
    # the second pass walks TanhGrad, SigmoidGrad, ReluGrad and IndexAdd nodes (plain)
    def run(create_graph):
        (x,) = _leaves((7,), dtype=np.float64, seed=3)
        y = (x.tanh() + x.sigmoid() + x.relu() * x)[[1, 2, 2]].sum()
        (g,) = cr.autograd.grad(y, x, create_graph=True)
        (g * g).sum().backward(create_graph=create_graph)
        return x.grad.detach().numpy()

    np.testing.assert_array_equal(run(False), run(True))


@pytest.mark.parametrize("cell", ["LSTMCell", "GRUCell"])
def test_fused_rnn_cells_plain_equals_tensor_pass(cell):
    cr.manual_seed(0)
    m = getattr(cr.nn, cell)(3, 4)
    (x,) = _leaves((2, 3), seed=1)

    def run(create_graph):
        m.zero_grad()
        x.grad = None
        out = m(x)
        h = out[0] + out[1] if isinstance(out, tuple) else out
        (h * h).sum().backward(create_graph=create_graph)
        return [p.grad.detach().numpy().copy() for p in m.parameters()] + [x.grad.detach().numpy().copy()]

    for a, b in zip(run(False), run(True)):
        np.testing.assert_array_equal(a, b)


def test_the_plain_pass_makes_no_tensors_for_marked_rules(monkeypatch):
    (x,) = _leaves((4,))
    y = x
    for _ in range(50):
        y = (y * 0.5).exp()
    made = []
    orig = Tensor._make

    def counting(*a):
        made.append(1)
        return orig(*a)

    monkeypatch.setattr(Tensor, "_make", staticmethod(counting))
    y.sum().backward()
    assert len(made) <= 3  # the seed gradient and the leaf's .grad, not ~200 temporaries
    assert x.grad is not None and not STATE.arrays


def test_hooks_retain_grad_and_grad_inputs_see_tensors():
    (x,) = _leaves((3,))
    h = x.exp()
    h.retain_grad()
    seen = []
    h.register_hook(lambda g: seen.append(type(g)) or g * 2)
    y = (h * h).sum()
    y.backward(retain_graph=True)
    assert seen == [Tensor] and isinstance(h.grad, Tensor)
    np.testing.assert_allclose(x.grad.numpy(), 4 * h.detach().numpy() ** 2, rtol=1e-6)
    (gh,) = cr.autograd.grad(y, h)
    assert isinstance(gh, Tensor)
    np.testing.assert_allclose(gh.numpy(), 4 * h.detach().numpy(), rtol=1e-6)


def test_no_aliasing_between_leaves_or_with_the_callers_gradient():
    a, b = _leaves((3,), (3,))
    (a + b).sum().backward()  # Add gives the same array to both edges
    assert not np.shares_memory(a.grad.numpy(), b.grad.numpy())
    (x,) = _leaves((3,))
    g = cr.ones(3)
    (x * 1.0).backward(g)
    g.add_(1)
    np.testing.assert_array_equal(x.grad.numpy(), np.ones(3, np.float32))
    (x * 1.0).backward(g)  # accumulates in place
    np.testing.assert_array_equal(x.grad.numpy(), np.full(3, 3, np.float32))


def test_error_inside_an_array_rule_leaves_the_engine_usable():
    (x,) = _leaves((3,))
    y = x.exp()
    z = y * 2
    with cr.no_grad():
        y.add_(1)  # modifies a value Exp saved
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()
    assert not STATE.arrays
    w = (x * 3).sum()
    assert isinstance(x * 2, Tensor)
    w.backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.full(3, 3, np.float32))


def test_every_marked_rule_is_a_builtin_primitive():
    for cls in ARRAY_RULES:
        assert cls._arrays and cls._vjp_arrays and cls.__module__.startswith("chainrule.ops")


def test_a_fresh_gradient_array_becomes_the_leafs_grad_without_a_copy(monkeypatch):
    import chainrule.autograd.engine as engine

    owned = []
    orig = engine._accumulate_array

    def spy(leaf, d, defer_post, own):
        owned.append(own)
        return orig(leaf, d, defer_post, own)

    monkeypatch.setattr(engine, "_accumulate_array", spy)
    x, w = _leaves((3, 4), (4, 5))
    (x * 2).sum().backward()  # Mul's rule makes a new array: nobody else holds it
    (x @ w).sum().backward()
    assert owned[0] and owned[1]


def test_array_mode_of_another_thread_does_not_reach_this_one():
    import threading

    (x,) = _leaves((3,))
    STATE.arrays = threading.get_ident() + 1  # as if another thread were inside a rule
    try:
        with cr.no_grad():
            y = x.view(3) * 2
        assert isinstance(y, Tensor)
    finally:
        STATE.arrays = 0
    done = []
    t = threading.Thread(target=lambda: done.append((x * 3).sum().backward()))
    t.start()
    t.join()
    assert done and x.grad is not None and not STATE.arrays


def test_view_primitives_lean_apply_matches_the_general_one():
    from chainrule.autograd.function.apply import apply
    from chainrule.ops import Expand, Getitem, Permute, Reshape

    base = cr.arange(6.0).reshape(2, 3)
    cases = [(cr.ones(2, 3, requires_grad=True) * 1, True), (base, False),
             (cr.arange(6).reshape(2, 3), False), (cr.nn.Parameter(cr.ones(2, 3)), True)]
    for x, needs in cases:
        for cls, arg in ((Reshape, (3, 2)), (Permute, (1, 0)), (Getitem, (1, slice(0, 2))),
                         (Expand, (4, 2, 3))):
            lean, general = cls.apply(x, arg), apply(cls, x, arg)
            assert lean.requires_grad == general.requires_grad == (needs and x.is_floating_point())
            assert type(lean.grad_fn) is type(general.grad_fn)
            np.testing.assert_array_equal(lean.detach().numpy(), general.detach().numpy())
            with cr.no_grad():
                assert not cls.apply(x, arg).requires_grad
    x = cr.ones(2, 3, requires_grad=True) * 1
    v = x[0]
    with cr.no_grad():
        x.mul_(2)  # v is now stale: the lean path hands it to the general one
    (v.view(3) * 1).sum().backward()
    assert v.grad_fn is not None
