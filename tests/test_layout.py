"""The house rules of the source tree (DESIGN.md, "Layout"): no import cycles between
chainrule's modules, every file under ~400 lines, and the public functions of each primitive
kind in the file of the same name under ``chainrule/functions/`` as its primitives under
``chainrule/ops/`` (``functions/K.py``, or ``functions/K_<topic>.py`` when one file would
pass the line limit), applying only primitives of that kind.

Import cycles are counted over every import statement, at module level or inside a function
(a lazy import is still a dependency), between modules that are not package ``__init__``
files (a package importing its children, or a child naming its package, is structure, not a
cycle). Run ``python tests/test_layout.py`` to print every cycle with the lines that close it.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
MAX_LINES = 400


def modules(src: Path = SRC) -> dict[str, Path]:
    out = {}
    for p in (src / "chainrule").rglob("*.py"):
        parts = p.relative_to(src).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = p
    return out


def _targets(name: str, path: Path, node, mods) -> list[str]:
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    if isinstance(node, ast.Import):
        found = [a.name for a in node.names]
    else:
        if node.level:
            base = package.split(".")
            base = base[: len(base) - (node.level - 1)]
            mod = ".".join(base + ([node.module] if node.module else []))
        else:
            mod = node.module or ""
        found = [f"{mod}.{a.name}" if f"{mod}.{a.name}" in mods else mod for a in node.names]
    out = []
    for t in found:
        while t and t not in mods and "." in t:
            t = t.rsplit(".", 1)[0]
        if t in mods:
            out.append(t)
    return out


def import_graph(src: Path = SRC):
    """{module: {imported module: [line, ...]}} without package __init__ modules."""
    mods = modules(src)
    packages = {m for m, p in mods.items() if p.name == "__init__.py"}
    graph = {}
    for name, path in mods.items():
        if name in packages:
            continue
        edges = graph.setdefault(name, {})
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for t in _targets(name, path, node, mods):
                    if t != name and t not in packages:
                        edges.setdefault(t, []).append(node.lineno)
    return graph


def cycles(graph) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    index, low, on, stack, out = {}, {}, set(), [], []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(graph[root]))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            for w in it:
                if w not in graph:
                    continue
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(graph[w])))
                    break
                if w in on:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on.discard(w)
                        comp.append(w)
                        if w == v:
                            break
                    if len(comp) > 1:
                        out.append(sorted(comp))
    return out


def test_no_import_cycles():
    graph = import_graph()
    found = cycles(graph)
    assert not found, "import cycles: " + "; ".join(" <-> ".join(c) for c in found)


def test_files_are_short():
    long = {str(p.relative_to(SRC)): n for p in (SRC / "chainrule").rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long, f"files over {MAX_LINES} lines: {long}"


# primitives any kind's public functions may apply: dtype conversion (PyTorch's type
# promotion, in functions/_common.py, and the dtype arguments of every kind)
SHARED_PRIMITIVES = {"Cast"}


def kind_of(stem: str, kinds: set[str]) -> str | None:
    """The primitive kind of ``functions/<stem>.py``: ``stem`` itself when ``ops/<stem>.py``
    exists, else the longest ``K`` with ``stem == K + "_" + topic`` (a kind split by topic)."""
    if stem in kinds:
        return stem
    found = [k for k in kinds if stem.startswith(k + "_")]
    return max(found, key=len) if found else None


def primitive_imports(path: Path):
    """(ops module, imported names or None for the whole module, line) of every import of
    ``chainrule.ops`` in ``path`` (a file of chainrule/functions)."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 2 and node.module == "ops":
            out += [(a.name, None, node.lineno) for a in node.names]  # from ..ops import K
        elif isinstance(node, ast.ImportFrom) and node.level == 2 and node.module and \
                node.module.startswith("ops."):
            out.append((node.module[4:], {a.name for a in node.names}, node.lineno))
        elif isinstance(node, ast.ImportFrom) and node.level == 2 and node.module is None:
            out += [("<package>", None, node.lineno) for a in node.names if a.name == "ops"]
        elif isinstance(node, (ast.Import, ast.ImportFrom)) and "chainrule.ops" in ast.dump(node):
            out.append(("<absolute>", None, node.lineno))
    return out


def mirror_violations(src: Path = SRC) -> list[str]:
    """The mirror rule: the public functions whose primitives are in ``ops/K.py`` are in
    ``functions/K.py`` (or ``functions/K_<topic>.py``). Each file of chainrule/functions has
    a kind, and applies primitives only of its kind (importing ``ops/K.py`` or names from
    it), besides SHARED_PRIMITIVES; the private helpers (``functions/_*.py``) only those."""
    kinds = {p.stem for p in (src / "chainrule" / "ops").glob("*.py")
             if not p.stem.startswith("_")}
    bad = []
    for path in sorted((src / "chainrule" / "functions").glob("*.py")):
        if path.stem == "__init__":
            continue
        kind = None if path.stem.startswith("_") else kind_of(path.stem, kinds)
        if kind is None and not path.stem.startswith("_"):
            bad.append(f"functions/{path.name}: no primitive kind ops/{path.stem}.py "
                       f"(name it after one: K.py or K_<topic>.py)")
        for module, names, line in primitive_imports(path):
            if module == kind or (names is not None and names <= SHARED_PRIMITIVES):
                continue
            what = "the ops package" if module.startswith("<") else f"ops/{module}.py"
            bad.append(f"functions/{path.name}:{line} imports {what}"
                       f"{' ' + str(sorted(names)) if names else ''}; it may apply only "
                       f"primitives of {('ops/' + kind + '.py') if kind else 'no kind'} "
                       f"(and {sorted(SHARED_PRIMITIVES)})")
    return bad


def test_functions_mirror_ops():
    assert (SRC / "chainrule" / "functions").is_dir()
    bad = mirror_violations()
    assert not bad, "\n".join(bad)


def test_the_mirror_check_catches_a_misplaced_function(tmp_path):
    """The check itself: a functions file without a kind, or applying another kind's
    primitive, is reported."""
    root = tmp_path / "chainrule"
    (root / "ops").mkdir(parents=True)
    (root / "functions").mkdir()
    for k in ("elementwise", "shape"):
        (root / "ops" / f"{k}.py").write_text("")
    (root / "functions" / "shape_index.py").write_text("from ..ops import shape as P\n")
    (root / "functions" / "elementwise.py").write_text(
        "from ..ops.elementwise import Add\nfrom ..ops.shape import Getitem\n")
    (root / "functions" / "misc.py").write_text("from .. import ops as P\n")
    (root / "functions" / "_common.py").write_text("from ..ops.elementwise import Cast\n")
    bad = mirror_violations(tmp_path)
    assert len(bad) == 3, bad
    assert any("elementwise.py:2 imports ops/shape.py" in b for b in bad)
    assert any("misc.py: no primitive kind" in b for b in bad)
    assert any("misc.py:1 imports the ops package" in b for b in bad)


if __name__ == "__main__":
    graph = import_graph(Path(sys.argv[1]) if len(sys.argv) > 1 else SRC)
    for comp in cycles(graph):
        members = set(comp)
        print(f"cycle of {len(comp)}:")
        for a in comp:
            for b, lines in sorted(graph[a].items()):
                if b in members:
                    print(f"  {a} -> {b}  (line {', '.join(map(str, lines))})")
