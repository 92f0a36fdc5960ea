"""The README's code blocks run, and every number and output they show is what the code
prints, so a drifting number fails CI.

What is checked, per Markdown file (README.md and the pages of docs/ listed in DOCS):

* ``python`` blocks run in order, as one script, in a subprocess with an empty temporary
  working directory. A python block followed by a plain or ``text`` block must print that
  output. A **claim** is a trailing comment that starts with a number, ``True``
  / ``False``, ``{``, ``[`` or ``name = <number>`` — on the line of a statement, or on a
  comment-only line right after an expression statement. A ``print(...)`` claim must equal
  the printed line (whitespace normalised); any other claim is compared with the value of
  the expression (or of the assigned names): the same text once numbers are set aside,
  and each number equal to the computed one rounded (or truncated, when the claim ends in
  ``...``) to the claim's decimals. Other comments (``# diag(6x); ...``) are prose.
* ``sh`` blocks: each line that starts with ``chainrule`` or ``.venv/bin/chainrule`` runs
  through the CLI (``python -m chainrule.cli``) in a temporary directory (``make ...`` lines
  are not run: they install). When a plain block follows, it is the expected output.
* A plain block whose first line is ``$ chainrule ...`` is a command and its exact output.

Expected output is matched line by line after normalising whitespace; a line ``...``
stands for any number of lines and ``...`` inside a line for any text; **volatile parts**
are not compared: durations (a number before ``s`` in ``trained in 2.2 s`` or
``(0.4 s)``) — nothing else (paths in the README are relative, so they are stable).

Claims known to be false in README.md today are listed in :data:`KNOWN_FALSE`; they are
strict xfails, so the test fails once the README is fixed and the entry must go.
"""

from __future__ import annotations

import ast
import io
import json
import os
import re
import subprocess
import sys
import tokenize
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", ROOT / "docs" / "data.md", ROOT / "docs" / "distributed.md",
        ROOT / "docs" / "pytorch.md"]
OUTPUT = ("", "text")  # languages of blocks that show output
ENV = {**os.environ, "PYTHONPATH": str(ROOT / "src") + os.pathsep +
       os.environ.get("PYTHONPATH", ""), "COLUMNS": "100"}
#: (file name, line) -> why the README is wrong there today (README.md is the lead's)
KNOWN_FALSE: dict = {}
NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")


def blocks(path: Path):
    """(language, first line number of the code, code) of each fenced block."""
    out, lang, start, buf = [], None, 0, []
    for i, line in enumerate(path.read_text().splitlines(), start=1):
        if line.startswith("```"):
            if lang is None:
                lang, start, buf = line[3:].strip(), i + 1, []
            else:
                out.append((lang, start, "\n".join(buf)))
                lang = None
        elif lang is not None:
            buf.append(line)
    return out


def _is_claim(text: str) -> bool:
    t = text.strip()
    return bool(re.match(r"([-+]?\d|\.\d|True\b|False\b|\{|\[|\w+ = [-+]?\d)", t))


def claim_value(text: str) -> str:
    """The value part of a claim comment: ``True: float64 ...`` -> ``True``; a number (with
    a trailing ``...``), a bracketed literal, or the text up to ``;`` otherwise."""
    t = text.strip()
    m = re.match(r"(True|False)\b", t) or re.match(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?"
                                                  r"(\.\.\.)?(?=\s|$|[;,:)])", t)
    if m:
        return m.group(0)
    if t[0] in "{[":
        depth = 0
        for i, ch in enumerate(t):
            depth += (ch in "{[(") - (ch in "}])")
            if depth == 0:
                return t[:i + 1]
    return t.split(";")[0].strip()


def claims(code: str, first: int):
    """(statement, claim text, README line) for each claim in a python block."""
    comments = {}
    for tok in tokenize.generate_tokens(io.StringIO(code).readline):
        if tok.type == tokenize.COMMENT:
            comments[tok.start[0]] = (tok.string[1:].strip(), tok.line.strip().startswith("#"))
    found = []
    for stmt in ast.parse(code).body:
        lines = range(stmt.lineno, stmt.end_lineno + 1)
        own = [(n, comments[n][0]) for n in lines if n in comments and not comments[n][1]]
        after = comments.get(stmt.end_lineno + 1)
        if own and _is_claim(own[0][1]):
            found.append((stmt, own[0][1], first + own[0][0] - 1))
        elif isinstance(stmt, ast.Expr) and after and after[1] and _is_claim(after[0]):
            found.append((stmt, after[0], first + stmt.end_lineno))
    return found


def _instrument(code: str, first: int, doc: str) -> str:
    """The block with a capture after each claimed statement."""
    lines = code.splitlines()
    inserts = {}
    for stmt, _, line in claims(code, first):
        key = f"{doc}:{line}"
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call) and \
                getattr(stmt.value.func, "id", None) == "print":
            before, after = f"__begin({key!r})", f"__end({key!r})"
            inserts.setdefault(stmt.lineno - 1, []).append(("before", before))
            inserts.setdefault(stmt.end_lineno - 1, []).append(("after", after))
        elif isinstance(stmt, ast.Expr):
            src = ast.get_source_segment(code, stmt)
            lines[stmt.lineno - 1] = f"__value({key!r}, ({src.splitlines()[0]}"
            lines[stmt.end_lineno - 1] += "))" if stmt.end_lineno != stmt.lineno else ""
            if stmt.end_lineno == stmt.lineno:
                lines[stmt.lineno - 1] = f"__value({key!r}, ({src}))"
            else:
                body = "\n".join(code.splitlines()[stmt.lineno - 1:stmt.end_lineno])
                lines[stmt.lineno - 1:stmt.end_lineno] = [f"__value({key!r}, ({body}))"] + \
                    [""] * (stmt.end_lineno - stmt.lineno)
        else:
            names = [ast.unparse(t) for t in getattr(stmt, "targets", [])] or \
                [ast.unparse(stmt.target)]
            value = names[0].strip("()").rstrip(",")
            inserts.setdefault(stmt.end_lineno - 1, []).append(
                ("after", f"__value({key!r}, {value})"))
    out = []
    for i, line in enumerate(lines):
        for where, text in inserts.get(i, []):
            if where == "before":
                out.append(text)
        out.append(line)
        for where, text in inserts.get(i, []):
            if where == "after":
                out.append(text)
    return "\n".join(out)


PRELUDE = '''
import json as __json, sys as __sys
def __begin(key): print("@@BEGIN " + key, flush=True)
def __end(key): print("@@END " + key, flush=True)
def __value(key, v):
    print("@@VALUE " + key + " " + __json.dumps(repr(v.item() if hasattr(v, "item") and
          getattr(v, "numel", lambda: 2)() == 1 else v)), flush=True)
'''


def run_python(doc: Path, tmp: Path) -> dict:
    """Run the document's python blocks as one script; key -> captured text."""
    parts = [PRELUDE]
    for lang, first, code in blocks(doc):
        if lang == "python":
            key = f"{doc.name}:{first}:block"
            parts += [f"print('@@BLOCK {key}', flush=True)",
                      _instrument(code, first, doc.name),
                      f"print('@@BLOCKEND {key}', flush=True)"]
    script = tmp / "readme_blocks.py"
    script.write_text("\n".join(parts) + "\n")
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          cwd=tmp, env=ENV, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    got, key, buf, block, out = {}, None, [], None, []
    for line in proc.stdout.splitlines():
        if line.startswith("@@BLOCK "):
            block, out = line[8:], []
            continue
        if line.startswith("@@BLOCKEND "):
            got[block] = "\n".join(out)
            block = None
            continue
        if block is not None and not line.startswith("@@"):
            out.append(line)
        if line.startswith("@@BEGIN "):
            key, buf = line[8:], []
        elif line.startswith("@@END "):
            got[key] = "\n".join(buf)
            got[key + ":value"] = False
            key = None
        elif line.startswith("@@VALUE "):
            k, _, v = line[8:].partition(" ")
            got[k] = json.loads(v)
        elif key is not None:
            buf.append(line)
    return got


def _decimals(s: str) -> int:
    m = re.search(r"\.(\d+)", s.split("e")[0].split("E")[0])
    return len(m.group(1)) if m else 0


def same_numbers(claim: str, computed: str) -> str | None:
    """None when ``computed`` shows what ``claim`` says (see the module docstring), else why."""
    truncated = claim.rstrip().endswith("...")
    claim = claim.rstrip(". ") if truncated else claim
    shape_c, shape_v = NUMBER.sub("#", claim), NUMBER.sub("#", computed)
    if " ".join(shape_c.split()) != " ".join(shape_v.split()):
        if not (truncated and " ".join(shape_v.split()).startswith(" ".join(shape_c.split()))):
            return f"shows {claim!r} but the code gives {computed!r}"
    for c, v in zip(NUMBER.findall(claim), NUMBER.findall(computed)):
        d, value = _decimals(c), float(v)
        ok = round(value, d) == round(float(c), d)
        if truncated and not ok:
            ok = int(value * 10**d) / 10**d == float(c)
        if not ok:
            return f"shows {c} but the code gives {v} (in {computed!r})"
    return None


# -- command blocks -------------------------------------------------------------------------
DURATION = re.compile(r"\b\d+(?:\.\d+)?(?= s\b)")


def commands(doc: Path):
    """(README line, command, expected output or None) for each CLI command shown."""
    out, bl = [], blocks(doc)
    for i, (lang, first, code) in enumerate(bl):
        if lang == "sh":
            expected = bl[i + 1][2] if i + 1 < len(bl) and bl[i + 1][0] in OUTPUT else None
            for j, line in enumerate(code.splitlines()):
                cmd = line.split("#")[0].strip()
                if re.match(r"(\.venv/bin/)?chainrule\b", cmd):
                    out.append((first + j, cmd, expected))
        elif lang == "" and code.startswith("$ chainrule"):
            cmd, _, rest = code.partition("\n")
            out.append((first, cmd[2:], rest))
    return out


def run_command(cmd: str, cwd: Path) -> subprocess.CompletedProcess:
    """Run a README command through ``chainrule.cli.main`` in ``cwd`` (in-process: the
    console script itself is tested in tests/test_cli.py)."""
    import contextlib
    import shlex

    from chainrule.cli import main

    args = shlex.split(cmd)[1:]  # after chainrule or .venv/bin/chainrule
    out, err, here = io.StringIO(), io.StringIO(), os.getcwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(args)
    finally:
        os.chdir(here)
    return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())


def _norm(line: str) -> str:
    return " ".join(DURATION.sub("#", line).split())


def output_matches(expected: str, got: str) -> str | None:
    """None when ``got`` matches ``expected`` (``...`` lines/parts elided), else why."""
    want = [_norm(s) for s in expected.splitlines()]
    have = [_norm(s) for s in got.splitlines()]
    have = [h for h in have if h]
    pattern = []
    for w in want:
        if w == "...":
            pattern.append(r"(?:[^\n]*\n)*?")
        elif w:
            pattern.append(".*?".join(re.escape(p) for p in w.split("...")) + r"\n")
    if re.fullmatch("".join(pattern), "\n".join(have) + "\n"):
        return None
    for k, w in enumerate(want):  # say where it first differs, for the failure message
        if w and w != "..." and "..." not in w and w not in have:
            return f"expected line {k + 1} {w!r} is not in the output:\n{got}"
    return f"the output does not match:\n{got}"


# -- the tests ------------------------------------------------------------------------------
def _cases():
    for doc in DOCS:
        if not doc.exists():
            continue
        bl = blocks(doc)
        for i, (lang, first, code) in enumerate(bl):
            if lang == "python":
                for _, text, line in claims(code, first):
                    yield doc, "claim", line, text
                if i + 1 < len(bl) and bl[i + 1][0] in OUTPUT:
                    yield doc, "output", first, bl[i + 1][2]
        for line, cmd, expected in commands(doc):
            yield doc, "command", line, (cmd, expected)


def _param(doc, kind, line, payload):
    marks = []
    if (doc.name, line) in KNOWN_FALSE:
        marks.append(pytest.mark.xfail(strict=True, reason=KNOWN_FALSE[(doc.name, line)]))
    return pytest.param(doc, kind, line, payload, id=f"{doc.name}:{line}", marks=marks)


@pytest.fixture(scope="module")
def python_runs(tmp_path_factory):
    cache = {}

    def get(doc):
        if doc not in cache:
            cache[doc] = run_python(doc, tmp_path_factory.mktemp("py"))
        return cache[doc]
    return get


@pytest.fixture(scope="module")
def cli_dirs(tmp_path_factory):
    cache = {}

    def get(doc):
        if doc not in cache:
            cache[doc] = tmp_path_factory.mktemp("sh")
        return cache[doc]
    return get


@pytest.mark.parametrize("doc,kind,line,payload", [_param(*c) for c in _cases()])
def test_readme(doc, kind, line, payload, python_runs, cli_dirs):
    if kind == "claim":
        got = python_runs(doc).get(f"{doc.name}:{line}")
        assert got is not None, f"{doc.name}:{line}: the claim {payload!r} was not reached"
        if got.startswith("'") or got.startswith('"'):
            got = ast.literal_eval(got)
        is_print = not python_runs(doc).get(f"{doc.name}:{line}:value", True)
        claim = payload if is_print else claim_value(payload)
        why = same_numbers(claim, got if isinstance(got, str) else repr(got))
        assert why is None, f"{doc.name}:{line} {why}"
        return
    if kind == "output":
        got = python_runs(doc).get(f"{doc.name}:{line}:block")
        assert got is not None, f"{doc.name}:{line}: the block did not run to its end"
        why = output_matches(payload, got)
        assert why is None, f"{doc.name}:{line}: the block's output: {why}"
        return
    cmd, expected = payload
    proc = run_command(cmd, cli_dirs(doc))
    assert proc.returncode == 0, f"{doc.name}:{line}: `{cmd}` failed:\n{proc.stderr}"
    if expected is not None:
        why = output_matches(expected, proc.stdout)
        assert why is None, f"{doc.name}:{line}: `{cmd}`: {why}"


def test_claim_parser():
    code = "x = 1.5  # 1.5\nprint(x)   # 1.5\nf(x)\n# {'a': 0.25}\ny = 2  # a comment\n"
    found = [(type(s).__name__, t, n) for s, t, n in claims(code, 10)]
    assert found == [("Assign", "1.5", 10), ("Expr", "1.5", 11), ("Expr", "{'a': 0.25}", 13)]
    assert same_numbers("{'loss': 0.2003}", "{'loss': 0.20712}") is not None
    assert same_numbers("{'loss': 0.2071}", "{'loss': 0.20712}") is None
    assert same_numbers("-6.7409...", "-6.740917") is None
    assert claim_value("True: float64 central differences") == "True"
    assert claim_value("-6.7409...") == "-6.7409..." and claim_value("0.98") == "0.98"
    assert claim_value("{'a': 1} and more") == "{'a': 1}"
    assert output_matches("a\n...\nc 2.2 s (x...)", "a\nb\nb\nc 9.1 s (xyz)\n") is None
    assert output_matches("a\nc", "a\nb\n") is not None


def test_readme_sections_appear_once():
    """Each top-level section of the README once (a botched edit once duplicated half of
    it, and every code block still ran)."""
    from collections import Counter

    text = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    heads = Counter(line for line in text.splitlines() if line.startswith("## "))
    assert not [h for h, n in heads.items() if n > 1]
