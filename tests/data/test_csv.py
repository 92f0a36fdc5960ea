"""chainrule.data.load_csv and Preprocessor, on the course's Heart.csv and small CSV files."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

import chainrule as cr
from chainrule.data import DataError, DataFileNotFoundError, Preprocessor, load_csv
from chainrule.data import resolve_dataset

HEART = resolve_dataset("heart")   # the copy shipped inside the package
NUMERIC = ["age", "Sex", "RestBP", "Chol", "Fbs", "RestECG", "MaxHR", "ExAng", "Oldpeak",
           "Slope", "Ca"]


@pytest.fixture(scope="module")
def heart_rows():
    with open(HEART, newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def kept_rows(heart_rows):
    return [r for r in heart_rows if "NA" not in r.values()]


def _write(tmp_path, text, name="d.csv"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_heart_rows_dropped_and_reported(heart_rows, kept_rows):
    ds = load_csv(HEART, target="AHD")
    assert len(heart_rows) == 303 and len(kept_rows) == 297
    n = sum(x.shape[0] for x in (ds.X_train, ds.X_val, ds.X_test))
    assert n == 297 and ds.info["rows_kept"] == 297
    na_ca = sum(r["Ca"] == "NA" for r in heart_rows)
    na_thal = sum(r["Thal"] == "NA" for r in heart_rows)
    assert ds.info["rows_dropped"] == {"Ca": na_ca, "Thal": na_thal}
    assert "dropped 6 rows" in ds.report and f"Ca: {na_ca}" in ds.report
    assert f"Thal: {na_thal}" in ds.report and "row index" in ds.report
    assert ds.task == "binary" and ds.classes == ["No", "Yes"]
    assert ds.X_train.dtype == cr.float32 and ds.y_train.dtype == cr.int64
    assert ds.X_test.shape == (round(297 * 0.2), 18)


def test_heart_one_hot_columns(kept_rows):
    ds = load_csv(HEART, target="AHD", test_split=0.0)
    chest = sorted({r["ChestPain"] for r in kept_rows})
    thal = sorted({r["Thal"] for r in kept_rows})
    assert [f"ChestPain={c}" for c in chest] == [f for f in ds.feature_names if "ChestPain" in f]
    assert [f"Thal={c}" for c in thal] == [f for f in ds.feature_names if "Thal" in f]
    assert len(ds.feature_names) == len(NUMERIC) + len(chest) + len(thal)
    X = ds.X_train.numpy()
    for prefix, cats in (("ChestPain=", chest), ("Thal=", thal)):
        cols = [ds.feature_names.index(prefix + c) for c in cats]
        block = X[:, cols]
        assert set(np.unique(block)) == {0.0, 1.0}
        np.testing.assert_array_equal(block.sum(1), 1.0)
        # train rows are the kept rows in file order when nothing is held out
        want = np.array([[r[prefix[:-1]] == c for c in cats] for r in kept_rows], np.float32)
        np.testing.assert_array_equal(block, want)
    y_want = np.array([r["AHD"] == "Yes" for r in kept_rows], np.int64)
    np.testing.assert_array_equal(ds.y_train.numpy(), y_want)


def test_heart_stratified_splits_keep_balance(kept_rows):
    ds = load_csv(HEART, target="AHD", val_split=0.15, test_split=0.2, seed=3)
    p_yes = np.mean([r["AHD"] == "Yes" for r in kept_rows])
    sizes = []
    for y in (ds.y_train, ds.y_val, ds.y_test):
        y = y.numpy()
        sizes.append(y.size)
        assert abs((y == 1).sum() - p_yes * y.size) <= 1.0
    assert sizes[1] == round(297 * 0.15) and sizes[2] == round(297 * 0.2) and sum(sizes) == 297
    again = load_csv(HEART, target="AHD", val_split=0.15, test_split=0.2, seed=3)
    np.testing.assert_array_equal(again.X_test.numpy(), ds.X_test.numpy())
    other = load_csv(HEART, target="AHD", val_split=0.15, test_split=0.2, seed=4)
    assert not np.array_equal(other.X_test.numpy(), ds.X_test.numpy())


def test_heart_standardization_uses_training_rows_only(kept_rows):
    ds = load_csv(HEART, target="AHD", test_split=0.3)
    pre = ds.preprocessor
    cols = [ds.feature_names.index(c) for c in NUMERIC]
    Xtr, Xte = ds.X_train.numpy()[:, cols], ds.X_test.numpy()[:, cols]
    np.testing.assert_allclose(Xtr.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(Xtr.std(0), 1, atol=1e-5)
    assert np.all(np.abs(Xte.mean(0)) > 1e-4)  # test rows are not standardized on their own
    # undo the transform: the training rows' raw values give exactly the stored statistics
    mean = np.array([pre.mean[c] for c in NUMERIC])
    std = np.array([pre.std[c] for c in NUMERIC])
    raw_tr = Xtr.astype(np.float64) * std + mean
    np.testing.assert_allclose(raw_tr.mean(0), mean, rtol=1e-5)
    all_raw = np.array([[float(r[c]) for c in NUMERIC] for r in kept_rows])
    assert not np.allclose(all_raw.mean(0), mean)  # not the statistics of all rows
    raw = np.concatenate([raw_tr, Xte * std + mean])
    np.testing.assert_allclose(np.sort(raw, 0), np.sort(all_raw, 0), atol=1e-3)


def test_preprocessor_json_round_trip_reproduces_features(kept_rows):
    ds = load_csv(HEART, target="AHD", val_split=0.1)
    state = json.loads(json.dumps(ds.preprocessor.to_dict()))
    pre = Preprocessor.from_dict(state)
    X_all = pre.transform(kept_rows).numpy()
    np.testing.assert_array_equal(X_all, ds.preprocessor.transform(kept_rows).numpy())
    loaded = np.concatenate([ds.X_train.numpy(), ds.X_val.numpy(), ds.X_test.numpy()])
    key = lambda a: a[np.lexsort(a.T[::-1])]  # noqa: E731
    np.testing.assert_array_equal(key(loaded), key(X_all))
    r = kept_rows[0]
    j = ds.feature_names.index("age")
    assert X_all[0, j] == pytest.approx((float(r["age"]) - pre.mean["age"]) / pre.std["age"])
    assert pre.decode_target([1, 0]) == ["Yes", "No"]
    assert list(pre.encode_target(["No", "Yes"])) == [0, 1]
    bad = dict(r, Thal="weird")
    with pytest.raises(DataError, match="unknown category 'weird'"):
        pre.transform([bad])
    Xi = pre.transform([bad], unknown="ignore").numpy()
    assert all(Xi[0, ds.feature_names.index(f)] == 0 for f in ds.feature_names if "Thal=" in f)
    with pytest.raises(DataError, match="missing value"):
        pre.transform([dict(r, Ca="NA")])


def test_transform_csv_with_new_rows(tmp_path, kept_rows):
    ds = load_csv(HEART, target="AHD")
    header = [k for k in kept_rows[0] if k != "AHD"]
    lines = [",".join(header)] + [",".join(r[k] for k in header) for r in kept_rows[:3]]
    p = _write(tmp_path, "\n".join(lines) + "\n")
    X = ds.preprocessor.transform_csv(p)
    np.testing.assert_array_equal(X.numpy(), ds.preprocessor.transform(kept_rows[:3]).numpy())


def test_binary_float_targets():
    ds = load_csv(HEART, target="AHD", binary_float=True)
    assert ds.y_train.dtype == cr.float32 and ds.y_train.shape == (ds.X_train.shape[0], 1)
    assert set(np.unique(ds.y_train.numpy())) == {0.0, 1.0}


@pytest.mark.parametrize("values, task, classes", [
    (["a", "b", "c", "a", "b", "c"], "multiclass", ["a", "b", "c"]),
    ([0, 1, 2, 3, 4, 2], "multiclass", [0, 1, 2, 3, 4]),
    (["yes", "no", "no", "yes", "no", "no"], "binary", ["no", "yes"]),
    (list(range(0, 40, 2)), "count", None),
    (list(range(-20, 20, 2)), "regression", None),
    ([0.5, 1.25, -3.0, 2.0, 7.5, 1.0], "regression", None),
])
def test_target_kind_inference(tmp_path, values, task, classes):
    values = values * 5   # at least 5 rows per class (fewer is refused since issue 8)
    rows = "\n".join(f"{i * 0.5},{v}" for i, v in enumerate(values))
    ds = load_csv(_write(tmp_path, "x,t\n" + rows + "\n"), "t", test_split=0.0)
    assert ds.task == task and ds.classes == classes
    if classes is None:
        assert ds.y_train.dtype == cr.float32 and ds.y_train.shape == (len(values), 1)
        np.testing.assert_allclose(ds.y_train.numpy()[:, 0], np.array(values, float))
    else:
        want = [classes.index(v) for v in values]
        np.testing.assert_array_equal(ds.y_train.numpy(), want)


def test_impute_uses_training_median_and_mode(tmp_path):
    text = "a,c,t\n1,x,0\nNA,y,1\n3,?,0\n10,y,1\n,x,0\n4,y,1\n"
    ds = load_csv(_write(tmp_path, text), "t", missing="impute", test_split=0.0,
                  standardize=False)
    pre = ds.preprocessor
    assert pre.fill == {"a": float(np.median([1, 3, 10, 4])), "c": "y"}
    X = ds.X_train.numpy()
    np.testing.assert_array_equal(X[:, 0], [1, 3.5, 3, 10, 3.5, 4])
    np.testing.assert_array_equal(X[:, 1:], [[1, 0], [0, 1], [0, 1], [0, 1], [1, 0], [0, 1]])
    dropped = load_csv(_write(tmp_path, text), "t", test_split=0.0)
    assert dropped.X_train.shape[0] == 3 and dropped.info["rows_dropped"] == {"a": 2, "c": 1}


def _err(exc_type, fn, *args, **kw):
    with pytest.raises(exc_type) as info:
        fn(*args, **kw)
    msg = str(info.value)
    assert "\n" not in msg and isinstance(info.value, ValueError)
    return msg


def test_errors_are_one_line_value_errors(tmp_path):
    msg = _err(DataFileNotFoundError, load_csv, tmp_path / "nope.csv", "t")
    assert "nope.csv" in msg and "not found" in msg
    assert issubclass(DataFileNotFoundError, FileNotFoundError)
    assert "empty" in _err(DataError, load_csv, _write(tmp_path, ""), "t")
    assert "no data rows" in _err(DataError, load_csv, _write(tmp_path, "a,t\n"), "t")
    p = _write(tmp_path, "a,b,t\n1,2,0\n3,4,1\n")
    msg = _err(DataError, load_csv, p, "target")
    assert "'target' not found" in msg and "'a', 'b', 't'" in msg
    msg = _err(DataError, load_csv, _write(tmp_path, "a,t\n1,x\n2,x\n3,x\n"), "t")
    assert "only one class" in msg
    msg = _err(DataError, load_csv, _write(tmp_path, "a,t\n1,x\n2,y\n3,z\n"), "t",
               task="regression")
    assert "not numeric" in msg and "'x'" in msg
    msg = _err(DataError, load_csv, _write(tmp_path, "a,b,t\n1,NA,0\n2,,1\n3,?,0\n"), "t")
    assert "column 'b'" in msg and "all 3 missing" in msg
    msg = _err(DataError, load_csv, _write(tmp_path, "a,t\n1,0\n2,1,5\n"), "t")
    assert "data row 2 (line 3) has 3 fields" in msg
    with pytest.raises(ValueError, match="task"):
        load_csv(p, "t", task="classify")
    with pytest.raises(ValueError, match="val_split"):
        load_csv(p, "t", val_split=1.5)
