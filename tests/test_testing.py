"""``chainrule.testing`` against ``torch.testing``: the same inputs pass or fail alike, with the
same exception type and (dtype and class names aside) the same message."""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule.testing import FileCheck, assert_allclose, assert_close, make_tensor

NAN, INF = float("nan"), float("inf")

# Each case builds (actual, expected, kwargs) from a module: torch or chainrule.
CASES = {
    "equal floats": lambda m: (m.tensor([1.0, 2.0]), m.tensor([1.0, 2.0]), {}),
    "float32 within default": lambda m: (m.tensor([1.0, 100.0]),
                                         m.tensor([1.0000011, 100.0001]), {}),
    "float32 just outside": lambda m: (m.tensor([1.0, 100.0]), m.tensor([1.0, 100.0003]), {}),
    "float32 mismatch": lambda m: (m.tensor([1.0, 2.0, 3.0]), m.tensor([1.0, 4.0, 5.0]), {}),
    "2d mismatch index": lambda m: (m.tensor([[1.0, 2.0], [3.0, 4.0]]),
                                    m.tensor([[1.0, 2.0], [3.5, 8.0]]), {}),
    "float64 tolerances": lambda m: (m.tensor([1.0], dtype=m.float64),
                                     m.tensor([1.0 + 1.5e-7], dtype=m.float64), {}),
    "float16 tolerances": lambda m: (m.tensor([1.0, 500.0], dtype=m.float16),
                                     m.tensor([1.0, 500.5], dtype=m.float16), {}),
    "float16 fail": lambda m: (m.tensor([1000.0], dtype=m.float16),
                               m.tensor([1002.0], dtype=m.float16), {}),
    "int exact": lambda m: (m.tensor([1, 2, 3]), m.tensor([1, 4, 5]), {}),
    "int with atol": lambda m: (m.tensor([1, 2]), m.tensor([2, 2]), dict(rtol=0.0, atol=1.0)),
    "int8 wraps": lambda m: (m.tensor([100], dtype=m.int8), m.tensor([-100], dtype=m.int8), {}),
    "bool": lambda m: (m.tensor([True, False]), m.tensor([True, True]), {}),
    "0-d float": lambda m: (m.tensor(1.5), m.tensor(2.5), {}),
    "0-d int": lambda m: (m.tensor(1), m.tensor(2), {}),
    "0-d expected zero": lambda m: (m.tensor(1.5), m.tensor(0.0), {}),
    "shape": lambda m: (m.ones(2), m.ones(3), {}),
    "dtype": lambda m: (m.ones(2), m.ones(2, dtype=m.float64), {}),
    "dtype off, promoted": lambda m: (m.tensor([1, 2], dtype=m.int8), m.tensor([1.0, 2.5]),
                                      dict(check_dtype=False)),
    "dtype off, close": lambda m: (m.tensor([1, 2]), m.tensor([1.0, 2.0], dtype=m.float64),
                                   dict(check_dtype=False)),
    "nan": lambda m: (m.tensor([NAN, 1.0]), m.tensor([NAN, 1.0]), {}),
    "nan equal_nan": lambda m: (m.tensor([NAN, 1.0]), m.tensor([NAN, 1.0]),
                                dict(equal_nan=True)),
    "nan vs number": lambda m: (m.tensor([1.0, 2.0]), m.tensor([1.0, NAN]), dict(equal_nan=True)),
    "inf equal": lambda m: (m.tensor([INF, -INF]), m.tensor([INF, -INF]), {}),
    "inf vs big": lambda m: (m.tensor([INF, 1.0]), m.tensor([3e38, 0.0]), {}),
    "inf signs": lambda m: (m.tensor([INF]), m.tensor([-INF]), dict(rtol=1.0, atol=1.0)),
    "ties": lambda m: (m.tensor([0.0, 1.0]), m.tensor([1.0, 0.0]), {}),
    "empty": lambda m: (m.zeros(0, 3), m.zeros(0, 3), {}),
    "explicit tolerances": lambda m: (m.tensor([1.0, 2.0]), m.tensor([1.1, 2.0]),
                                      dict(rtol=0.0, atol=0.2)),
    "zero tolerances": lambda m: (m.tensor([1.0, 2.0]), m.tensor([1.0, 2.0000002]),
                                  dict(rtol=0.0, atol=0.0)),
    "rtol only": lambda m: (m.ones(2), m.ones(2), dict(rtol=1e-3)),
    "atol only": lambda m: (m.ones(2), m.ones(2), dict(atol=1e-3)),
    "stride": lambda m: (m.ones(4)[::2], m.ones(2), dict(check_stride=True)),
    "stride unchecked": lambda m: (m.ones(4)[::2], m.ones(2), {}),
    "subclass": lambda m: (m.nn.Parameter(m.ones(2)), m.ones(2), {}),
    "subclass refused": lambda m: (m.nn.Parameter(m.ones(2)), m.ones(2),
                                   dict(allow_subclasses=False)),
    "tensor vs float": lambda m: (m.ones(()), 1.0, {}),
    "tensor vs ndarray": lambda m: (m.ones(2), np.ones(2), {}),
    "requires_grad": lambda m: (m.ones(2, requires_grad=True), m.ones(2), {}),
    "sparse vs dense": lambda m: (m.ones(2).to_sparse(), m.ones(2), {}),
    "sparse layout off": lambda m: (m.tensor([1.0, 0.0]).to_sparse(), m.tensor([1.0, 0.0]),
                                    dict(check_layout=False)),
    "sparse values": lambda m: (m.tensor([[1.0, 0.0], [0.0, 2.0]]).to_sparse(),
                                m.tensor([[1.0, 0.0], [0.0, 2.5]]).to_sparse(), {}),
    "sparse nnz": lambda m: (m.tensor([1.0, 0.0]).to_sparse(), m.tensor([1.0, 2.0]).to_sparse(),
                             {}),
    "ndarray": lambda m: (np.array([1.0, 2.0]), np.array([1.0, 3.0]), {}),
    "ndarray dtype": lambda m: (np.array([1.0], dtype=np.float32), np.array([1.0]), {}),
    "ndarray complex": lambda m: (np.array([1 + 1j]), np.array([1 + 2j]), {}),
    "ndarray complex64 close": lambda m: (np.array([1 + 1j], dtype=np.complex64),
                                          np.array([1 + 1.000001j], dtype=np.complex64), {}),
    "ndarray strings": lambda m: (np.array(["a"]), np.array(["a"]), {}),
    "ndarray negative stride": lambda m: (np.arange(3.0)[::-1], np.arange(3.0)[::-1], {}),
    "ndarray uint16": lambda m: (np.array([1, 5], dtype=np.uint16),
                                 np.array([1, 6], dtype=np.uint16), {}),
    "ints": lambda m: (1, 2, {}),
    "int vs float": lambda m: (1, 1.0, {}),
    "int vs float dtype off": lambda m: (1, 1.0, dict(check_dtype=False)),
    "floats": lambda m: (1.0, 1.1, {}),
    "floats close": lambda m: (1.0, 1.00000001, {}),
    "float nan": lambda m: (NAN, NAN, {}),
    "float nan equal": lambda m: (NAN, NAN, dict(equal_nan=True)),
    "complex": lambda m: (1 + 1j, 1 + 2j, {}),
    "numpy scalars": lambda m: (np.float32(1.0), np.float32(1.5), {}),
    "numpy scalar types": lambda m: (np.float32(1.0), np.float64(1.0), {}),
    "bools": lambda m: (True, False, {}),
    "numpy bool": lambda m: (np.bool_(True), True, {}),
    "none": lambda m: (None, None, {}),
    "none mismatch": lambda m: (None, 1, {}),
    "strings": lambda m: ("a", "a", {}),
    "list length": lambda m: ([1.0, 2.0], [1.0, 2.0, 3.0], {}),
    "tuple vs list": lambda m: ((1.0, 2.0), [1.0, 2.0], {}),
    "keys": lambda m: ({"a": 1.0, "c": 2.0}, {"b": 1.0, "c": 2.0}, {}),
    "nested path": lambda m: ({"a": [m.ones(2)], "b": 1}, {"a": [m.zeros(2)], "b": 1}, {}),
    "nested scalar path": lambda m: ([{"w": 1.0}], [{"w": 1.5}], {}),
    "type error wins": lambda m: ([m.ones(2), "x"], [m.zeros(2), "x"], {}),
    "msg string": lambda m: ({"a": [m.ones(2)]}, {"a": [m.zeros(2)]}, dict(msg="custom")),
    "msg callable": lambda m: ({"a": [m.ones(2)]}, {"a": [m.zeros(2)]},
                               dict(msg=lambda s: f"Header\n\n{s}\n\nFooter")),
    "msg kept for length": lambda m: ([1], [1, 2], dict(msg="custom")),
}

# Cases where chainrule's exception type matches but its message is its own (PyTorch's is an
# internal "please file an issue" RuntimeError).
OWN_MESSAGE = {"negative rtol", "bool vs int"}
CASES["negative rtol"] = lambda m: (m.ones(2), m.ones(2), dict(rtol=-1.0, atol=0.0))
CASES["bool vs int"] = lambda m: (True, 1, {})


def _outcome(fn, actual, expected, kwargs):
    try:
        fn(actual, expected, **kwargs)
    except Exception as e:  # noqa: BLE001 - the exception is what is compared
        return type(e).__name__, str(e)
    return "pass", ""


def _normalize(text: str) -> str:
    for name in ("chainrule.tensor.Tensor", "torch.Tensor"):
        text = text.replace(name, "Tensor")
    return text.replace("torch.", "chainrule.")


@pytest.mark.parametrize("name", sorted(CASES))
def test_assert_close_matches_torch(torch, name):
    ours = _outcome(assert_close, *CASES[name](cr))
    theirs = _outcome(torch.testing.assert_close, *CASES[name](torch))
    assert ours[0] == theirs[0], (ours, theirs)
    if name not in OWN_MESSAGE:
        assert _normalize(ours[1]) == _normalize(theirs[1])


def test_message_fragments(torch):
    _, text = _outcome(assert_close, cr.tensor([1.0, 2.0, 3.0]), cr.tensor([1.0, 4.0, 5.0]), {})
    assert text.startswith("Tensor-likes are not close!")
    assert "Mismatched elements: 2 / 3 (66.7%)" in text
    assert "Greatest absolute difference: 2.0 at index (1,) (up to 1e-05 allowed)" in text
    assert "Greatest relative difference: 0.5 at index (1,) (up to 1.3e-06 allowed)" in text
    _, text = _outcome(assert_close, {"a": [1.0]}, {"a": [1.5]}, {})
    assert text.endswith("The failure occurred for item ['a'][0]")


def test_own_messages_are_clear():
    with pytest.raises(RuntimeError, match="rtol must be greater than or equal to zero"):
        assert_close(cr.ones(2), cr.ones(2), rtol=-1.0, atol=0.0)
    with pytest.raises(RuntimeError, match="bool True with a number"):
        assert_close(True, 1)


def test_float16_borderline_agrees_with_torch(torch):
    """Tolerance arithmetic in float16, as PyTorch does it: a sweep across the edge."""
    rng = np.random.default_rng(0)
    a = rng.uniform(-10, 10, 400).astype(np.float16)
    e = (a.astype(np.float64) * (1 + rng.uniform(-2e-3, 2e-3, 400))).astype(np.float16)
    for i in range(0, 400, 8):
        sl = slice(i, i + 8)
        ours = _outcome(assert_close, cr.tensor(a[sl]), cr.tensor(e[sl]), {})
        theirs = _outcome(torch.testing.assert_close, torch.tensor(a[sl]), torch.tensor(e[sl]),
                          {})
        assert _normalize(ours[1]) == _normalize(theirs[1])


def test_assert_allclose_warns_and_uses_its_defaults(torch):
    cases = [([1.0, 2.0], [1.0, 2.0001], {}), ([1.0, 2.0], [1.0, 2.001], {}),
             ([NAN], [NAN], {}), ([1.0], [1.5], dict(msg="mine")), ([1, 2], [1, 3], {}),
             ([1.0], [1.5], dict(rtol=0.5)), ([1.0], [1.4], dict(rtol=0.5, atol=0.0))]
    for actual, expected, kwargs in cases:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            ours = _outcome(assert_allclose, actual, expected, kwargs)
        assert caught[0].category is FutureWarning
        assert "assert_allclose()` is deprecated since 1.12" in str(caught[0].message)
        assert caught[0].filename == __file__  # points at the caller
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs = _outcome(torch.testing.assert_allclose, actual, expected, kwargs)
        assert _normalize(ours[1]) == _normalize(theirs[1])


@pytest.mark.parametrize("dtype,low,high", [
    ("bool", 0, 2), ("uint8", 0, 10), ("int8", -9, 10), ("int64", -9, 10),
    ("float16", -9, 9), ("float32", -9, 9), ("float64", -9, 9)])
def test_make_tensor_default_ranges(dtype, low, high):
    t = make_tensor(2000, dtype=getattr(cr, dtype), device="cpu")
    assert t.dtype == getattr(cr, dtype) and t.shape == (2000,)
    values = t.numpy().astype(np.float64)
    assert values.min() >= low and values.max() < high
    assert len(np.unique(values)) > 1


def test_make_tensor_shapes_and_options():
    assert make_tensor(2, 3, dtype=cr.float32, device="cpu").shape == (2, 3)
    assert make_tensor((2, 3), dtype=cr.float32, device="cpu").shape == (2, 3)
    assert make_tensor([4], dtype=cr.int32, device=cr.device("cpu")).shape == (4,)
    assert make_tensor(dtype=cr.float32, device="cpu").shape == ()
    t = make_tensor(3, 4, dtype=cr.float32, device="cpu", noncontiguous=True)
    assert t.shape == (3, 4) and not t.is_contiguous()
    assert make_tensor(1, dtype=cr.float32, device="cpu", noncontiguous=True).is_contiguous()
    t = make_tensor(50, dtype=cr.float32, device="cpu", low=2, high=3, requires_grad=True)
    assert t.requires_grad and t.is_leaf and 2 <= float(t.min()) and float(t.max()) < 3
    t = make_tensor(500, dtype=cr.int8, device="cpu", low=-1, high=1, exclude_zero=True)
    assert set(np.unique(t.numpy())) <= {-1, 1}
    t = make_tensor(500, dtype=cr.float32, device="cpu", low=-1e-30, high=1e-30,
                    exclude_zero=True)
    assert (t.numpy() != 0).all()
    t = make_tensor(100, dtype=cr.int64, device="cpu", low=-1e30, high=1e30)  # clamped
    assert t.dtype == cr.int64
    t = make_tensor(100, dtype=cr.float16, device="cpu", low=-1e30, high=1e30)  # halved draw
    assert np.isfinite(t.numpy()).all()
    t = make_tensor(10, dtype=cr.int32, device="cpu", low=0.2, high=2.5)  # ceil: [1, 3)
    assert set(np.unique(t.numpy())) <= {1, 2}
    with pytest.warns(FutureWarning, match="low==high"):
        t = make_tensor(3, dtype=cr.float32, device="cpu", low=2.0, high=2.0)
    assert (t.numpy() == 2.0).all()
    cr.manual_seed(5)
    a = make_tensor(5, dtype=cr.float32, device="cpu")
    cr.manual_seed(5)
    assert (make_tensor(5, dtype=cr.float32, device="cpu").numpy() == a.numpy()).all()


MAKE_ERRORS = [
    (dict(dtype="int8", low=5, high=5), ValueError),
    (dict(dtype="float32", low=3.0, high=1.0), ValueError),
    (dict(dtype="float32", low=NAN), ValueError),
    (dict(dtype="uint8", low=-20, high=-10), ValueError),
    (dict(dtype="int8", low=200, high=300), ValueError),
    (dict(dtype="bool", low=2, high=4), ValueError),
    (dict(dtype="int32", requires_grad=True), ValueError),
    (dict(dtype="bool", requires_grad=True), ValueError),
    (dict(dtype="float32", noncontiguous=True, memory_format="contiguous_format"), ValueError),
]


@pytest.mark.parametrize("i", range(len(MAKE_ERRORS)))
def test_make_tensor_errors_match_torch(torch, i):
    kwargs, kind = MAKE_ERRORS[i]

    def build(m):
        k = dict(kwargs, dtype=getattr(m, kwargs["dtype"]))
        if "memory_format" in k:
            k["memory_format"] = getattr(m, k["memory_format"])
        return k

    ours = _outcome(lambda s, _, **k: make_tensor(s, device="cpu", **k), 3, None, build(cr))
    theirs = _outcome(lambda s, _, **k: torch.testing.make_tensor(s, device="cpu", **k), 3,
                      None, build(torch))
    assert ours[0] == theirs[0] == kind.__name__
    assert _normalize(ours[1]) == _normalize(theirs[1])


def test_make_tensor_refusals():
    with pytest.raises(TypeError, match="not supported by chainrule.testing.make_tensor"):
        make_tensor(2, dtype=np.complex64, device="cpu")
    with pytest.raises(RuntimeError, match="CPU only"):
        make_tensor(2, dtype=cr.float32, device="cuda")
    with pytest.raises(TypeError, match="device"):
        make_tensor(2, dtype=cr.float32)


def test_filecheck_refuses_with_reason():
    with pytest.raises(NotImplementedError, match="TorchScript"):
        FileCheck().check("aten::add")


def test_reachable_as_torch_testing(tmp_path):
    script = tmp_path / "prog.py"
    script.write_text(
        "import torch\nimport torch.testing\nfrom torch.testing import make_tensor\n"
        "x = make_tensor(3, dtype=torch.float32, device='cpu')\n"
        "torch.testing.assert_close(x * 1.0, x)\n"
        "try:\n    torch.testing.assert_close(x, x + 1)\n"
        "except AssertionError as e:\n    print(str(e).splitlines()[0])\n"
        "print(torch.testing.__name__)\n")
    proc = subprocess.run([sys.executable, "-m", "chainrule.torch_compat", str(script)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["Tensor-likes", "are", "not", "close!", "chainrule.testing"]
    assert cr.testing.assert_close is assert_close
