"""Crafted run directories, odd --out paths and extreme flags: one line naming the file or
flag and the fix, exit 2, nothing half-written, nothing outside the output replaced."""

from __future__ import annotations

import json
import os
import shutil
import threading
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule.cli import main
from chainrule.train import _memory


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    d = tmp_path_factory.mktemp("runs")
    g = np.random.default_rng(0)
    X = g.normal(size=(80, 2))
    rows = [f"{a:.3f},{b:.3f},{int(a + b > 0)}" for a, b in X]
    (d / "d.csv").write_text("a,b,y\n" + "\n".join(rows) + "\n")
    assert main(["train", str(d / "d.csv"), "--target", "y", "--out", str(d / "run"),
                 "--hidden", "0", "--epochs", "2", "--quiet"]) == 0
    return d


def _copy(run, tmp_path, edit=None, weights=None):
    out = tmp_path / "r"
    shutil.copytree(run / "run", out)
    if edit:
        cfg = json.loads((out / "config.json").read_text())
        edit(cfg)
        (out / "config.json").write_text(json.dumps(cfg))
    if weights:
        state = cr.load(out / "model.safetensors")
        cr.save(weights(state), out / "model.safetensors")
    return out


def _error(capsys, argv, *needles):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("chainrule: error: "), err
    for n in needles:
        assert n in err[0], err[0]
    return err[0]


def _set(path, value):
    def edit(cfg):
        *keys, last = path
        for k in keys:
            cfg = cfg[k]
        cfg[last] = value
    return edit


@pytest.mark.parametrize("edit, needle", [
    (_set(["task"], "regression"), "its task ('regression') differs from the one its "
                                   "preprocessing was fitted for ('binary')"),
    (_set(["classes"], [1, 1]), "its class labels are not distinct"),
    (_set(["preprocessing", "features"], ["a", "a"]), "features name a column twice"),
    (_set(["target"], "b"), "its target ('b') differs"),
])
def test_config_that_contradicts_itself(run, tmp_path, capsys, edit, needle):
    d = _copy(run, tmp_path, edit)
    _error(capsys, ["predict", str(d), str(run / "d.csv")], needle)


def test_config_with_a_huge_integer(run, tmp_path, capsys):
    d = _copy(run, tmp_path)
    text = (d / "config.json").read_text().replace('"n_inputs": 2', '"n_inputs": 1' + "0" * 5000)
    (d / "config.json").write_text(text)
    msg = _error(capsys, ["summary", str(d)], "an integer of more than")
    assert "set_int_max_str_digits" not in msg


def test_nan_weights_are_never_scored(run, tmp_path, capsys):
    d = _copy(run, tmp_path, weights=lambda s: {k: v * float("nan") for k, v in s.items()})
    # evaluate used to print metrics of NaN outputs read as class 0 (accuracy 0.5)
    _error(capsys, ["evaluate", str(d), str(run / "d.csv")], "non-finite model output")


def test_values_beyond_the_training_range(run, tmp_path, capsys):
    (tmp_path / "x.csv").write_text("a,b,y\n1e300,0,1\n0.5,0.5,1\n1e5,-1e5,0\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning from NumPy on the way
        assert main(["predict", str(run / "run"), str(tmp_path / "x.csv"), "--out",
                     str(tmp_path / "p.csv")]) == 0
        assert main(["evaluate", str(run / "run"), str(tmp_path / "x.csv")]) == 0
    out = capsys.readouterr().out
    assert "note: 1 of 3 rows cannot be scored: value out of range in 'a' (1)" in out
    lines = (tmp_path / "p.csv").read_text().splitlines()
    assert lines[1].startswith("1,,,,value 1e+300 in 'a' is too far outside")
    assert lines[3].split(",")[1] in ("0", "1") and lines[3].endswith(",")  # 1e5: scored


def test_predict_never_overwrites_what_it_reads(run, tmp_path, capsys):
    src = tmp_path / "in.csv"
    shutil.copy(run / "d.csv", src)
    before = src.read_bytes()
    _error(capsys, ["predict", str(run / "run"), str(src), "--out",
                    str(tmp_path / ".." / tmp_path.name / "in.csv")], "which predict reads")
    _error(capsys, ["predict", str(run / "run"), str(src), "--out",
                    str(run / "run" / "config.json")], "which predict reads")
    assert src.read_bytes() == before


@pytest.mark.parametrize("out, needle", [
    ("afile/p.csv", "afile is not a directory"),
    ("nodir/p.csv", "the directory nodir does not exist"),
    ("x" * 300 + ".csv", "the file name is 304 bytes long"),
    (".", "is a directory"),
])
def test_odd_out_paths(run, tmp_path, capsys, monkeypatch, out, needle):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "afile").write_text("keep")
    _error(capsys, ["predict", str(run / "run"), str(run / "d.csv"), "--out", out], needle)
    assert (tmp_path / "afile").read_text() == "keep"


def test_out_through_a_symlink_and_into_a_fifo(run, tmp_path, capsys):
    (tmp_path / "real.csv").write_text("old")
    os.symlink(tmp_path / "real.csv", tmp_path / "link.csv")
    assert main(["predict", str(run / "run"), str(run / "d.csv"), "--out",
                 str(tmp_path / "link.csv")]) == 0
    assert os.path.islink(tmp_path / "link.csv")  # the link is kept, its target written
    assert (tmp_path / "real.csv").read_text().startswith("row,prediction")
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_text()))
    reader.start()
    # renaming over a FIFO or a device (/dev/null as root!) would replace it
    assert main(["predict", str(run / "run"), str(run / "d.csv"), "--out", str(fifo)]) == 0
    reader.join(timeout=30)
    assert os.path.exists(fifo) and not os.path.isfile(fifo)
    assert got and got[0].startswith("row,prediction")
    capsys.readouterr()


def test_model_too_big_for_memory_is_refused_before_building(run, tmp_path, capsys,
                                                              monkeypatch):
    monkeypatch.setattr(_memory, "available_memory", lambda: 2**20)  # 1 MiB
    out = tmp_path / "big"
    _error(capsys, ["train", str(run / "d.csv"), "--target", "y", "--hidden", "512,512",
                    "--out", str(out)], "needs about", "choose smaller --hidden")
    assert not out.exists()  # refused before anything was written: no empty directory
    _error(capsys, ["train", str(run / "d.csv"), "--target", "y", "--hidden",
                    ",".join(["2"] * 65)], "at most 64 hidden layers")


def test_extreme_flags(run, tmp_path, capsys):
    d = str(run / "d.csv")
    _error(capsys, ["train", d, "--target", "y", "--val-split", "0.5", "--test-split", "0.5"],
           "--val-split 0.5 and --test-split 0.5 leave no training rows")
    _error(capsys, ["train", d, "--target", "y", "--out", str(tmp_path / ("x" * 300))],
           "cannot write the run directory (File name too long)")
    _error(capsys, ["explain", "x**2", "--at", "y=1"], "--at x=VALUE")
    _error(capsys, ["explain", "x**2", "--at", "x=1", "--at", "x=2"], "--at x is given twice")


def test_column_writer_round_trips_every_text_cell():
    """The column writer gives csv.writer's bytes, except that a carriage return inside a
    field is quoted too (csv.writer with '\\n' line ends left it bare, and csv.reader then
    refuses the file: 'new-line character seen in unquoted field')."""
    import csv
    import io

    from chainrule.train import _csvout
    from chainrule.train.scoring import safe_cell

    texts = ["plain", "a,b", 'say "hi"', "line\nbreak", "cr\rhere", "=HYPERLINK(1)", "-1.5",
             "+x", "@sum", "\tTab", " space ", "", "ünï", "-", "1e5"]
    nums = np.array([0.1, -2.5e-7, 3e300, -0.0, 7, 1 / 3, 12345678, -1e-300, 2.5, 0, 1, 2,
                     3, 4, 5])
    header = ["row", "=id", "p,x"]
    expected = [[safe_cell(h) for h in header]] + [
        [safe_cell(c) for c in [str(i + 1), t, f"{v:.6g}"]]
        for i, (t, v) in enumerate(zip(texts, nums))]
    cols = [_csvout.numbers(np.arange(1, 16), "%d"), _csvout.text_column(texts, safe_cell),
            _csvout.numbers(nums)]
    text = _csvout.to_text(header, cols, safe_cell)
    assert list(csv.reader(io.StringIO(text, newline=""))) == expected
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(expected)
    assert text == buf.getvalue().replace("cr\rhere", '"cr\rhere"')


def test_scoring_files_without_the_needed_columns(run, tmp_path, capsys):
    (tmp_path / "no_y.csv").write_text("a,b\n0.1,0.2\n")
    (tmp_path / "no_b.csv").write_text("a,B,y\n0.1,0.2,1\n")
    (tmp_path / "extra.csv").write_text("y,zz,b,a\n1,x,0.2,0.1\n")  # reordered, extra column
    _error(capsys, ["evaluate", str(run / "run"), str(tmp_path / "no_y.csv")],
           "lacks the target column 'y': evaluate needs the true values", "use predict")
    _error(capsys, ["predict", str(run / "run"), str(tmp_path / "no_b.csv")],
           "lacks the column(s) 'b' the model was trained on", "case included")
    assert main(["predict", str(run / "run"), str(tmp_path / "no_y.csv")]) == 0
    assert main(["predict", str(run / "run"), str(tmp_path / "extra.csv")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1] == out[3] and out[1].endswith(",")  # same row, same prediction, scored


def test_report_describes_a_linear_model_plainly(run):
    text = (run / "run" / "report.md").read_text()
    assert "Linear model (no hidden layer): 2 inputs -> 1 output(s)" in text
    assert "hidden []" not in text


def _resumable(run, tmp_path):
    """A copy of the fixture's run that resume accepts (status training, no metrics)."""
    d = _copy(run, tmp_path, _set(["status"], "training"))
    (d / "metrics.json").unlink()
    return d


def _edit_state(d, fn):
    p = d / "search" / "state.json"
    state = json.loads(p.read_text())
    fn(state)
    p.write_text(json.dumps(state))


@pytest.mark.parametrize("tamper, needle", [
    (lambda d: _edit_state(d, lambda s: s["results"][0].update(val_loss="x")),
     "has result 0 with an invalid val_loss 'x'"),
    (lambda d: _edit_state(d, lambda s: s.update(results={"a": 1})),
     "lacks the lists 'candidates' and 'results'"),
    (lambda d: (d / "search" / "state.json").write_text("[]"), "is not a JSON object"),
    (lambda d: (d / "search" / "c0.safetensors").unlink(),
     "candidate 1 finished but search/c0.safetensors is missing"),
    (lambda d: (d / "search" / "c0.history.csv").write_text('garbage,,,"\n'),
     "c0.history.csv has no epochs or no 'loss' column"),
    (lambda d: (d / "config.json").write_text(
        (d / "config.json").read_text().replace('"seed": 0', '"seed": "zero"')),
     "options.seed has an invalid value 'zero'"),
])
def test_resume_of_a_tampered_directory(run, tmp_path, capsys, tamper, needle):
    d = _resumable(run, tmp_path)
    tamper(d)
    _error(capsys, ["train", "--resume", str(d)], needle)


def test_resume_of_an_intact_copy_works(run, tmp_path, capsys):
    d = _resumable(run, tmp_path)
    assert main(["train", "--resume", str(d), "--quiet"]) == 0


def test_predictions_written_in_slices_are_the_same_bytes(run, tmp_path, monkeypatch):
    from chainrule.train import scoring

    rows = [f"{(i % 13) / 3:.3f},{'' if i % 11 == 0 else i % 5},1" for i in range(50)]
    (tmp_path / "x.csv").write_text("a,b,y\n" + "\n".join(rows) + "\n")
    scoring.predict_csv(run / "run", tmp_path / "x.csv", tmp_path / "whole.csv")
    monkeypatch.setattr(scoring, "_CHUNK", 7)
    scoring.predict_csv(run / "run", tmp_path / "x.csv", tmp_path / "sliced.csv")
    whole = (tmp_path / "whole.csv").read_bytes()
    assert whole == (tmp_path / "sliced.csv").read_bytes()
    assert whole.count(b"missing value in 'b'") == 5 and whole.count(b"\n") == 51


def test_torch_compat_missing_script_is_one_line(tmp_path, capsys):
    from chainrule.torch_compat import main as compat

    assert compat([str(tmp_path / "nothere.py")]) == 2
    assert compat([str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and "No such file or directory" in err[0]
    assert "a directory without __main__.py" in err[1]
