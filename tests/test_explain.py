"""chainrule.explain: the course's two worked examples, row by row, against hand computation."""

import math

import numpy as np
import pytest

import chainrule as cr
from chainrule.explain import explain


def _rows(e):
    return {v.name: v for v in e.variables}


@pytest.mark.parametrize("source", [
    "cos(sin(x**2) + 3*x**2)",
    lambda x: cr.cos(cr.sin(x ** 2) + 3 * x ** 2),
])
def test_composite_example_every_row(source):
    x = 1.5
    e = explain(source, x=x)
    # hand computation: v0 = x, v1 = v0^2, v2 = sin v1, v3 = 3 v1, v4 = v2 + v3, v5 = cos v4
    v0, v1 = x, x * x
    v2, v3 = math.sin(v1), 3 * v1
    v4 = v2 + v3
    v5 = math.cos(v4)
    b5 = 1.0
    b4 = -math.sin(v4) * b5
    b3, b2 = b4, b4
    b1 = b2 * math.cos(v1) + b3 * 3
    b0 = b1 * 2 * v0
    expected = {"v0": (v0, b0), "v1": (v1, b1), "v2": (v2, b2), "v3": (v3, b3),
                "v4": (v4, b4), "v5": (v5, b5)}
    rows = _rows(e)
    assert list(rows) == list(expected)  # x**2 written twice is one variable
    for name, (value, adjoint) in expected.items():
        assert rows[name].value == pytest.approx(value, rel=1e-12), name
        assert rows[name].adjoint == pytest.approx(adjoint, rel=1e-12), name
    assert rows["v2"].expr == "sin(v1)"
    assert rows["v1"].partials[0][1] == pytest.approx(2 * v0)
    assert rows["v3"].partials[1][1] == pytest.approx(3.0)
    # dJ/dx = -sin(u) (2x cos(x^2) + 6x), u = sin(x^2) + 3x^2
    u = math.sin(x ** 2) + 3 * x ** 2
    dj = -math.sin(u) * (2 * x * math.cos(x ** 2) + 6 * x)
    assert e.gradient["x"] == pytest.approx(dj, rel=1e-12)
    assert e.tangent == pytest.approx(dj, rel=1e-12)
    # forward-mode tangents: v̇1 = 2x, v̇2 = cos(v1) 2x, v̇3 = 6x, v̇4 = v̇2 + v̇3
    tangents = {"v1": 2 * x, "v2": math.cos(v1) * 2 * x, "v3": 6 * x}
    for name, t in tangents.items():
        assert rows[name].tangent == pytest.approx(t, rel=1e-12)
    # the reverse-sweep row shows the chain-rule sum
    assert "v2\u0304 * (cos(v1)) + v3\u0304 * 3" in rows["v1"].adjoint_expr


def test_logistic_example_every_row():
    w = x = 3.0
    y = 1.0
    e = explain("-y*log(sigmoid(w*x))", w=w, x=x, y=y)
    s = 1 / (1 + math.exp(-w * x))
    # v-2 = w, v-1 = x, v0 = y, v1 = -v0, v2 = v-2 v-1, v3 = sigmoid v2, v4 = log v3,
    # v5 = v1 v4
    vals = {"v-2": w, "v-1": x, "v0": y, "v1": -y, "v2": w * x, "v3": s, "v4": math.log(s),
            "v5": -y * math.log(s)}
    b5 = 1.0
    b4 = b5 * -y
    b3 = b4 / s
    b2 = b3 * s * (1 - s)
    b1 = b5 * math.log(s)
    adj = {"v5": b5, "v4": b4, "v3": b3, "v2": b2, "v1": b1, "v0": -b1, "v-1": b2 * w,
           "v-2": b2 * x}
    rows = _rows(e)
    assert list(rows) == list(vals)
    for name in vals:
        assert rows[name].value == pytest.approx(vals[name], rel=1e-12, abs=1e-300), name
        assert rows[name].adjoint == pytest.approx(adj[name], rel=1e-9), name
    dldw = -3 * math.exp(-9) / (1 + math.exp(-9))
    assert e.gradient["w"] == pytest.approx(dldw, rel=1e-12)
    assert e.gradient["w"] == pytest.approx(-0.000370183728, rel=1e-9)
    assert e.tangent == pytest.approx(dldw, rel=1e-12)  # forward mode seeded on w
    assert rows["v3"].tangent == pytest.approx(x * s * (1 - s), rel=1e-12)


def test_agrees_with_autograd_on_a_callable_with_two_inputs():
    f = lambda a, b: cr.tanh(a * b) / (1 + cr.exp(-a)) + a ** 3
    e = explain(f, a=0.7, b=-1.3)
    a = cr.tensor(0.7, dtype=cr.float64, requires_grad=True)
    b = cr.tensor(-1.3, dtype=cr.float64, requires_grad=True)
    f(a, b).backward()
    assert e.gradient["a"] == pytest.approx(float(a.grad), rel=1e-12)
    assert e.gradient["b"] == pytest.approx(float(b.grad), rel=1e-12)
    for v in e.variables[:-1]:
        assert v.adjoint == pytest.approx(v.adjoint_autograd, rel=1e-9, abs=1e-15)
    e_b = explain(f, wrt="b", a=0.7, b=-1.3)
    assert e_b.tangent == pytest.approx(float(b.grad), rel=1e-12)


def test_text_and_markdown_tables():
    e = explain("cos(sin(x**2) + 3*x**2)", x=1.5)
    text = e.text()
    lines = text.splitlines()
    assert lines[0].startswith("Evaluation trace")
    assert any("v2 = sin(v1)" in ln for ln in lines)
    # columns are aligned: the "value" column starts at the same place in every trace row
    header = lines[1]
    col = header.index("value")
    for ln in lines[3:9]:
        assert ln[col - 2:col] == "  "
    md = e.markdown()
    assert "| variable | expression | value | local partials |" in md
    assert md.count("| --- |") >= 3
    assert "Reverse sweep" in md and "Forward mode" in md


@pytest.mark.parametrize("expr", [
    "__import__('os')", "x.real", "open('f')", "x if x else 1", "[x]", "lambda: x",
    "sin(x, x)", "foo(x)", "x // 2", "z + 1", "True + x",
])
def test_unsafe_or_unknown_expressions_are_rejected(expr):
    with pytest.raises(ValueError, match="explain"):
        explain(expr, x=1.0)


def test_bad_arguments():
    with pytest.raises(ValueError, match="keyword"):
        explain("x")
    with pytest.raises(TypeError, match="real number"):
        explain("x", x=np.ones(3))
    with pytest.raises(ValueError, match="wrt"):
        explain("x*x", wrt="y", x=1.0)
    with pytest.raises(ValueError, match="scalar"):
        explain(lambda x: 3.0, x=1.0)


def test_constants_and_functions():
    e = explain("exp(x) + sqrt(x) * pi - log1p(x)", x=2.0)
    expected = math.exp(2) + math.sqrt(2) * math.pi - math.log1p(2)
    grad = math.exp(2) + math.pi / (2 * math.sqrt(2)) - 1 / 3
    assert e.value == pytest.approx(expected, rel=1e-12)
    assert e.gradient["x"] == pytest.approx(grad, rel=1e-12)


def test_repeated_operand_and_constant_subexpressions():
    e = explain("x*x", x=3.0)
    assert e.gradient["x"] == 6.0
    assert e.variables[1].partials[0] == ("v0 + v0", 6.0)
    # sin(1) is a constant, 2**x has the exponent as variable: d/dx = sin(1) + 2^x log 2
    e = explain("sin(1)*x + 2**x", x=0.5)
    assert e.gradient["x"] == pytest.approx(math.sin(1) + 2 ** 0.5 * math.log(2), rel=1e-12)
    assert [v.expr for v in e.variables][1:] == [f"{math.sin(1):.6g} * v0", "2^v0", "v1 + v2"]
