"""Top-level elementwise math (inverse/hyperbolic trig, atan2, hypot, logaddexp, copysign,
fmax, nan_to_num, ldexp, ...): values, dtypes, gradients and forward derivatives against
torch; Tensor methods and in-place forms; integer-only functions."""

import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule import func

INF, NAN = float("inf"), float("nan")
RNG = np.random.default_rng(5)
X = [-2.5, -0.9, -0.3, 0.0, 0.4, 0.8, 1.5, 3.0]
U = [-0.9, -0.5, 0.0, 0.3, 0.7, 0.95]

UNARY = [  # name, fn(lib, x), points (values and gradient)
    ("asin", lambda m, x: m.asin(x) + m.arcsin(x), U),
    ("acos", lambda m, x: m.acos(x) + m.arccos(x), U),
    ("atan", lambda m, x: m.atan(x) + m.arctan(x), X),
    ("sinh", lambda m, x: m.sinh(x), X),
    ("cosh", lambda m, x: m.cosh(x), X),
    ("asinh", lambda m, x: m.asinh(x) + m.arcsinh(x), X),
    ("acosh", lambda m, x: m.acosh(x.abs() + 1.1) + m.arccosh(x.abs() + 1.5), X),
    ("atanh", lambda m, x: m.atanh(x) + m.arctanh(x), U),
    ("exp2", lambda m, x: m.exp2(x), X),
    ("deg2rad", lambda m, x: m.deg2rad(x) * m.rad2deg(x), X),
    ("logit", lambda m, x: m.logit(x.abs() / 4 + 0.1) + m.logit(x, eps=0.25), U),
    ("sinc", lambda m, x: m.sinc(x), X),
    ("clamp_min_max", lambda m, x: m.clamp_min(x, -0.5) + m.clamp_max(x, 0.5), X[:3] + X[4:]),
    ("fix_positive", lambda m, x: m.fix(x * 2.3) + m.positive(x), X),
    ("nan_to_num", lambda m, x: m.nan_to_num(x), X),
    ("lgamma", lambda m, x: m.lgamma(x.abs() + 0.2) + m.digamma(x.abs() + 0.2), X),
    ("erfc_erfinv", lambda m, x: m.erfc(x) + m.erfinv(x / 4), X),
    ("i0", lambda m, x: m.i0(x), X),
    ("mvlgamma", lambda m, x: m.mvlgamma(x.abs() + 1, 2), X),
    ("polygamma", lambda m, x: m.polygamma(2, x.abs() + 0.5), X),
    ("angle", lambda m, x: m.angle(x) + x, X),
    ("conj", lambda m, x: m.conj(x) + m.resolve_conj(x) + m.resolve_neg(x)
     + m.conj_physical(x) + m.real(x), X),
]

BINARY = [  # name, fn(lib, x, y); y = x reversed + 0.1
    ("atan2", lambda m, x, y: m.atan2(x, y) + m.arctan2(y, x)),
    ("hypot", lambda m, x, y: m.hypot(x, y)),
    ("logaddexp", lambda m, x, y: m.logaddexp(x, y) + m.logaddexp2(x, y)),
    ("xlogy", lambda m, x, y: m.xlogy(x, y.abs())),
    ("copysign", lambda m, x, y: m.copysign(x, y) + m.copysign(x, -1.0)),
    ("fmax_fmin", lambda m, x, y: m.fmax(x, y) * 2 + m.fmin(x, y)),
    ("float_power", lambda m, x, y: m.float_power(x.abs() + 0.1, y)),
    # float exponents: PyTorch's gradient with negative int exponents is 0 (int pow)
    ("ldexp", lambda m, x, y: m.ldexp(x, m.tensor([1.0, 2, 0, -1, 3, 1, 2, 0]))),
    ("addcmul", lambda m, x, y: m.addcmul(x, x, y, value=0.5) + m.addcdiv(x, y, x.abs() + 1,
                                                                            value=2)),
    ("rsub", lambda m, x, y: m.rsub(x, y, alpha=2) + m.rsub(x, 3.0)),
]


def _pair(lib, dtype=None):
    x = lib.tensor(X, dtype=dtype or lib.float64, requires_grad=True)
    y = lib.tensor([v + 0.1 for v in X[::-1]], dtype=dtype or lib.float64, requires_grad=True)
    return x, y


@pytest.mark.parametrize("name,fn,pts", UNARY, ids=[c[0] for c in UNARY])
def test_unary_matches_torch(torch, name, fn, pts):
    xc = cr.tensor(pts, dtype=cr.float64, requires_grad=True)
    xt = torch.tensor(pts, dtype=torch.float64, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        oc = fn(cr, xc)
    ot = fn(torch, xt)
    np.testing.assert_allclose(oc.detach().numpy(), ot.detach().numpy(), rtol=1e-10)
    oc.sum().backward()
    ot.sum().backward()
    np.testing.assert_allclose(xc.grad.numpy(), xt.grad.numpy(), rtol=1e-9, atol=1e-12)
    jv = func.jvp(lambda a: fn(cr, a), (cr.tensor(pts, dtype=cr.float64),),
                  (cr.ones(len(pts), dtype=cr.float64),))[1]
    np.testing.assert_allclose(jv.numpy(), xc.grad.numpy(), rtol=1e-12, atol=1e-14)
    o32 = fn(cr, cr.tensor(pts))
    assert o32.dtype == cr.float32 and fn(torch, torch.tensor(pts)).dtype == torch.float32
    np.testing.assert_allclose(o32.numpy(), ot.detach().numpy(), rtol=2e-5, atol=1e-5)


@pytest.mark.parametrize("name,fn", BINARY, ids=[c[0] for c in BINARY])
def test_binary_matches_torch(torch, name, fn):
    xc, yc = _pair(cr)
    xt, yt = _pair(torch)
    oc, ot = fn(cr, xc, yc), fn(torch, xt, yt)
    np.testing.assert_allclose(oc.detach().numpy(), ot.detach().numpy(), rtol=1e-10)
    assert oc.dtype.name == str(ot.dtype).split(".")[-1]
    oc.sum().backward()
    ot.sum().backward()
    np.testing.assert_allclose(xc.grad.numpy(), xt.grad.numpy(), rtol=1e-9, atol=1e-12)
    if yc.grad is None:  # copysign: no gradient for other (PyTorch's is zeros)
        assert yt.grad is None or not yt.grad.numpy().any()
    else:
        np.testing.assert_allclose(yc.grad.numpy(), yt.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_edge_values_match_torch(torch):
    vals = [0.0, -0.0, 1.0, -1.0, 2.0, INF, -INF, NAN]
    cases = [
        lambda m, x: m.asin(x), lambda m, x: m.acosh(x), lambda m, x: m.atanh(x),
        lambda m, x: m.sinh(x), lambda m, x: m.atan2(x, x.flip(0)),
        lambda m, x: m.hypot(x, x), lambda m, x: m.logaddexp(x, x.flip(0)),
        lambda m, x: m.nan_to_num(x, nan=1.5, posinf=9.0),
        lambda m, x: m.nan_to_num(x), lambda m, x: m.signbit(x), lambda m, x: m.isneginf(x),
        lambda m, x: m.isposinf(x), lambda m, x: m.isreal(x), lambda m, x: m.angle(x),
        lambda m, x: m.copysign(x, -x), lambda m, x: m.fmax(x, x.flip(0)),
        lambda m, x: m.fmin(x, x.flip(0)), lambda m, x: m.heaviside(x, m.tensor([0.5])),
        lambda m, x: m.xlogy(x, x.flip(0)), lambda m, x: m.exp2(x),
        lambda m, x: m.frexp(x[:5])[0], lambda m, x: m.frexp(x[:5])[1],
        lambda m, x: m.nextafter(x, m.zeros(8)),
    ]
    for i, f in enumerate(cases):
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            got = f(cr, cr.tensor(vals)).numpy()
        want = f(torch, torch.tensor(vals)).numpy()
        assert got.dtype == want.dtype, i
        np.testing.assert_allclose(got, want, rtol=1e-6, equal_nan=True, err_msg=str(i))


def test_fmax_gradient_goes_to_input_on_ties(torch):
    for lib in (cr, torch):
        x = lib.tensor([1.0, 2.0, NAN], requires_grad=True)
        y = lib.tensor([1.0, 1.0, 3.0], requires_grad=True)
        lib.fmax(x, y).sum().backward()
        assert x.grad.tolist() == [1.0, 1.0, 0.0] and y.grad.tolist() == [0.0, 0.0, 1.0]


def test_integer_functions_match_torch(torch):
    a, b = [4, -6, 7, 0, 12], [6, 4, -3, 5, 18]
    for name in ("gcd", "lcm", "bitwise_left_shift", "bitwise_right_shift"):
        bb = [1, 2, 0, 3, 1] if "shift" in name else b
        got = getattr(cr, name)(cr.tensor(a), cr.tensor(bb))
        want = getattr(torch, name)(torch.tensor(a), torch.tensor(bb))
        assert got.tolist() == want.tolist() and got.dtype == cr.int64, name
    u = cr.tensor([1, 2], dtype=cr.uint8)
    assert cr.bitwise_left_shift(u, 7).tolist() == [128, 0]
    with pytest.raises(RuntimeError, match="gcd"):
        cr.gcd(cr.tensor([1.0]), cr.tensor([2.0]))
    assert cr.float_power(cr.tensor([2]), 2).dtype == cr.float64
    assert cr.nan_to_num(cr.tensor([1, 2])).dtype == cr.int64
    assert cr.ldexp(cr.tensor([1, 2]), cr.tensor([3, 4])).tolist() == [8.0, 32.0]


def test_methods_and_inplace_forms(torch):
    x0 = RNG.uniform(-0.9, 0.9, 6)
    names = ["asin", "acos", "atan", "sinh", "cosh", "asinh", "atanh", "arcsin", "arctan",
             "exp2", "erfc", "erfinv", "i0", "sinc", "deg2rad", "rad2deg", "fix", "erf",
             "lgamma", "digamma"]
    for n in names:
        xc, xt = cr.tensor(x0), torch.tensor(x0)
        arg = (xc.abs() + 0.1, xt.abs() + 0.1) if n in ("lgamma", "digamma") else (xc, xt)
        np.testing.assert_allclose(getattr(arg[0], n)().numpy(), getattr(arg[1], n)().numpy(),
                                   rtol=1e-6, err_msg=n)
        r = getattr(arg[0], n + "_")()
        getattr(arg[1], n + "_")()
        assert r is arg[0]
        np.testing.assert_allclose(arg[0].numpy(), arg[1].numpy(), rtol=1e-6, err_msg=n)
    xc, xt = cr.tensor(x0), torch.tensor(x0)
    for c, t in ((xc.atan2_(xc + 1), xt.atan2_(xt + 1)), (xc.hypot_(xc), xt.hypot_(xt)),
                 (xc.copysign_(-1.0), xt.copysign_(-1.0)), (xc.polygamma(2), xt.polygamma(2)),
                 (xc.xlogy_(2.0), xt.xlogy_(2.0)), (xc.logit(), xt.logit()),
                 (xc.nan_to_num_(), xt.nan_to_num_()), (xc.clamp_min(0.1), xt.clamp_min(0.1))):
        np.testing.assert_allclose(c.numpy(), t.numpy(), rtol=1e-6, equal_nan=True)
    i = cr.tensor([1, 2, 3])
    assert i.eq_(cr.tensor([1, 0, 3])).tolist() == [1, 0, 1] and i.dtype == cr.int64
    assert cr.tensor([3, 5]).gcd_(cr.tensor([6, 10])).tolist() == [3, 5]
    with pytest.raises(RuntimeError, match="can't be cast"):
        cr.tensor([1, 2]).asin_()
    with pytest.raises(RuntimeError, match="Double"):
        cr.tensor([1.0]).float_power_(2)
    assert cr.tensor([1.0], dtype=cr.float64).float_power_(2).item() == 1.0


def test_inplace_is_recorded_in_the_graph(torch):
    for lib in (cr, torch):
        w = lib.tensor([0.2, 0.5], dtype=lib.float64, requires_grad=True)
        h = w * 2
        h.asin_()
        h.atan2_(w + 1)
        h.sum().backward()
        if lib is cr:
            g = w.grad.numpy()
        else:
            np.testing.assert_allclose(g, w.grad.numpy(), rtol=1e-12)


def test_errors_and_no_complex():
    with pytest.raises(RuntimeError, match="non-complex"):
        cr.imag(cr.ones(2))
    with pytest.raises(RuntimeError, match="bool tensor"):
        cr.positive(cr.tensor([True]))
    with pytest.raises(RuntimeError, match="different dtypes"):
        cr.heaviside(cr.tensor([1.0]), cr.tensor([1]))
    with pytest.raises(RuntimeError, match="floating-point"):
        cr.frexp(cr.tensor([1]))
    assert not cr.is_complex(cr.ones(1)) and not cr.is_conj(cr.ones(1))
    assert cr.ones(2).real is not None
    with pytest.raises(NotImplementedError, match="complex"):
        cr.polar(cr.ones(1), cr.ones(1))
    with pytest.raises(NotImplementedError, match="complex"):
        cr.complex(cr.ones(1), cr.ones(1))
