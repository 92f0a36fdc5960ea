"""chainrule's intra-op thread pool (ops/_parallel.py): ``set_num_threads(n)`` splits the
large kernels over n threads with NumPy's BLAS at one thread.

Each split kernel is compared with the same kernel unsplit (bit for bit where each result
number is computed by the same calls; to rounding where partial sums are added: weight
gradients, col2im tiles, row blocks of a BLAS product), and the pool's contract is checked:
exceptions, Ctrl-C, nesting, a second Python thread, fork, recording by compile.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

import chainrule as cr
from chainrule import _threads
from chainrule.ops import _conv_kernels as K
from chainrule.ops import _conv_parallel as KP
from chainrule.ops import _parallel as P
from chainrule.ops._kernels import kernels as kernels_by_name
from chainrule.ops import pool, unary
from chainrule.ops.conv import ConvGeom
from chainrule.ops.pool import PoolGeom


def _blas_threads():
    return max(i["num_threads"] for i in threadpool_info() if i.get("user_api") == "blas")


@pytest.fixture
def restore_threads():
    """Leave the process as it was: pool size, BLAS threads, the user-set flag."""
    n, blas, limiter = P._N, _blas_threads(), _threads._limiter
    yield
    P.set_threads(n)
    threadpool_limits(limits=blas, user_api="blas")
    _threads._limiter = limiter


def _both(fn):
    """fn() with one thread, then with two (the pool splitting)."""
    P.set_threads(1)
    a = fn()
    P.set_threads(2)
    try:
        b = fn()
    finally:
        P.set_threads(1)
    return a, b


def test_set_num_threads_owns_the_threads(restore_threads):
    cr.set_num_threads(2)
    assert cr.get_num_threads() == 2 and P.threads() == 2
    assert _blas_threads() == 1  # one pool on the cores: BLAS runs inside chainrule's pieces
    x = cr.randn(64, 16, 28, 28)
    cr.nn.functional.relu(x)
    names = [t.name for t in threading.enumerate()]
    assert "chainrule-intra-op" in names
    cr.set_num_threads(1)
    assert cr.get_num_threads() == 1 and _blas_threads() == 1


def test_run_splits_and_waits():
    P.set_threads(2)
    try:
        seen = {}
        P.run(lambda lo, hi: seen.__setitem__(lo, (hi, threading.current_thread().name)),
              [(0, 5), (5, 9)])
        assert seen[0][0] == 5 and seen[5][0] == 9
        assert seen[0][1] == threading.current_thread().name  # first piece: the caller
        assert seen[5][1] == "chainrule-intra-op"
    finally:
        P.set_threads(1)


@pytest.mark.parametrize("where", ["caller", "worker"])
def test_errors_reach_the_caller_after_every_piece(where):
    P.set_threads(2)
    done = []

    def work(lo, hi):
        if (lo == 0) == (where == "caller"):
            raise ValueError(f"piece {lo}")
        time.sleep(0.05)
        done.append(lo)

    try:
        with pytest.raises(ValueError, match="piece"):
            P.run(work, [(0, 1), (1, 2)])
        assert done == [1] if where == "caller" else done == [0]
        P.run(lambda lo, hi: done.append(("again", lo)), [(0, 1), (1, 2)])  # still usable
        assert sorted(done[1:]) == [("again", 0), ("again", 1)]
    finally:
        P.set_threads(1)


def test_ctrl_c_in_the_caller_waits_for_the_worker():
    """A KeyboardInterrupt in the caller's piece is raised only once the worker's piece
    finished: the worker writes into arrays the caller owns."""
    P.set_threads(2)
    done = []

    def work(lo, hi):
        if lo == 0:
            raise KeyboardInterrupt
        time.sleep(0.1)
        done.append(lo)

    try:
        with pytest.raises(KeyboardInterrupt):
            P.run(work, [(0, 1), (1, 2)])
        assert done == [1]
    finally:
        P.set_threads(1)


def test_nested_and_concurrent_calls_run_unsplit():
    P.set_threads(2)
    try:
        inner = []

        def work(lo, hi):
            inner.append(P.pieces(100, 1 << 30))  # inside a piece: None (no nesting)

        P.run(work, [(0, 1), (1, 2)])
        assert inner == [None, None]
        # a second Python thread using chainrule while the pool is busy runs its own call
        x = np.random.default_rng(0).standard_normal((64, 16, 28, 28)).astype(np.float32)
        ref = unary._relu(x)
        results, errors = [], []

        def user():
            try:
                for _ in range(20):
                    results.append(np.array_equal(unary._relu(x), ref))
            except Exception as e:  # noqa: BLE001
                errors.append(e)

        ts = [threading.Thread(target=user) for _ in range(3)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        assert not errors and all(results) and len(results) == 60
    finally:
        P.set_threads(1)


def test_a_forked_child_gets_its_own_workers(tmp_path):
    code = textwrap.dedent("""
        import os, numpy as np, chainrule as cr
        cr.set_num_threads(2)
        x = cr.randn(64, 16, 28, 28)
        y = cr.nn.functional.relu(x).numpy()
        pid = os.fork()
        if pid == 0:
            z = cr.nn.functional.relu(x).numpy()
            os._exit(0 if np.array_equal(y, z) else 3)
        _, status = os.waitpid(pid, 0)
        print("child", os.waitstatus_to_exitcode(status))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert "child 0" in out.stdout


# -- the kernels, split vs whole ---------------------------------------------------------------
_RNG = np.random.default_rng(3)


@pytest.mark.parametrize("c,o,hw,stride,pad,groups", [
    (1, 16, 28, 1, 1, 1), (16, 32, 14, 1, 1, 1), (16, 8, 15, 2, 0, 1), (4, 8, 20, 1, 2, 2),
])
def test_convolution_kernels_split(c, o, hw, stride, pad, groups):
    x = _RNG.standard_normal((64, c, hw, hw)).astype(np.float32)
    w = _RNG.standard_normal((o, c // groups, 3, 3)).astype(np.float32)
    b = _RNG.standard_normal(o).astype(np.float32)
    geom = ConvGeom((hw, hw), (3, 3), (stride, stride), ((pad, pad), (pad, pad)), (1, 1),
                    groups)
    order = K.choose_order(64, c, o, geom, forward=True, weight=True)
    (y1, c1), (y2, c2) = _both(lambda: KP.conv_forward(x, w, b, geom, order, True))
    np.testing.assert_array_equal(y1, y2)  # per-sample products: the same calls
    if c2 is not None:
        np.testing.assert_array_equal(c1, c2)
    g = _RNG.standard_normal(y1.shape).astype(np.float32)
    gi = K.choose_order(64, c, o, geom, inputs=True)
    a, s = _both(lambda: KP.conv_input_grad(g, w, geom, gi))
    np.testing.assert_allclose(s, a, rtol=1e-5, atol=1e-4)
    for cols in (c1, None):
        (w1, b1), (w2, b2) = _both(
            lambda cols=cols, c2=c2: KP.conv_weight_grad(
                x, g, geom, order, cols if P._N == 1 else (c2 if cols is not None else None),
                True))
        np.testing.assert_allclose(w2, w1, rtol=1e-5, atol=1e-3)
        np.testing.assert_allclose(b2, b1, rtol=1e-5, atol=1e-3)


@pytest.mark.parametrize("k,s,p,ceil", [(2, 2, 0, False), (3, 2, 1, False), (3, 1, 0, True),
                                        (2, 1, 0, False), (1, 1, 0, False)])
def test_pooling_kernels_split(k, s, p, ceil):
    x = _RNG.standard_normal((64, 8, 17, 18)).astype(np.float32)
    x[:, :, ::3, ::4] = 0.0  # ties
    x[3, 2, 5, 6] = np.nan
    geom = PoolGeom((17, 18), (k, k), (s, s), (p, p), (1, 1), ceil)
    old = P._MIN_BYTES
    P._MIN_BYTES = 0
    try:
        (m1, a1), (m2, a2) = _both(lambda: pool.split_max(x, geom))
        np.testing.assert_array_equal(m1, m2)
        for u, v in zip(a1, a2):
            assert u.dtype == v.dtype
            np.testing.assert_array_equal(u, v)
        g = _RNG.standard_normal(m1.shape).astype(np.float32)
        for arg in (a1, None):
            s1, s2 = _both(lambda arg=arg: pool.split_scatter(g, arg, geom))
            np.testing.assert_array_equal(s1, s2)
    finally:
        P._MIN_BYTES = old


def test_two_wide_scatter_is_the_adjoint():
    """The 2 x 2 scatter writes float pairs as one uint64: every bit of g lands in place,
    zeros elsewhere (-0.0, inf, NaN payloads included)."""
    geom = PoolGeom((4, 6), (2, 2), (2, 2), (0, 0), (1, 1), False)
    x = _RNG.standard_normal((2, 3, 4, 6)).astype(np.float32)
    _, arg = pool.window_max(x, geom)
    g = np.array([-0.0, np.inf, np.nan, 1.5, -2.0, 3.0], np.float32)
    g = np.resize(g, (2, 3, 2, 3))
    out = pool.window_scatter(g, arg, geom)
    ref = np.zeros_like(x)
    fi = geom.flat_index(arg)
    for idx in np.ndindex(g.shape):
        n, c = idx[:2]
        r, q = divmod(int(fi[idx]), 6)
        ref[n, c, r, q] = g[idx]
    assert out.tobytes() == ref.tobytes()


def test_relu_and_its_gradient_split():
    x = _RNG.standard_normal((64, 16, 28, 28)).astype(np.float32)
    y = np.maximum(x, 0)
    g = _RNG.standard_normal(x.shape).astype(np.float32)
    g.reshape(-1)[:8] = [np.nan, np.inf, -np.inf, -0.0, np.nan, 1, 2, 3]
    y.reshape(-1)[:4] = [0, 0, np.nan, 0]

    class Ctx:
        def save_for_backward(self, *a):
            pass

    a, b = _both(lambda: unary._relu(x))
    assert a.tobytes() == b.tobytes()
    a, b = _both(lambda: unary.ReluGrad.forward(Ctx(), g, y))
    assert a.tobytes() == b.tobytes()
    assert a.reshape(-1)[0] == 0 and a.reshape(-1)[1] == 0  # dropped units: +0, even inf/NaN
    assert np.isneginf(a.reshape(-1)[2])  # a NaN output passes its gradient


@pytest.mark.parametrize("shapes", [((256, 784), (784, 300)), ((6, 784), (784, 3000)),
                                    ((4, 64, 300), (4, 300, 200)), ((8, 40, 300), (300, 500))])
def test_matmul_split(shapes):
    a = _RNG.standard_normal(shapes[0]).astype(np.float32)
    b = _RNG.standard_normal(shapes[1]).astype(np.float32)
    x, y = _both(lambda: P.matmul(a, b))
    assert x.shape == y.shape == np.matmul(a, b).shape
    np.testing.assert_allclose(y, x, rtol=1e-5, atol=1e-4)
    xt, yt = _both(lambda: P.matmul(b.swapaxes(-1, -2)[..., :50, :], a.swapaxes(-1, -2))
                   if a.ndim == b.ndim else P.matmul(a, b))
    np.testing.assert_allclose(yt, xt, rtol=1e-5, atol=1e-4)


def _cnn_steps(threads, compiled=False, steps=4):
    P.set_threads(threads)
    try:
        cr.manual_seed(0)
        nn = cr.nn
        model = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(1568, 300), nn.ReLU(), nn.Linear(300, 10))
        opt = cr.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        x = cr.from_numpy(np.random.default_rng(1).standard_normal((64, 1, 28, 28))
                          .astype(np.float32))
        y = cr.from_numpy(np.random.default_rng(2).integers(0, 10, 64))

        def step(xb, yb):
            opt.zero_grad()
            loss = nn.functional.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
            return loss

        if compiled:
            step = cr.compile(step)
        losses = [float(step(x, y)) for _ in range(steps)]
        return losses, [p.detach().numpy().copy() for p in model.parameters()]
    finally:
        P.set_threads(1)


def test_training_with_two_threads_matches_one():
    l1, p1 = _cnn_steps(1)
    l2, p2 = _cnn_steps(2)
    np.testing.assert_allclose(l2, l1, rtol=1e-5)
    for a, b in zip(p1, p2):
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-6)


def test_compiled_step_with_two_threads_equals_eager():
    """Recorded with two threads, the program calls the splitting kernels whole: the replay
    computes exactly what eager mode computes with two threads."""
    l_e, p_e = _cnn_steps(2)
    l_c, p_c = _cnn_steps(2, compiled=True)
    assert l_c == l_e
    for a, b in zip(p_e, p_c):
        np.testing.assert_array_equal(a, b)


def test_exported_program_with_kernels_saves_and_loads(tmp_path):
    P.set_threads(2)
    try:
        nn = cr.nn
        model = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Flatten(), nn.Linear(16 * 14 * 14, 300)).eval()
        x = cr.randn(64, 1, 28, 28)
        ep = cr.export(model, (x,))
        path = tmp_path / "prog"
        ep.save(path)
        assert b"chainrule:conv_forward" in path.read_bytes()
        back = cr.export.load(path)
        with cr.no_grad():
            np.testing.assert_array_equal(back.module()(x).numpy(), model(x).numpy())
    finally:
        P.set_threads(1)


def test_unknown_kernel_name_is_refused():
    from chainrule.compiler import serialize

    class Reader:
        where = "test"

        def fail(self, what):
            raise serialize.FormatError(f"chainrule.export.load: {self.where!r}: {what}")

    with pytest.raises(serialize.FormatError, match="unknown chainrule kernel"):
        serialize.Decoder.node(Reader(), {"kind": "func", "fn": "chainrule:os_system"})
    with pytest.raises(serialize.FormatError, match="not allowed"):
        serialize.Decoder.node(Reader(), {"kind": "func", "fn": "system"})


def test_recording_is_guarded_by_the_thread_setting():
    m = cr.nn.Sequential(cr.nn.Conv2d(1, 16, 3, padding=1), cr.nn.ReLU(), cr.nn.MaxPool2d(2))
    x = cr.randn(64, 1, 28, 28)
    c = cr.compile(m)
    kernels = set(kernels_by_name().values())

    def recorded_kernels(program):
        return {n.fn for n in program.nodes for n in [n, *(n.body or ())]
                if n.kind == "func"} & kernels

    with cr.no_grad():
        a = c(x).numpy()
        a = c(x).numpy()
        P.set_threads(2)
        try:
            b = c(x).numpy()  # a new recording: the splitting kernels, called whole
            b = c(x).numpy()
        finally:
            P.set_threads(1)
    progs = c._compiled.programs
    assert len(progs) == 2
    assert not recorded_kernels(progs[0])
    assert recorded_kernels(progs[1]) >= {unary._relu, pool._split_max_flat}
    np.testing.assert_array_equal(a, b)



def test_small_products_stay_inline_in_a_recording():
    """With two threads a recorded program calls a kernel whole only where it can split:
    a small model's products stay NumPy calls the replay plans buffers for."""
    model = cr.nn.Sequential(cr.nn.Linear(13, 32), cr.nn.ReLU(), cr.nn.Linear(32, 1))
    x = cr.randn(303, 13)
    c = cr.compile(model)
    P.set_threads(2)
    try:
        with cr.no_grad():
            c(x)
            c(x)
    finally:
        P.set_threads(1)
    kernels = set(kernels_by_name().values())
    (prog,) = c._compiled.programs
    nodes = [b for n in prog.nodes for b in [n, *(n.body or ())]]
    assert not {n.fn for n in nodes if n.kind == "func"} & kernels
    assert any(n.kind == "ufunc" and n.fn is np.matmul for n in nodes)
