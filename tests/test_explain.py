"""chainrule.explain: the course's two worked examples, row by row, against hand computation."""

import math
import os
import pathlib
import subprocess
import sys
import time

import numpy as np
import pytest

import chainrule as cr
from chainrule.explain import MAX_DEPTH, MAX_LENGTH, ExplainError, explain


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


# -- safety and limits (issue 8) ---------------------------------------------------------------
@pytest.mark.parametrize("expr, match", [
    ("x + 9**9**9", r"9 \*\* 9 \*\* 9 .* about 369693100 digits.*refused before it is computed"),
    ("x * 7**(3**40)", "refused before it is computed"),
    ("1/0 + x", r"division by zero in the constant 1 / 0"),
    ("x*10**400", r"10 \*\* 400 .* about 400 digits"),
    ("2.0**10000", r"2.0 \*\* 10000 .* overflows float64"),
    ("x + 1e308*10", r"1e\+308 \* 10 .* not a finite float64 \(inf\)"),
    ("x + 1e999", "not a finite float64"),
    ("x + " + "9" * 400, "not a finite float64 .too large"),
    ("(-8)**0.5 * x", "is not a real number"),
    ("0**-1 + x", "division by zero"),
    ("log(0) + x", r"log\(0\) .* is -inf"),
    ("sqrt(-1) * x", "is nan"),
])
def test_constant_folding_is_bounded_and_errors_are_one_explain_error(expr, match):
    start = time.perf_counter()
    with pytest.raises(ExplainError, match=match):
        explain(expr, x=1.0)
    assert time.perf_counter() - start < 0.5
    assert issubclass(ExplainError, ValueError)


def test_exact_constant_folding_within_float64():
    e = explain("x * 2**60 + 10**300 / 10**299", x=1.0)
    assert e.value == 2.0**60 + 10.0
    assert e.variables[1].expr == "v0 * 1152921504606846976"


@pytest.mark.parametrize("expr, match", [
    ("+".join(["x"] * 3000), f"at most {MAX_LENGTH} are explained"),
    ("+".join(["x"] * 500), f"nests more than {MAX_DEPTH} levels"),
    ("-" * 1500 + "x", "nests more than"),
    ("sin(" * 150 + "x" + ")" * 150, "nests more than"),
    ("(" * 300 + "x" + ")" * 300, "too many nested parentheses|nested too deeply"),
    ("x**" * 200 + "1", "nests more than"),
])
def test_too_long_or_too_deep_expressions(expr, match):
    with pytest.raises(ExplainError, match=match):
        explain(expr, x=1.0)


def test_non_finite_values_and_partials_name_the_row():
    with pytest.raises(ExplainError, match=r"v1 = log\(v0\) is -inf at x=0"):
        explain("log(x)", x=0.0)
    with pytest.raises(ExplainError, match=r"v1 = sqrt\(v0\) has the local partial "
                                           r"dv1/dv0 = inf at x=0"):
        explain("sqrt(x)", x=0.0)
    with pytest.raises(ExplainError, match="must be finite"):
        explain("x", x=float("inf"))


def test_long_callables_are_refused():
    def f(x):
        for _ in range(1200):
            x = x * 1.0001
        return x

    with pytest.raises(ExplainError, match="made 1200 operations; explain shows at most 1000"):
        explain(f, x=1.0)


def test_variables_are_numbered_from_the_inputs_the_expression_reads():
    e = explain("x**2", x=1.0, y=2.0)
    assert [(v.name, v.expr) for v in e.variables] == [("v0", "x"), ("v1", "v0^2")]
    assert e.gradient == {"x": 2.0, "y": 0.0} and e.unused == ["y"]
    assert "not used by x**2: y (no row, gradient 0)" in e.text()
    assert "not used by x**2: y" in e.markdown()
    e = explain("y**2", x=1.0, y=2.0)  # numbered from y; forward mode seeded on y
    assert [(v.name, v.expr) for v in e.variables] == [("v0", "y"), ("v1", "v0^2")]
    assert e.wrt == "y" and e.tangent == 4.0 and e.gradient == {"x": 0.0, "y": 4.0}
    e = explain("y*z", x=1.0, y=2.0, z=3.0, w=4.0)
    assert [v.name for v in e.variables] == ["v-1", "v0", "v1"] and e.unused == ["x", "w"]
    e = explain(lambda a, b: a * 3, a=1.0, b=2.0)
    assert [v.name for v in e.variables] == ["v0", "v1"] and e.unused == ["b"]
    e = explain("x", x=1.5, y=1.0)  # the output is an input
    assert [v.name for v in e.variables] == ["v0"] and e.gradient == {"x": 1.0, "y": 0.0}
    e = explain("x*x", wrt="y", x=3.0, y=1.0)  # seeding an unused input: every tangent is 0
    assert e.tangent == 0.0


def _cli(*args):
    src = str(pathlib.Path(__file__).resolve().parents[1] / "src")
    code = "import sys; from chainrule.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": src}, timeout=120)


def test_cli_explain_in_a_subprocess():
    r = _cli("explain", "-x**2", "--at", "x=1")
    assert r.returncode == 0, r.stderr
    assert "v1 = v0^2" in r.stdout and "v2 = -v1" in r.stdout and "d/dx = -2" in r.stdout
    r = _cli("explain", "--at", "x=1", "-x**2", "--markdown")  # options first works too
    assert r.returncode == 0 and "| v2 | v2 = -v1 |" in r.stdout
    for expr in ("x + 9**9**9", "1/0 + x", "x*10**400", "2.0**10000",
                 "+".join(["x"] * 3000), "-" * 1500 + "x"):
        r = _cli("explain", expr, "--at", "x=1")
        assert r.returncode == 2, (expr[:20], r.stderr)
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("chainrule: error: explain:"), r.stderr
    r = _cli("explain", "-x", "--at", "x=1", "--bogus")
    assert r.returncode == 2 and "--bogus" in r.stderr
