"""Bad data gets a decision (issue 8): non-finite values, too many classes, too few rows,
integer targets, imputation, column options, per-row validity at predict time."""

from __future__ import annotations

import json

import numpy as np
import pytest

from chainrule.data import DataError, Preprocessor, load_csv


def _write(tmp_path, header, rows, name="d.csv"):
    p = tmp_path / name
    p.write_text(header + "\n" + "\n".join(rows) + "\n")
    return p


def _table(n=40, seed=0):
    """x numeric, c categorical (a/b/c), t binary: rows as strings."""
    g = np.random.default_rng(seed)
    return [f"{g.normal():.3f},{'abc'[i % 3]},{'ny'[i % 2]}" for i in range(n)]


def _msg(fn, *args, **kw) -> str:
    with pytest.raises(DataError) as info:
        fn(*args, **kw)
    assert "\n" not in str(info.value)
    return str(info.value)


@pytest.mark.parametrize("cell, column", [("inf", "x"), ("-inf", "x"), ("Infinity", "x")])
def test_non_finite_feature_refused_with_column_and_row(tmp_path, cell, column):
    rows = _table()
    rows[4] = f"{cell},a,y"
    msg = _msg(load_csv, _write(tmp_path, "x,c,t", rows), "t")
    assert f"column {column!r}" in msg and "non-finite" in msg
    assert "data row 5 (line 6)" in msg and "d.csv" in msg


def test_non_finite_target_and_custom_na_values(tmp_path):
    rows = [f"{i},{i * 1.5}" for i in range(30)]
    rows[9] = "9,-inf"
    msg = _msg(load_csv, _write(tmp_path, "x,y", rows), "y")
    assert "column 'y'" in msg and "data row 10" in msg
    rows[9] = "9,nan"   # an NA token by default: the row is dropped as a missing target
    ds = load_csv(_write(tmp_path, "x,y", rows), "y")
    assert ds.info["rows_dropped"] == {"missing target y": 1}
    msg = _msg(load_csv, _write(tmp_path, "x,y", rows), "y", na_values=("", "NA"))
    assert "non-finite value (nan)" in msg


def test_free_text_target_refused(tmp_path):
    rows = [f"{i},label number {i}" for i in range(300)]
    msg = _msg(load_csv, _write(tmp_path, "x,label", rows), "label")
    assert "300 classes in 300 rows" in msg and "free text" in msg and "--target" in msg
    ints = [f"{i},{i % 100}" for i in range(300)]
    msg = _msg(load_csv, _write(tmp_path, "x,k", ints), "k", task="multiclass")
    assert "100 classes in 300 rows" in msg and "--task regression" in msg


def test_single_row_class_refused_only_when_splitting(tmp_path):
    rows = [f"{i},{'ab'[i % 2]}" for i in range(40)] + ["40,rare"]
    p = _write(tmp_path, "x,t", rows)
    msg = _msg(load_csv, p, "t")
    assert "'rare'" in msg and "single row" in msg and "drop their rows" in msg
    ds = load_csv(p, "t", test_split=0.0)
    assert ds.classes == ["a", "b", "rare"]


@pytest.mark.parametrize("n", [2, 9])
def test_too_small_to_split(tmp_path, n):
    rows = [f"{i},{'ab'[i % 2]}" for i in range(n)]
    p = _write(tmp_path, "x,t", rows)
    msg = _msg(load_csv, p, "t", val_split=0.2, test_split=0.2)
    assert f"only {n} usable rows" in msg and "--test-split 0" in msg
    ds = load_csv(p, "t", test_split=0.0)   # nothing held out: training on all is allowed
    assert ds.X_train.shape[0] == n


def test_empty_requested_split_refused(tmp_path):
    p = _write(tmp_path, "x,t", [f"{i},{'ab'[i % 2]}" for i in range(12)])
    assert "empty test split" in _msg(load_csv, p, "t", test_split=0.01)


@pytest.mark.parametrize("values, task, words", [
    (np.r_[25, 346, np.random.default_rng(1).integers(25, 347, 298)], "regression",
     ["integer values 25..346", "smallest 25", "continuous"]),
    (np.random.default_rng(2).poisson(6.0, 300), "count", ["counts", "Poisson",
                                                          "--task regression"]),
    (np.r_[0, 0, 100 - np.random.default_rng(3).poisson(10, 298)], "regression",
     ["left-skewed", "continuous"]),
    (np.random.default_rng(4).integers(-50, 50, 300), "regression", ["negative"]),
    (np.random.default_rng(5).integers(0, 4, 300), "multiclass", ["max_classes"]),
])
def test_integer_target_rule_and_reason(tmp_path, values, task, words):
    if task == "count":
        assert len(np.unique(values)) > 10   # more than max_classes distinct counts
    rows = [f"{i * 0.1:.1f},{v}" for i, v in enumerate(values)]
    ds = load_csv(_write(tmp_path, "x,y", rows), "y")
    assert ds.task == task, ds.info["task_reason"]
    for w in words:
        assert w in ds.info["task_reason"]
    assert f"target 'y': {task} ({ds.info['task_reason']})" in ds.report


@pytest.mark.parametrize("rule", ["mean", "median", "most_frequent"])
def test_impute_statistics_from_the_training_split_only(tmp_path, rule):
    g = np.random.default_rng(0)
    x = np.round(g.exponential(2.0, 60), 1)
    rows = [f"{'NA' if i % 6 == 0 else x[i]},{'NA' if i % 7 == 0 else 'pq'[i % 3 == 0]},"
            f"{'ny'[i % 2]}" for i in range(60)]
    ds = load_csv(_write(tmp_path, "x,c,t", rows), "t", impute=rule, test_split=0.3,
                  standardize=False)
    assert ds.info["rows_kept"] == 60 and ds.preprocessor.impute == rule
    train = ds.rows["train"] - 1
    seen = np.array([x[i] for i in train if i % 6 != 0])
    want = {"mean": seen.mean(), "median": np.median(seen)}.get(rule)
    if rule == "most_frequent":
        vals, counts = np.unique(seen, return_counts=True)
        want = vals[np.argmax(counts)]
    assert ds.preprocessor.fill["x"] == pytest.approx(want)
    cats = ["pq"[int(i % 3 == 0)] for i in train if i % 7 != 0]
    assert ds.preprocessor.fill["c"] == max(sorted(set(cats)), key=cats.count)
    everything = np.array([x[i] for i in range(60) if i % 6 != 0])
    assert want != pytest.approx(everything.mean() if rule == "mean" else
                                 np.median(everything)) or rule == "most_frequent"
    p = ds.preprocessor.prepare({"x": ["NA", "1.5"], "c": ["p", "NA"]})
    assert p.valid.all() and p.X[0, 0] == np.float32(want) and p.X[1, 1:].tolist() == \
        [float(ds.preprocessor.fill["c"] == "p"), float(ds.preprocessor.fill["c"] == "q")]
    assert f"imputed with the training {rule.replace('_', ' ')}" in ds.report


def test_predict_rows_are_valid_or_have_a_reason(tmp_path):
    ds = load_csv(_write(tmp_path, "x,c,t", _table()), "t")
    pre = Preprocessor.from_dict(json.loads(json.dumps(ds.preprocessor.to_dict())))
    new = {"x": ["0.5", "NA", "inf", "abc", "1.0", "2.0"],
           "c": ["a", "b", "c", "a", "zzz", "b"]}
    p = pre.prepare(new)
    assert p.valid.tolist() == [True, False, False, False, False, True]
    assert p.reasons[0] is None and p.reasons[1] == "missing value in 'x'"
    assert p.reasons[2] == "non-finite value inf in 'x'"
    assert p.reasons[3] == "'x' = 'abc' is not a number"
    assert p.reasons[4] == "unknown category 'zzz' in 'c'"
    assert not p.X[~p.valid].any() and p.rows.tolist() == [1, 2, 3, 4, 5, 6]
    assert p.summary().startswith("4 of 6 rows cannot be scored: missing value in 'x' (1)")
    ok = pre.prepare(new, unknown="ignore")
    assert ok.valid.tolist() == [True, False, False, False, True, True]
    j = ds.feature_names.index("c=a")
    assert not ok.X[4, j:j + 3].any()   # unseen category: all zeros
    X, valid, reasons = pre.transform_rows(new)
    assert valid.tolist() == p.valid.tolist() and reasons == p.reasons
    with pytest.raises(DataError, match=r"unknown category 'zzz' in row 1"):
        pre.prepare({k: v[4:] for k, v in new.items()}, strict=True)
    y, ok_y, why = pre.encode_target_rows(["y", "NA", "maybe"])
    assert y.tolist() == [1, -1, -1] and ok_y.tolist() == [True, False, False]
    assert why[2] == "unknown class 'maybe' in 't'"


def test_prepare_csv_with_target_and_ids(tmp_path):
    rows = [f"00{i},{r}" for i, r in enumerate(_table(30))]
    ds = load_csv(_write(tmp_path, "pid,x,c,t", rows), "t", id_column="pid", val_split=0.2)
    assert "pid" not in ds.preprocessor.features and "id column 'pid'" in ds.report
    assert sorted(ds.ids["train"] + ds.ids["val"] + ds.ids["test"]) == \
        sorted(f"00{i}" for i in range(30))
    assert [f"00{r - 1}" for r in ds.rows["test"]] == ds.ids["test"]
    pre = Preprocessor.from_dict(json.loads(json.dumps(ds.preprocessor.to_dict())))
    new = _write(tmp_path, "pid,x,c,t", ["007,0.5,a,y", "008,NA,b,n", "009,1.0,c,maybe"],
                 "new.csv")
    p = pre.prepare_csv(new, target=True)
    assert p.ids == ["007", "008", "009"] and p.valid.tolist() == [True, False, False]
    assert p.y[0] == 1 and p.reasons[2] == "unknown class 'maybe' in 't'"
    X = pre.prepare_csv(new).X
    np.testing.assert_array_equal(X[0], p.X[0])


def test_column_options(tmp_path):
    rows = [f"{r},free text {i}" for i, r in enumerate(_table(60))]
    p = _write(tmp_path, "x,c,t,notes", rows)
    msg = _msg(load_csv, p, "t")
    assert "'notes'" in msg and "60 distinct" in msg
    for flag in ("--drop notes", "--id-column notes", "--features", "--max-categories 60"):
        assert flag in msg
    assert load_csv(p, "t", drop=["notes"]).preprocessor.features == ["x", "c"]
    assert load_csv(p, "t", features=["c"]).feature_names == ["c=a", "c=b", "c=c"]
    assert len(load_csv(p, "t", max_categories=100, test_split=0.0).feature_names) == 64
    assert "not found" in _msg(load_csv, p, "t", drop=["nope"])
    assert "both in features and in drop" in _msg(load_csv, p, "t", features=["x"],
                                                  drop=["x"])


def test_preprocessor_dicts_old_and_malformed():
    old = {"version": 1, "features": ["a", "c"], "categories": {"c": ["x", "y"]},
           "standardize": True, "impute": True, "mean": {"a": 1.0}, "std": {"a": 2.0},
           "fill": {"a": 0.5, "c": "x"}, "target": "t", "task": "binary",
           "classes": ["no", "yes"], "na_values": ["", "NA"], "feature_names": None,
           "fitted": True}
    pre = Preprocessor.from_dict(old)
    assert pre.impute == "median" and pre.id_column is None
    np.testing.assert_array_equal(pre.transform({"a": ["NA"], "c": ["y"]}).numpy(),
                                  [[-0.25, 0.0, 1.0]])
    assert Preprocessor.from_dict(pre.to_dict()).to_dict() == pre.to_dict()
    for key, bad in (("std", {"a": -1.0}), ("features", "a"), ("task", "magic"),
                     ("categories", {"zz": ["x"]}), ("mean", {"a": "1"}),
                     ("classes", {"x": 1}), ("version", 3)):
        with pytest.raises(DataError):
            Preprocessor.from_dict({**old, key: bad})
