"""draw_graph: DOT text, text tree, values and gradients of the course's composite example."""

import math
import shutil

import pytest

import chainrule as cr
from chainrule import nn
from chainrule.viz import draw_graph, graph_dot, graph_text


def _composite():
    x = cr.tensor(1.5, dtype=cr.float64, requires_grad=True)
    return x, cr.cos(cr.sin(x ** 2) + 3 * x ** 2)


def test_text_tree_shows_ops_values_and_gradients():
    x, j = _composite()
    text = graph_text(j)
    lines = text.splitlines()
    assert lines[0].startswith("[#1] Cos  shape ()")
    u = math.sin(2.25) + 6.75
    assert f"value {math.cos(u):.4g}" in lines[0]
    assert lines[1].startswith("└─ [#2] Add") and f"grad {-math.sin(u):.4g}" in lines[1]
    dj = -math.sin(u) * (2 * 1.5 * math.cos(2.25) + 9)
    assert any("input" in ln and f"grad {dj:.4g}" in ln for ln in lines)
    # x is used by both Pow nodes: printed once, referred to afterwards
    assert sum("input  shape" in ln for ln in lines) == 1
    assert any("see above" in ln for ln in lines)
    assert x.grad is None  # drawing does not touch .grad


def test_dot_structure():
    _, j = _composite()
    dot = graph_dot(j)
    assert dot.startswith("digraph chainrule {") and dot.rstrip().endswith("}")
    assert dot.count("->") == 7  # x->Pow x2, Pow->Sin, Pow->Mul, Sin->Add, Mul->Add, Add->Cos
    for op in ("Cos", "Add", "Sin", "Mul", "Pow"):
        assert f'label="{op}\\n' in dot


def test_network_graph_names_parameters_and_shapes():
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    loss = model(cr.randn(5, 3)).pow(2).mean()
    g = draw_graph(loss, params=dict(model.named_parameters()))
    assert "0.weight  shape (4, 3)" in g.text and "2.bias  shape (2,)" in g.text
    assert "Relu  shape (5, 4)" in g.text
    assert str(g) == g.text and g.path is None


def test_files(tmp_path):
    _, j = _composite()
    g = draw_graph(j, tmp_path / "g.dot")
    assert (tmp_path / "g.dot").read_text() == g.dot
    draw_graph(j, tmp_path / "g.txt")
    assert (tmp_path / "g.txt").read_text().startswith("[#1] Cos")
    if shutil.which("dot"):
        g = draw_graph(j, tmp_path / "g.png")
        assert (tmp_path / "g.png").read_bytes()[:4] == b"\x89PNG"
        assert "<svg" in g._repr_svg_()
    else:
        with pytest.warns(RuntimeWarning, match="dot"):
            g = draw_graph(j, tmp_path / "g.png")
        assert g.path.endswith("g.dot")
    with pytest.raises(ValueError, match="file type"):
        draw_graph(j, tmp_path / "g.jpg")


def test_leaf_and_errors():
    t = cr.tensor([1.0, 2.0], requires_grad=True)
    assert "input  shape (2,)" in graph_text(t)
    with pytest.raises(TypeError, match="tensor"):
        draw_graph([1.0])


def test_without_graphviz_writes_dot_and_warns(tmp_path, monkeypatch):
    import chainrule.viz.graph as graph_module

    monkeypatch.setattr(graph_module.shutil, "which", lambda name: None)
    _, j = _composite()
    with pytest.warns(RuntimeWarning, match="not installed"):
        g = draw_graph(j, tmp_path / "g.svg")
    assert g.path == str(tmp_path / "g.dot") and not (tmp_path / "g.svg").exists()
    assert (tmp_path / "g.dot").read_text() == g.dot
    assert g._repr_svg_() is None and str(g).startswith("[#1] Cos")
