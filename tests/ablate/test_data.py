"""Unit tests for ablate.data: load, split, standardize, write versioned, read back."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ablate.data import (
    MANIFEST,
    SPLITS,
    hash_splits,
    infer_task,
    load_arrays,
    prepare_data,
    split_and_scale,
)
from ablate.errors import DataError
from ablate.vocab.params import DataConfig

WINE = DataConfig(source="sklearn:wine")


def read_splits(path: str | Path) -> dict[str, pd.DataFrame]:
    return {s: pd.read_parquet(Path(path) / f"{s}.parquet") for s in SPLITS}


def expected_sizes(n: int, test_size: float, val_size: float) -> tuple[int, int, int]:
    """scikit-learn's train_test_split rounds a fractional test size up."""
    test = math.ceil(n * test_size)
    val = math.ceil((n - test) * val_size)
    return n - test - val, val, test


# ---------------------------------------------------------------------------------------------
# prepare_data on a built-in data set


def test_prepare_wine_writes_splits_and_manifest(tmp_path: Path) -> None:
    out = tmp_path / "prepared" / "wine"
    prepared, worked = prepare_data(WINE, 0, out)
    assert worked
    assert sorted(p.name for p in out.iterdir()) == [MANIFEST, "test.parquet", "train.parquet", "val.parquet"]
    # Nothing else is left beside it (the temporary folder was renamed into place).
    assert [p.name for p in out.parent.iterdir()] == ["wine"]
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["data_hash"] == prepared.data_hash
    assert manifest["source"] == "sklearn:wine"
    assert manifest["classes"] == [0, 1, 2]
    assert len(manifest["features"]) == 13 and "alcohol" in manifest["features"]
    assert prepared.path == str(out)
    assert (prepared.task, prepared.n_features, prepared.n_classes) == ("classification", 13, 3)
    n_train, n_val, n_test = expected_sizes(178, 0.2, 0.2)
    assert prepared.shapes == {"train": [n_train, 13], "val": [n_val, 13], "test": [n_test, 13]}
    splits = read_splits(out)
    for name, (rows, cols) in prepared.shapes.items():
        assert splits[name].shape == (rows, cols + 1)
        assert list(splits[name].columns) == [*manifest["features"], "__target__"]
    assert hash_splits(splits) == prepared.data_hash  # the hash is of the arrays as written


def test_prepare_again_does_no_work(tmp_path: Path) -> None:
    out = tmp_path / "wine"
    first, worked = prepare_data(WINE, 0, out)
    assert worked
    mtimes = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    second, worked = prepare_data(WINE, 0, out)
    assert not worked
    assert second == first
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == mtimes


def test_different_seed_gives_a_different_split(tmp_path: Path) -> None:
    a, _ = prepare_data(WINE, 0, tmp_path / "a")
    b, _ = prepare_data(WINE, 1, tmp_path / "b")
    assert a.data_hash != b.data_hash
    assert a.shapes == b.shapes
    # Preparing into the same folder with a new seed redoes the work.
    c, worked = prepare_data(WINE, 1, tmp_path / "a")
    assert worked and c.data_hash == b.data_hash


def test_changed_csv_is_prepared_again(tmp_path: Path) -> None:
    csv = tmp_path / "t.csv"
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=60), "y": np.tile([0, 1, 2], 20)})
    frame.to_csv(csv, index=False)
    cfg = DataConfig(source=str(csv), target="y")
    first, _ = prepare_data(cfg, 0, tmp_path / "out")
    frame.loc[0, "x"] += 1.0
    frame.to_csv(csv, index=False)
    second, worked = prepare_data(cfg, 0, tmp_path / "out")
    assert worked and second.data_hash != first.data_hash


def test_load_arrays_reads_a_split(tmp_path: Path) -> None:
    prepared, _ = prepare_data(WINE, 0, tmp_path / "wine")
    X, y = load_arrays(prepared.path, prepared.data_hash, "val")
    assert X.dtype == np.float32 and X.shape == tuple(prepared.shapes["val"])
    assert y.shape == (prepared.shapes["val"][0],) and set(np.unique(y)) <= {0, 1, 2}
    frame = pd.read_parquet(Path(prepared.path) / "val.parquet")
    np.testing.assert_array_equal(X, frame.drop(columns="__target__").to_numpy(np.float32))
    np.testing.assert_array_equal(y, frame["__target__"].to_numpy())


# ---------------------------------------------------------------------------------------------
# split_and_scale on frames built for the purpose


def labelled(n: int, classes: list[int], weights: list[float], seed: int = 0):
    rng = np.random.default_rng(seed)
    counts = [int(round(n * w)) for w in weights]
    y = pd.Series(np.repeat(classes, counts), name="y")
    X = pd.DataFrame(
        {"a": rng.normal(5.0, 3.0, len(y)), "b": rng.uniform(-10, 0, len(y)), "row": np.arange(len(y), dtype=float)}
    )
    return X, y


def test_split_sizes_follow_test_and_val_size() -> None:
    X, y = labelled(200, [0, 1], [0.5, 0.5])
    cfg = DataConfig(source="x.csv", test_size=0.25, val_size=0.2)
    splits, meta = split_and_scale(X, y, cfg, 0)
    # 200 * 0.25 = 50 held out; 150 * 0.2 = 30 for validation; 120 to train.
    assert {k: len(v) for k, v in splits.items()} == {"train": 120, "val": 30, "test": 50}
    assert meta["n_rows"] == 200
    splits, _ = split_and_scale(X, y, DataConfig(source="x.csv", test_size=0.5, val_size=0.5), 0)
    assert {k: len(v) for k, v in splits.items()} == {"train": 50, "val": 50, "test": 100}


@pytest.mark.parametrize("seed", range(4))
def test_classification_split_is_stratified(seed: int) -> None:
    # 90/10 imbalance: a stratified split gives each part within one row of 10% minority.
    X, y = labelled(300, [0, 1], [0.9, 0.1], seed)
    splits, meta = split_and_scale(X, y, DataConfig(source="x.csv"), seed)
    assert meta["task"] == "classification"
    for name, part in splits.items():
        minority = int((part["__target__"] == 1).sum())
        assert abs(minority - 0.1 * len(part)) <= 1, (name, minority, len(part))


def test_standardization_uses_train_statistics_only() -> None:
    X, y = labelled(200, [0, 1, 2], [0.4, 0.3, 0.3])
    splits, _ = split_and_scale(X, y, DataConfig(source="x.csv"), 0)
    feats = ["a", "b", "row"]
    train = splits["train"][feats]
    np.testing.assert_allclose(train.mean(), 0.0, atol=1e-5)
    np.testing.assert_allclose(train.std(ddof=0), 1.0, atol=1e-5)
    # Val is scaled with train's mean and std, so its own are not exactly 0 and 1.
    val = splits["val"][feats]
    assert (val.mean().abs() > 1e-3).any()
    assert ((val.std(ddof=0) - 1.0).abs() > 1e-3).any()
    # Exactly which statistics: `row` was 0..n-1, so the three parts together are an arithmetic
    # progression under one affine map (x - m) / s. Undo it and compare m, s with the train rows.
    rows = np.sort(np.concatenate([splits[s]["row"].to_numpy(np.float64) for s in SPLITS]))
    s = 1.0 / np.median(np.diff(rows))
    m = -rows[0] * s
    raw = {k: np.rint(v["row"].to_numpy(np.float64) * s + m).astype(int) for k, v in splits.items()}
    assert sorted(np.concatenate(list(raw.values())).tolist()) == list(range(len(y)))
    assert m == pytest.approx(raw["train"].mean(), rel=1e-4)
    assert s == pytest.approx(raw["train"].std(), rel=1e-4)
    assert m != pytest.approx(np.arange(len(y)).mean(), rel=1e-3)  # not all rows' mean


def test_constant_feature_is_not_divided_by_zero() -> None:
    X, y = labelled(100, [0, 1], [0.5, 0.5])
    X["const"] = 7.0
    splits, _ = split_and_scale(X, y, DataConfig(source="x.csv"), 0)
    for part in splits.values():
        assert np.isfinite(part.to_numpy()).all()
        assert (part["const"] == 0.0).all()


def test_too_few_rows_to_split_is_a_data_error() -> None:
    X = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0]})
    y = pd.Series([0, 1, 2, 3])
    with pytest.raises(DataError, match="cannot split 4 rows"):
        split_and_scale(X, y, DataConfig(source="x.csv"), 0)


# ---------------------------------------------------------------------------------------------
# CSV sources


def test_csv_with_string_target_and_categorical_feature(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    n = 60
    frame = pd.DataFrame(
        {
            "size": rng.normal(10, 2, n),
            "color": rng.choice(["red", "green", "blue"], n),
            "label": np.tile(["cat", "dog"], n // 2),
        }
    )
    csv = tmp_path / "pets.csv"
    frame.to_csv(csv, index=False)
    cfg = DataConfig(source=str(csv), target="label")
    prepared, worked = prepare_data(cfg, 0, tmp_path / "out")
    assert worked
    assert (prepared.task, prepared.n_classes) == ("classification", 2)
    manifest = json.loads((tmp_path / "out" / MANIFEST).read_text())
    assert manifest["classes"] == ["cat", "dog"]
    assert manifest["features"] == ["size", "color_blue", "color_green", "color_red"]
    assert prepared.n_features == 4
    splits = read_splits(prepared.path)
    both = pd.concat(list(splits.values()))
    assert len(both) == n
    assert sorted(both["__target__"].unique().tolist()) == [0, 1]
    assert int((both["__target__"] == 0).sum()) == int((frame["label"] == "cat").sum())
    # One-hot columns: exactly one of the three is "on" per row, whatever the scaling.
    onehot = both[["color_blue", "color_green", "color_red"]].to_numpy()
    on = onehot > onehot.min(axis=0) + 1e-6
    assert (on.sum(axis=1) == 1).all()
    assert on.sum(axis=0).tolist() == [int((frame["color"] == c).sum()) for c in ("blue", "green", "red")]


def test_csv_with_missing_feature_values_is_a_data_error(tmp_path: Path) -> None:
    csv = tmp_path / "holes.csv"
    csv.write_text("a,b,y\n1.0,2.0,0\n,3.0,1\n2.0,4.0,0\n3.0,5.0,1\n")
    with pytest.raises(DataError, match="missing values") as info:
        prepare_data(DataConfig(source=str(csv), target="y"), 0, tmp_path / "out")
    assert "a" in str(info.value)
    assert not (tmp_path / "out").exists()


def test_csv_with_missing_target_values_is_a_data_error(tmp_path: Path) -> None:
    csv = tmp_path / "holes.csv"
    csv.write_text("a,y\n1.0,0\n2.0,\n3.0,1\n4.0,0\n")
    with pytest.raises(DataError, match="data.target"):
        prepare_data(DataConfig(source=str(csv), target="y"), 0, tmp_path / "out")


def test_csv_with_float_target_is_regression(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=50), "b": rng.normal(size=50)})
    frame["y"] = 3.0 * frame["a"] - frame["b"] + 0.5
    csv = tmp_path / "reg.csv"
    frame.to_csv(csv, index=False)
    prepared, _ = prepare_data(DataConfig(source=str(csv), target="y"), 0, tmp_path / "out")
    assert (prepared.task, prepared.n_classes, prepared.n_features) == ("regression", 0, 2)
    both = pd.concat(list(read_splits(prepared.path).values()))
    # The target is kept as is (not standardized, not binned).
    np.testing.assert_allclose(np.sort(both["__target__"].to_numpy()), np.sort(frame["y"].to_numpy()), rtol=1e-6)


def test_parquet_source(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=40), "y": np.tile([0, 1], 20)})
    path = tmp_path / "t.parquet"
    frame.to_parquet(path)
    prepared, _ = prepare_data(DataConfig(source=str(path), target="y"), 0, tmp_path / "out")
    assert (prepared.task, prepared.n_classes, prepared.n_features) == ("classification", 2, 1)


# ---------------------------------------------------------------------------------------------
# infer_task


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (pd.Series([0, 1, 2, 1]), "classification"),
        (pd.Series(["a", "b", "a"], dtype=object), "classification"),
        (pd.Series(["a", "b", "a"], dtype="string"), "classification"),
        (pd.Series(pd.Categorical(["a", "b"])), "classification"),
        (pd.Series([True, False]), "classification"),
        (pd.Series([0.5, 1.25, 2.0]), "regression"),
        (pd.Series(np.arange(51)), "regression"),  # more than 50 distinct integers
    ],
)
def test_infer_task(values: pd.Series, expected: str) -> None:
    assert infer_task(values, "auto") == expected


def test_infer_task_respects_an_explicit_task() -> None:
    assert infer_task(pd.Series([0.5, 1.5]), "classification") == "classification"
    assert infer_task(pd.Series([0, 1]), "regression") == "regression"
