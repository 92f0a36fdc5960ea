"""``draw_graph``: the computational graph behind a tensor, as DOT text, an image or a tree.

The graph is read from ``tensor.grad_fn``: each node is the ``Function`` of one forward
operation; its ``_edges`` lead to the nodes (``(node, out_idx, shape, dtype)``) or leaf
tensors (``(leaf, -1, shape, dtype)``) it consumed. Shapes come from those edges,
values from what the nodes saved for backward (and the leaves), and gradients from one
``autograd.grad`` pass with node hooks (while the graph still holds its saved values).
"""

from __future__ import annotations

import os
import shutil
import subprocess

import numpy as np

from ..autograd.engine import grad as _grad
from ..autograd.function import _FREED, _OutRef
from ..tensor import Tensor

__all__ = ["Graph", "draw_graph", "graph_dot", "graph_text"]


class _Info:
    __slots__ = ("key", "label", "op", "shape", "value", "grad", "inputs", "leaf")

    def __init__(self, key, op, leaf=False):
        self.key, self.op, self.leaf = key, op, leaf
        self.label = op
        self.shape = self.value = self.grad = None
        self.inputs = []


def _short(a, max_elements):
    a = np.asarray(a)
    if a.size > max_elements:
        return None
    if a.ndim == 0:
        return f"{a.item():.4g}"
    return np.array2string(a, precision=3, separator=", ", suppress_small=True,
                           max_line_width=60).replace("\n", "")


def _walk(root: Tensor, params=None, grads=True, max_elements=6):
    """Nodes of the graph behind ``root`` (iteratively), as ``_Info`` records by key."""
    if not isinstance(root, Tensor):
        raise TypeError(f"draw_graph: expected a tensor, got {type(root).__name__}")
    names = {id(t): n for n, t in (params or {}).items()}
    infos, order = {}, []
    values = {}  # (id(node), out_idx) -> array, from saved tensors

    def leaf_info(t):
        key = ("leaf", id(t))
        if key not in infos:
            info = _Info(key, names.get(id(t), "input" if not _is_param(t) else "parameter"),
                         leaf=True)
            info.shape, info.value = tuple(t.shape), t._data
            info.grad = None if t.grad is None else t.grad._data
            infos[key] = info
            order.append(key)
        return key

    if root.grad_fn is None:
        leaf_info(root)
        return infos, order, ("leaf", id(root))
    root_key = ("node", id(root.grad_fn), root._out_idx)
    values[(id(root.grad_fn), root._out_idx)] = root._data
    stack = [(root.grad_fn, root._out_idx, tuple(root.shape))]
    seen_nodes = {}
    while stack:
        node, k, shape = stack.pop()
        key = ("node", id(node), k)
        if key in infos:
            continue
        info = _Info(key, type(node).__name__.lstrip("_"))
        info.shape = shape
        infos[key] = info
        order.append(key)
        if id(node) not in seen_nodes:
            seen_nodes[id(node)] = node
            _collect_saved(node, values)
        for e in node._edges:
            if e is None:
                continue
            in_shape = tuple(e[2]) if len(e) > 2 else None  # (target, k, shape, dtype)
            if e[1] < 0:
                info.inputs.append(leaf_info(e[0]))
            else:
                child = ("node", id(e[0]), e[1])
                info.inputs.append(child)
                stack.append((e[0], e[1], in_shape))
    for key in order:
        info = infos[key]
        if not info.leaf:
            info.value = values.get((key[1], key[2]))
    if grads:
        _fill_grads(root, infos, seen_nodes)
    return infos, order, root_key


def _is_param(t):
    return type(t).__name__ == "Parameter"


def _collect_saved(node, values):
    saved = node._saved
    if saved is None or saved is _FREED:
        return
    for s in saved:
        if isinstance(s, _OutRef):
            if node._out_arrays is not None:
                values[(id(node), s.k)] = node._out_arrays[s.k]
        elif isinstance(s, Tensor) and s.grad_fn is not None:
            values.setdefault((id(s.grad_fn), s._out_idx), s._data)


def _fill_grads(root, infos, nodes):
    """d root / d (every node output), via node hooks during one autograd.grad pass."""
    got = {}
    previous = {}
    for nid, node in nodes.items():
        previous[nid] = node._node_hooks

        def hook(grad_inputs, grad_outputs, nid=nid):
            for k, g in enumerate(grad_outputs):
                if g is not None:
                    got[(nid, k)] = g._data
        node._node_hooks = (node._node_hooks or ()) + (hook,)
    leaves = [i for i in infos.values() if i.leaf]
    try:
        ones = Tensor._make(np.ones_like(root._data), False, None, 0)
        res = _grad([root], [_leaf_tensor(root, i.key[1]) for i in leaves], [ones],
                    retain_graph=True, allow_unused=True)
        for info, g in zip(leaves, res):  # d root / d leaf (not the accumulated .grad)
            info.grad = None if g is None else g._data
    except RuntimeError:  # the graph was already freed by a backward pass: keep .grad
        pass
    finally:
        for nid, node in nodes.items():
            node._node_hooks = previous[nid]
    for key, info in infos.items():
        if not info.leaf:
            info.grad = got.get((key[1], key[2]))


def _leaf_tensor(root, leaf_id):
    stack, seen = [root.grad_fn], set()
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        for e in node._edges:
            if e is None:
                continue
            if e[1] < 0 and id(e[0]) == leaf_id:
                return e[0]
            if e[1] >= 0:
                stack.append(e[0])
    raise LookupError(leaf_id)


def _describe(info, show_values, show_grads, max_elements):
    parts = [info.label, f"shape {info.shape}" if info.shape is not None else "shape ?"]
    if show_values and info.value is not None:
        v = _short(info.value, max_elements)
        if v is not None:
            parts.append(f"value {v}")
    if show_grads and info.grad is not None:
        g = _short(info.grad, max_elements)
        if g is not None:
            parts.append(f"grad {g}")
    return parts


def graph_text(tensor, *, params=None, show_values=True, show_grads=True,
               max_elements=6) -> str:
    """The graph as an indented tree from the output down to the leaves (shared
    sub-graphs are printed once and referred to as ``[#n]`` afterwards)."""
    infos, _, root_key = _walk(tensor, params, show_grads, max_elements)
    lines, number = [], {}
    stack = [(root_key, "", "", "")]
    while stack:
        key, lead, branch, cont = stack.pop()
        info = infos[key]
        text = "  ".join(_describe(info, show_values, show_grads, max_elements))
        if key in number:
            lines.append(f"{lead}{branch}{info.label} [#{number[key]}, see above]")
            continue
        number[key] = len(number) + 1
        lines.append(f"{lead}{branch}[#{number[key]}] {text}")
        kids = info.inputs
        for j in range(len(kids) - 1, -1, -1):
            last = j == len(kids) - 1
            stack.append((kids[j], lead + cont, "└─ " if last else "├─ ",
                          "   " if last else "│  "))
    return "\n".join(lines)


def graph_dot(tensor, *, params=None, show_values=True, show_grads=True, max_elements=6,
              rankdir="BT") -> str:
    """The graph as Graphviz DOT text: leaves as ellipses, operations as boxes, edges in the
    forward direction (input -> operation)."""
    infos, order, root_key = _walk(tensor, params, show_grads, max_elements)
    ids = {key: f"n{i}" for i, key in enumerate(order)}
    out = ["digraph chainrule {", f"  rankdir={rankdir};",
           '  node [fontname="Helvetica", fontsize=10];']
    for key in order:
        info = infos[key]
        label = "\\n".join(_esc(p) for p in _describe(info, show_values, show_grads,
                                                       max_elements))
        if info.leaf:
            style = 'shape=ellipse, style=filled, fillcolor="#cfe2f3"'
        elif key == root_key:
            style = 'shape=box, style="rounded,filled", fillcolor="#f9cb9c"'
        else:
            style = 'shape=box, style="rounded,filled", fillcolor="#eeeeee"'
        out.append(f'  {ids[key]} [label="{label}", {style}];')
    for key in order:
        for child in infos[key].inputs:
            out.append(f"  {ids[child]} -> {ids[key]};")
    out.append("}")
    return "\n".join(out) + "\n"


def _esc(s):
    return s.replace("\\", "\\\\").replace('"', '\\"')


class Graph:
    """What ``draw_graph`` returns: ``.dot`` (DOT text), ``.text`` (the tree), ``.path``
    (the file written, if any). Prints as the tree; shows as SVG in Jupyter when ``dot``
    is installed."""

    def __init__(self, dot, text, path=None):
        self.dot, self.text, self.path = dot, text, path

    def __str__(self):
        return self.text

    __repr__ = __str__

    def _repr_svg_(self):
        exe = shutil.which("dot")
        if exe is None:
            return None
        return subprocess.run([exe, "-Tsvg"], input=self.dot, capture_output=True, text=True,
                              check=True, timeout=60).stdout


def draw_graph(tensor, path=None, *, params=None, show_values=True, show_grads=True,
               max_elements=6, rankdir="BT") -> Graph:
    """Draw the computational graph that produced ``tensor``.

    Each operation shows its forward name and output shape; values and gradients (d tensor /
    d node, from one extra backward pass) are shown when they have at most ``max_elements``
    elements. With ``path``: ``.dot`` writes DOT text, ``.txt`` the tree, ``.svg``/``.png``/
    ``.pdf`` render with Graphviz's ``dot`` when it is installed — otherwise the DOT text is
    written next to it (``.dot``) and ``RuntimeWarning`` says how to render it.

    Args:
        tensor: the output (usually a scalar loss) whose ``grad_fn`` graph is drawn.
        params: optional ``{name: tensor}`` (e.g. ``dict(model.named_parameters())``) naming
            leaves.
        show_values, show_grads: include small values / gradients in the labels.
        rankdir: DOT layout direction ("BT": inputs at the bottom).

    Returns: a ``Graph`` with ``.dot``, ``.text`` and ``.path``; it prints as the tree.

    Example::

        x = cr.tensor(1.5, requires_grad=True)
        print(draw_graph(cr.cos(cr.sin(x ** 2) + 3 * x ** 2)))
    """
    kw = dict(params=params, show_values=show_values, show_grads=show_grads,
              max_elements=max_elements)
    dot = graph_dot(tensor, rankdir=rankdir, **kw)
    text = graph_text(tensor, **kw)
    written = None
    if path is not None:
        path = os.fspath(path)
        ext = os.path.splitext(path)[1].lower().lstrip(".")
        if ext in ("dot", "gv"):
            written = _write(path, dot)
        elif ext == "txt":
            written = _write(path, text + "\n")
        elif ext in ("svg", "png", "pdf"):
            exe = shutil.which("dot")
            if exe is not None:
                subprocess.run([exe, f"-T{ext}", "-o", path], input=dot, text=True,
                               check=True, capture_output=True, timeout=120)
                written = path
            else:
                import warnings

                written = _write(os.path.splitext(path)[0] + ".dot", dot)
                warnings.warn(f"draw_graph: Graphviz's 'dot' program is not installed, so "
                              f"{path} was not rendered; wrote {written} instead (install "
                              "graphviz, then: dot -T" + ext + f" {written} -o {path})",
                              RuntimeWarning, stacklevel=2)
        else:
            raise ValueError(f"draw_graph: unknown file type {path!r}; use .dot, .txt, .svg, "
                             ".png or .pdf")
    return Graph(dot, text, written)


def _write(path, content):
    folder = os.path.dirname(path)
    if folder:
        os.makedirs(folder, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(content)
    return path
