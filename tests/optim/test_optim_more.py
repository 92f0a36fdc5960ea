"""RAdam, Rprop, ASGD, Adafactor, SparseAdam and Muon against torch.optim: 20+ steps from the
same weights, state keys/shapes, state_dict round trips, argument errors, compiled steps."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn, optim
from chainrule.compiler import CompileWarning

RNG = np.random.default_rng(11)
W0 = RNG.normal(size=(3, 4))
B0 = RNG.normal(size=4)
T0 = RNG.normal(size=(2, 3, 4))  # a 3-D parameter: Adafactor factors its last two dims
X = RNG.normal(size=(5, 3))


def _loss(lib, w, b, t):
    """A smooth non-quadratic loss of a matrix, a vector and a 3-D parameter."""
    x = lib.tensor(X, dtype=w.dtype)
    h = lib.tanh(x @ w + b)
    return (h * h).sum() + 0.1 * (w * w * w).sum() + (lib.sin(t) * t).sum() + (t @ w.T).sum()


DENSE = [
    ("RAdam", dict(lr=0.05)),
    ("RAdam", dict(lr=0.05, betas=(0.8, 0.9), weight_decay=0.1, maximize=True)),
    ("RAdam", dict(lr=0.05, weight_decay=0.3, decoupled_weight_decay=True, eps=1e-3)),
    ("Rprop", dict(lr=0.05)),
    ("Rprop", dict(lr=0.05, etas=(0.3, 1.5), step_sizes=(1e-3, 0.2), maximize=True)),
    ("ASGD", dict(lr=0.05)),
    ("ASGD", dict(lr=0.05, lambd=0.1, alpha=0.5, t0=5, weight_decay=0.1)),
    ("ASGD", dict(lr=0.005, t0=0, maximize=True, foreach=False)),
    ("Adafactor", dict(lr=0.05)),
    ("Adafactor", dict(lr=0.05, beta2_decay=-0.5, eps=(1e-4, 1e-2), d=1.5,
                       weight_decay=0.1)),
    ("Adafactor", dict(lr=0.02, maximize=True, d=1.0, eps=(None, 0.05))),
]


def _pair(torch, name, kw, dtype):
    tdt, cdt = getattr(torch, dtype), getattr(cr, dtype)
    tp = [torch.tensor(a, dtype=tdt, requires_grad=True) for a in (W0, B0, T0)]
    cp = [cr.tensor(a, dtype=cdt, requires_grad=True) for a in (W0, B0, T0)]

    def groups(p):  # two groups, the second with half the learning rate
        return [{"params": [p[0], p[2]]}, {"params": [p[1]], "lr": kw.get("lr", 1e-2) / 2}]

    return tp, cp, getattr(torch.optim, name)(groups(tp), **kw), getattr(optim, name)(
        groups(cp), **kw)


def _step(lib, opt, params):
    opt.zero_grad()
    _loss(lib, *params).backward()
    opt.step()


def _steps(torch, topt, tp, copt, cp):
    """One step of each: chainrule's gradients are torch's (checked close first), so the
    comparison isolates the update rule (Rprop's sign tests would otherwise amplify the
    last-bit differences of two backward passes)."""
    topt.zero_grad()
    _loss(torch, *tp).backward()
    copt.zero_grad()
    _loss(cr, *cp).backward()
    for t, c in zip(tp, cp):
        tg = t.grad.numpy()
        np.testing.assert_allclose(c.grad._data, tg, rtol=1e-4,
                                   atol=1e-5 * max(1.0, np.abs(tg).max()))
        c.grad._data[...] = tg
    topt.step()
    copt.step()


def _tol(dtype):
    return 1e-12 if dtype == "float64" else 2e-5


def _compare_state(torch, topt, copt, tol):
    tsd, csd = topt.state_dict(), copt.state_dict()
    assert [g["params"] for g in tsd["param_groups"]] == [g["params"] for g in csd["param_groups"]]
    for tg, cg in zip(tsd["param_groups"], csd["param_groups"]):
        assert set(tg) == set(cg)  # the same hyper-parameter keys in every group
        for k in tg:
            if k != "params":
                assert tuple(np.atleast_1d(tg[k])) == tuple(np.atleast_1d(cg[k])), k
    assert set(tsd["state"]) == set(csd["state"])
    for idx, tst in tsd["state"].items():
        cst = csd["state"][idx]
        assert set(tst) == set(cst)
        for k, v in tst.items():
            cv = cst[k]._data if isinstance(cst[k], cr.Tensor) else np.asarray(cst[k])
            tv = v.detach().numpy() if torch.is_tensor(v) else np.asarray(v)
            assert cv.shape == tv.shape, k
            np.testing.assert_allclose(cv, tv, rtol=tol, atol=tol, err_msg=k)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name,kw", DENSE, ids=[f"{n}-{i}" for i, (n, _) in enumerate(DENSE)])
def test_matches_torch(torch, name, kw, dtype):
    tp, cp, topt, copt = _pair(torch, name, kw, dtype)
    tol = _tol(dtype)
    for _ in range(25):
        _steps(torch, topt, tp, copt, cp)
        for t, c in zip(tp, cp):
            assert c.dtype == getattr(cr, dtype)
            np.testing.assert_allclose(c._data, t.detach().numpy(), rtol=tol, atol=tol)
    _compare_state(torch, topt, copt, tol)


@pytest.mark.parametrize("name,kw", [DENSE[1], DENSE[4], DENSE[6], DENSE[9]],
                         ids=["RAdam", "Rprop", "ASGD", "Adafactor"])
def test_state_dict_round_trip_resumes(torch, name, kw, tmp_path):
    """10 steps, save the state (through a chainrule file), load it into a new optimizer,
    10 more: the same as PyTorch doing the same, and as an uninterrupted float32 run."""
    results = {}
    for dtype in ("float64", "float32"):
        tp, cp, topt, copt = _pair(torch, name, kw, dtype)
        for _ in range(10):
            _steps(torch, topt, tp, copt, cp)
        cr.save(copt.state_dict(), tmp_path / "opt.safetensors")
        tsd = topt.state_dict()
        topt = getattr(torch.optim, name)([{"params": [tp[0], tp[2]]}, {"params": [tp[1]]}])
        topt.load_state_dict(tsd)
        copt2 = getattr(optim, name)([{"params": [cp[0], cp[2]]}, {"params": [cp[1]]}])
        copt2.load_state_dict(cr.load(tmp_path / "opt.safetensors"))
        assert copt2.param_groups[1]["lr"] == kw["lr"] / 2  # hyper-parameters came back
        for _ in range(10):
            _steps(torch, topt, tp, copt2, cp)
        tol = _tol(dtype)
        for t, c in zip(tp, cp):
            np.testing.assert_allclose(c._data, t.detach().numpy(), rtol=tol, atol=tol)
        results[dtype] = [c._data.copy() for c in cp]
    # float32, uninterrupted: bit for bit the resumed run
    tp, cp, topt, copt = _pair(torch, name, kw, "float32")
    for _ in range(20):
        _steps(torch, topt, tp, copt, cp)
    for a, b in zip(results["float32"], cp):
        np.testing.assert_array_equal(a, b._data)


def test_state_keys_and_shapes():
    w = cr.zeros(2, 3, 4, requires_grad=True)
    v = cr.zeros(5, requires_grad=True)
    opt = optim.Adafactor([w, v])
    (w.sum() * 2 + v.sum()).backward()
    opt.step()
    assert set(opt.state[w]) == {"step", "row_var", "col_var"}
    assert opt.state[w]["row_var"].shape == (2, 3, 1)
    assert opt.state[w]["col_var"].shape == (2, 1, 4)
    assert set(opt.state[v]) == {"step", "variance"} and opt.state[v]["variance"].shape == (5,)
    opt = optim.ASGD([v])
    v.grad = cr.ones(5)
    opt.step()
    st = opt.state[v]
    assert set(st) == {"step", "eta", "mu", "ax"}
    assert st["eta"].shape == () and st["eta"].dtype == cr.float32  # PyTorch's scalar dtype
    opt = optim.Rprop([v], lr=0.25)
    opt.step()
    assert set(opt.state[v]) == {"step", "prev", "step_size"}
    opt = optim.RAdam([v])
    opt.step()
    assert set(opt.state[v]) == {"step", "exp_avg", "exp_avg_sq"}


# -- SparseAdam ----------------------------------------------------------------------------

def _sparse_grads(n_steps=22, rows=6, cols=3):
    """Embedding-like gradients: some rows (with repeats, so coalescing sums them)."""
    rng = np.random.default_rng(3)
    out = []
    for i in range(n_steps):
        k = 0 if i == 5 else rng.integers(1, 6)  # step 6 has an empty gradient
        out.append((rng.integers(0, rows, k), rng.normal(size=(k, cols))))
    return out


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("kw", [dict(lr=0.05), dict(lr=0.05, betas=(0.7, 0.8), eps=1e-3,
                                                       maximize=True)])
def test_sparse_adam_matches_torch(torch, kw, dtype):
    w0 = np.random.default_rng(4).normal(size=(6, 3))
    tw = torch.tensor(w0, dtype=getattr(torch, dtype), requires_grad=True)
    cw = cr.tensor(w0, dtype=getattr(cr, dtype), requires_grad=True)
    topt, copt = torch.optim.SparseAdam([tw], **kw), optim.SparseAdam([cw], **kw)
    tol = _tol(dtype)
    for rows, vals in _sparse_grads():
        tw.grad = torch.sparse_coo_tensor(torch.tensor(rows[None]), torch.tensor(vals),
                                          (6, 3), dtype=tw.dtype,
                                          check_invariants=True)
        cw.grad = cr.sparse_coo_tensor(rows[None], vals, (6, 3), dtype=cw.dtype)
        topt.step()
        copt.step()
        np.testing.assert_allclose(cw._data, tw.detach().numpy(), rtol=tol, atol=tol)
    assert copt.state[cw]["step"] == topt.state[tw]["step"] == 22
    _compare_state(torch, topt, copt, tol)


def test_sparse_adam_matches_torch_sparse_embedding(torch):
    """torch's nn.Embedding(sparse=True) gradient, rebuilt by hand for chainrule."""
    w0 = np.random.default_rng(5).normal(size=(7, 2))
    temb = torch.nn.Embedding(7, 2, sparse=True, _weight=torch.tensor(w0))
    cw = cr.tensor(w0, requires_grad=True)
    topt, copt = torch.optim.SparseAdam(temb.parameters(), lr=0.1), optim.SparseAdam([cw],
                                                                                     lr=0.1)
    rng = np.random.default_rng(6)
    for _ in range(20):
        ids = rng.integers(0, 7, 4)
        topt.zero_grad()
        (temb(torch.tensor(ids)) ** 2).sum().backward()
        topt.step()
        rows = cw._data[ids]
        cw.grad = cr.sparse_coo_tensor(ids[None], 2 * rows, (7, 2))
        copt.step()
        np.testing.assert_allclose(cw._data, temb.weight.detach().numpy(), rtol=1e-12,
                                   atol=1e-12)


def test_sparse_adam_errors(torch):
    w = cr.zeros(3, 2, requires_grad=True)
    opt = optim.SparseAdam([w])
    w.grad = cr.ones(3, 2)
    with pytest.raises(RuntimeError, match="SparseAdam does not support dense gradients"):
        opt.step()
    sp = cr.sparse_coo_tensor(np.array([[0, 1]]), np.ones(2), (3,))
    with pytest.raises(ValueError, match=r"Sparse params at indices \[\[0, 1\]\]"):
        optim.SparseAdam([w, sp])
    with pytest.raises(ValueError, match="learning rate lr=0"):
        optim.SparseAdam([w], lr=0.0)
    with pytest.raises(ValueError, match="eps"):
        optim.SparseAdam([w], eps=0.0)
    # a sparse gradient for a dense-only optimizer: PyTorch's RuntimeError
    w.grad = cr.sparse_coo_tensor(np.array([[0]]), np.ones((1, 2)), (3, 2))
    for cls in (optim.RAdam, optim.Rprop, optim.ASGD, optim.Adafactor):
        with pytest.raises(RuntimeError, match=f"{cls.__name__} does not support sparse"):
            cls([w]).step()
    m = cr.zeros(3, 2, requires_grad=True)
    m.grad = w.grad
    with pytest.raises(RuntimeError, match="Muon does not support sparse"):
        optim.Muon([m]).step()


# -- Muon ----------------------------------------------------------------------------------

M0 = RNG.normal(size=(4, 3))
M1 = RNG.normal(size=(3, 6))


def _muon_loss(lib, a, b):
    x = lib.tensor(np.c_[X, X][:, :4], dtype=a.dtype)
    return (lib.tanh(x @ a @ b) ** 2).sum() + 0.1 * (a * a * a).sum()


MUON = [dict(lr=0.02), dict(lr=0.02, nesterov=False, momentum=0.9, weight_decay=0.0),
        dict(lr=0.02, adjust_lr_fn="match_rms_adamw", ns_steps=3,
             ns_coefficients=(2.0, -1.5, 0.5), eps=1e-3),
        dict(lr=0.01, adjust_lr_fn="original", weight_decay=0.3)]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("kw", MUON, ids=[str(i) for i in range(len(MUON))])
def test_muon_matches_torch(torch, kw, dtype):
    tp = [torch.tensor(a, dtype=getattr(torch, dtype), requires_grad=True) for a in (M0, M1)]
    cp = [cr.tensor(a, dtype=getattr(cr, dtype), requires_grad=True) for a in (M0, M1)]
    topt, copt = torch.optim.Muon(tp, **kw), optim.Muon(cp, **kw)
    for _ in range(20):
        for lib, opt, p in ((torch, topt, tp), (cr, copt, cp)):
            opt.zero_grad()
            _muon_loss(lib, *p).backward()
            opt.step()
        for t, c in zip(tp, cp):
            np.testing.assert_allclose(c._data, t.detach().numpy(), rtol=0, atol=1e-6)
    _compare_state(torch, topt, copt, 1e-5)


def test_muon_newton_schulz_is_torchs_bfloat16_computation(torch):
    from torch.optim._muon import _zeropower_via_newtonschulz as ref

    from chainrule.optim.muon import zeropower_via_newtonschulz
    rng = np.random.default_rng(8)
    for shape in [(3, 4), (7, 3), (16, 16), (40, 24)]:
        for dt in (np.float32, np.float64):
            g = rng.normal(size=shape).astype(dt)
            want = ref(torch.tensor(g), (3.4445, -4.775, 2.0315), 5, 1e-7).float().numpy()
            got = zeropower_via_newtonschulz(g, (3.4445, -4.775, 2.0315), 5, 1e-7)
            # float32 sums in another order can round a bfloat16 value the other way, and
            # the iteration carries that on: most entries equal, the rest within a
            # bfloat16 step or two of the largest entry
            assert (got == want).mean() > 0.85
            np.testing.assert_allclose(got, want, rtol=0, atol=2**-7 * np.abs(want).max())
    # the result is near-orthogonal: singular values in about (0.5, 1.5)
    sv = np.linalg.svd(zeropower_via_newtonschulz(rng.normal(size=(8, 5)), (3.4445, -4.775,
                                                  2.0315), 5, 1e-7), compute_uv=False)
    assert sv.min() > 0.5 and sv.max() < 1.5


# -- argument errors: PyTorch's error types, saying what is wrong ---------------------------

ERRORS = [
    ("RAdam", dict(lr=-1.0), "learning rate lr=-1.0"),
    ("RAdam", dict(eps=-1.0), "epsilon value eps=-1.0"),
    ("RAdam", dict(betas=(1.0, 0.9)), r"betas\[0\]=1.0"),
    ("RAdam", dict(betas=(0.9, -0.1)), r"betas\[1\]=-0.1"),
    ("RAdam", dict(weight_decay=-0.5), "weight decay weight_decay=-0.5"),
    ("Rprop", dict(lr=-0.1), "learning rate"),
    ("Rprop", dict(etas=(1.2, 0.5)), "etaminus < 1 < etaplus"),
    ("Rprop", dict(etas=(0.0, 1.2)), "etas"),
    ("ASGD", dict(lr=-0.1), "learning rate"),
    ("ASGD", dict(weight_decay=-0.1), "weight decay"),
    ("Adafactor", dict(lr=-0.1), "learning rate"),
    ("Adafactor", dict(beta2_decay=0.5), "beta2_decay=0.5 .must be <= 0"),
    ("Adafactor", dict(eps=(-1.0, 1e-3)), r"eps\[0\]=-1.0"),
    ("Adafactor", dict(eps=(None, -1.0)), r"eps\[1\]=-1.0"),
    ("Adafactor", dict(d=0.5), "d=0.5 .the clipping threshold must be >= 1"),
    ("Adafactor", dict(weight_decay=-1.0), "weight decay"),
    ("SparseAdam", dict(lr=-1.0), "learning rate"),
    ("SparseAdam", dict(betas=(0.9, 1.0)), r"betas\[1\]"),
    ("Muon", dict(lr=-1.0), "learning rate"),
    ("Muon", dict(momentum=-0.5), "momentum value momentum=-0.5"),
    ("Muon", dict(weight_decay=-0.5), "weight decay"),
    ("Muon", dict(adjust_lr_fn="sqrt"), "adjust_lr_fn='sqrt' is not supported"),
]


@pytest.mark.parametrize("name,kw,msg", ERRORS, ids=[f"{n}-{i}" for i, (n, _, _) in
                                                      enumerate(ERRORS)])
def test_argument_errors_match_torch(torch, name, kw, msg):
    with pytest.raises(ValueError):  # PyTorch's type
        getattr(torch.optim, name)([torch.zeros(2, 2, requires_grad=True)], **kw)
    with pytest.raises(ValueError, match=msg):
        getattr(optim, name)([cr.zeros(2, 2, requires_grad=True)], **kw)


def test_defaults_and_group_keys_match_torch(torch):
    for name in ("RAdam", "Rprop", "ASGD", "Adafactor", "SparseAdam", "Muon"):
        t = getattr(torch.optim, name)([torch.zeros(2, 2, requires_grad=True)])
        c = getattr(optim, name)([cr.zeros(2, 2, requires_grad=True)])
        tg, cg = t.param_groups[0], c.param_groups[0]
        assert set(tg) == set(cg), name
        for k in tg:
            if k != "params":
                assert tuple(np.atleast_1d(tg[k])) == tuple(np.atleast_1d(cg[k])), (name, k)


def test_muon_refuses_non_matrix_parameters(torch):
    with pytest.raises(ValueError, match="2D parameters"):
        torch.optim.Muon([torch.zeros(3, requires_grad=True)])
    with pytest.raises(ValueError, match=r"2D parameters .* size: .*\(3,\)|\[3\]"):
        optim.Muon([cr.zeros(3, requires_grad=True)])
    with pytest.raises(ValueError, match="less than 100"):
        m = cr.zeros(2, 2, requires_grad=True)
        m.grad = cr.ones(2, 2)
        optim.Muon([m], ns_steps=100).step()


# -- chainrule.compile: the step is replayed as a host call, results bit for bit ----------

def _train(opt_fn, compiled, bias=True, steps=12):
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 8, bias=bias), nn.Tanh(), nn.Linear(8, 3, bias=bias))
    opt = opt_fn(list(model.parameters()))
    rng = np.random.default_rng(0)
    xs = [cr.from_numpy(rng.standard_normal((5, 6)).astype(np.float32)) for _ in range(3)]
    ys = [cr.from_numpy(rng.integers(0, 3, 5)) for _ in range(3)]
    loss_fn = nn.CrossEntropyLoss()

    def step(x, y):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

    if compiled:
        step = cr.compile(step)
    losses = [float(step(xs[i % 3], ys[i % 3])) for i in range(steps)]
    if compiled:
        assert f"{type(opt).__name__}.step" in str(step.programs[0])
    return losses, [p.detach().numpy().copy() for p in model.parameters()]


@pytest.mark.parametrize("name,kw", [("RAdam", dict(lr=0.01)), ("Rprop", {}),
                                     ("ASGD", dict(t0=3)), ("Adafactor", {}),
                                     ("Muon", dict(lr=0.02))])
def test_compiled_steps_bitwise_equal(name, kw):
    cls = getattr(optim, name)
    bias = name != "Muon"  # Muon takes matrices only
    eager = _train(lambda p: cls(p, **kw), False, bias)
    with warnings.catch_warnings():
        warnings.simplefilter("error", CompileWarning)
        comp = _train(lambda p: cls(p, **kw), True, bias)
    assert eager[0] == comp[0]
    assert all(np.array_equal(a, b) for a, b in zip(eager[1], comp[1]))
