"""prepare: load a data set, split it deterministically, standardize it, write it versioned.

The prepared folder holds ``train/val/test.parquet`` and ``manifest.json`` (a content hash of the
arrays, shapes, feature names, class labels and the fingerprint of the inputs). Preparing again
with the same inputs finds the manifest and does no work.
"""

from __future__ import annotations

import functools
import hashlib
import json
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ablate._atomic import staged_dir
from ablate.errors import ConfigError, DataError
from ablate.vocab.params import DataConfig
from ablate.vocab.trial import PreparedData

if TYPE_CHECKING:
    import pandas as pd

MANIFEST = "manifest.json"
SPLITS = ("train", "val", "test")
# A target with at most this many distinct integer values is taken for classes when task is auto.
MAX_AUTO_CLASSES = 50


# ---------------------------------------------------------------------------------------------
# Loading the raw source


def load_source(cfg: DataConfig) -> tuple[pd.DataFrame, pd.Series]:
    """Load ``data.source`` as a feature frame and a target series."""
    if cfg.source.startswith("sklearn:"):
        return _load_sklearn(cfg.source.split(":", 1)[1])
    frame = _read_table(Path(cfg.source))
    if cfg.target not in frame.columns:
        raise DataError(f"data.target: must be a column of {cfg.source}, but got {cfg.target!r}")
    return frame.drop(columns=[cfg.target]), frame[cfg.target]


# Generated data sets, with fixed arguments: 3 classes, 12 features (6 informative), label noise.
_MAKE_CLASSIFICATION = dict(n_samples=1200, n_features=12, n_informative=6, n_redundant=2, n_classes=3, flip_y=0.03)
GENERATED = {"make_classification": {**_MAKE_CLASSIFICATION, "random_state": 0}}


def _load_sklearn(name: str) -> tuple[pd.DataFrame, pd.Series]:
    import pandas as pd
    from sklearn import datasets

    if name in GENERATED:
        x, y = getattr(datasets, name)(**GENERATED[name])
        return pd.DataFrame(x, columns=_generated_columns(name)), pd.Series(y, name="target")
    bunch = getattr(datasets, f"load_{name}")(as_frame=True)
    return bunch.data, bunch.target.rename("target")


def _generated_columns(name: str) -> list[str]:
    return [f"x{i}" for i in range(int(GENERATED[name]["n_features"]))]


def _read_table(path: Path) -> pd.DataFrame:
    import pandas as pd

    if path.suffix.lower() == ".parquet":
        return pd.read_parquet(path)
    return pd.read_csv(path)


def check_source(cfg: DataConfig, params_file: str, key: str = "data.source") -> None:
    """Check, without loading it whole, that the source exists and has the target column.

    Args:
        key: where the params file names the source (``data.sources.<name>`` for one of several).

    Raises:
        ConfigError: naming ``key`` or ``data.target``.
    """
    if cfg.source.startswith("sklearn:"):
        if cfg.target != "target":
            raise ConfigError(params_file, "data.target", f"must be 'target' for {cfg.source}, but got {cfg.target!r}")
        return
    path = Path(cfg.source)
    if not path.is_file():
        raise ConfigError(params_file, key, f"must be an existing file, but {cfg.source} was not found")
    columns = _columns_of(path, params_file, key)
    if cfg.target not in columns:
        shown = ", ".join(columns[:8]) + (", ..." if len(columns) > 8 else "")
        raise ConfigError(
            params_file, "data.target", f"must be a column of {cfg.source} ({shown}), but got {cfg.target!r}"
        )


def source_columns(cfg: DataConfig) -> list[str]:
    """The feature columns of ``data.source`` (without the target), as the prepare step names them
    for numeric columns; read from the header only for files."""
    if cfg.source.startswith("sklearn:"):
        from sklearn import datasets

        name = cfg.source.split(":", 1)[1]
        if name in GENERATED:
            return _generated_columns(name)
        bunch = getattr(datasets, f"load_{name}")()
        return [str(c) for c in bunch.feature_names]
    return [c for c in _columns_of(Path(cfg.source), cfg.source) if c != cfg.target]


def _columns_of(path: Path, params_file: str, key: str = "data.source") -> list[str]:
    import pandas as pd

    try:
        if path.suffix.lower() == ".parquet":
            import pyarrow.parquet as pq

            return list(pq.read_schema(path).names)
        return list(pd.read_csv(path, nrows=0).columns)
    except Exception as err:  # any parser error means the same to the user: unreadable file
        raise ConfigError(params_file, key, f"must be a readable table, but {path}: {err}") from None


# ---------------------------------------------------------------------------------------------
# Preparing


def fingerprint_inputs(cfg: DataConfig, seed: int) -> str:
    """A hash of everything that decides the prepared arrays: the source's bytes and the split."""
    h = hashlib.sha256()
    if cfg.source.startswith("sklearn:"):
        name = cfg.source.split(":", 1)[1]
        h.update(f"{cfg.source}@{metadata.version('scikit-learn')}{GENERATED.get(name, '')}".encode())
    else:
        h.update(_file_digest(Path(cfg.source)).encode())
    h.update(json.dumps([cfg.target, cfg.test_size, cfg.val_size, cfg.task, seed]).encode())
    return h.hexdigest()


def _file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def is_prepared(cfg: DataConfig, seed: int, out_dir: Path) -> bool:
    """Whether ``out_dir`` holds ``cfg`` prepared with ``seed`` from the source as it is now."""
    manifest = read_manifest(out_dir)
    return manifest is not None and manifest.get("fingerprint") == fingerprint_inputs(cfg, seed)


def prepare_data(cfg: DataConfig, seed: int, out_dir: Path) -> tuple[PreparedData, bool]:
    """Prepare ``cfg`` into ``out_dir`` unless a manifest for the same inputs is already there.

    Returns:
        The prepared data and whether any work was done.
    """
    fingerprint = fingerprint_inputs(cfg, seed)
    existing = read_manifest(out_dir)
    if existing is not None and existing.get("fingerprint") == fingerprint:
        return _from_manifest(out_dir, existing), False
    X, y = load_source(cfg)
    splits, meta = split_and_scale(X, y, cfg, seed)
    manifest = _write_prepared(out_dir, splits, {**meta, "fingerprint": fingerprint, "source": cfg.source})
    return _from_manifest(out_dir, manifest), True


def split_and_scale(X: pd.DataFrame, y: pd.Series, cfg: DataConfig, seed: int) -> tuple[dict[str, pd.DataFrame], dict]:
    """Split into train/val/test (stratified for classes) and standardize by train statistics."""
    from sklearn.model_selection import train_test_split

    X = _encode_features(X)
    task = infer_task(y, cfg.task)
    y_codes, classes = _encode_target(y, task)
    strat = y_codes if task == "classification" else None
    idx = np.arange(len(X))
    try:
        rest, test = train_test_split(idx, test_size=cfg.test_size, random_state=seed, stratify=strat)
        strat_rest = strat[rest] if strat is not None else None
        train, val = train_test_split(rest, test_size=cfg.val_size, random_state=seed, stratify=strat_rest)
    except ValueError as err:
        raise DataError(f"data: cannot split {len(X)} rows as asked (test_size, val_size): {err}") from None
    mean = X.iloc[train].mean()
    std = X.iloc[train].std(ddof=0).replace(0.0, 1.0)
    splits = {}
    for name, rows in zip(SPLITS, (train, val, test)):
        part = ((X.iloc[rows] - mean) / std).astype("float32").reset_index(drop=True)
        part["__target__"] = y_codes[rows]
        splits[name] = part
    meta = {"task": task, "classes": classes, "features": list(X.columns), "n_rows": len(X)}
    return splits, meta


def infer_task(y: pd.Series, task: str) -> str:
    """``classification`` for labels (strings, booleans, few distinct integers), else ``regression``."""
    import pandas as pd

    if task != "auto":
        return task
    # Strings, categories and booleans are labels (pandas 3 reads strings as the `str` dtype).
    if not pd.api.types.is_numeric_dtype(y) or pd.api.types.is_bool_dtype(y):
        return "classification"
    if pd.api.types.is_integer_dtype(y) and y.nunique() <= MAX_AUTO_CLASSES:
        return "classification"
    return "regression"


def _encode_features(X: pd.DataFrame) -> pd.DataFrame:
    import pandas as pd

    missing = X.columns[X.isna().any()].tolist()
    if missing:
        raise DataError(f"data: features must have no missing values, but {', '.join(map(str, missing[:5]))} do")
    categorical = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
    if categorical:
        X = pd.get_dummies(X, columns=categorical, dtype="float32")
    X.columns = [str(c) for c in X.columns]
    return X.astype("float64")


def _encode_target(y: pd.Series, task: str) -> tuple[np.ndarray, list]:
    if y.isna().any():
        raise DataError("data.target: must have no missing values, but some rows have none")
    if task == "regression":
        return y.to_numpy(dtype="float32"), []
    classes = sorted(y.unique().tolist(), key=str)
    lookup = {c: i for i, c in enumerate(classes)}
    return y.map(lookup).to_numpy(dtype="int64"), [c if isinstance(c, (int, str)) else str(c) for c in classes]


def _write_prepared(out_dir: Path, splits: dict[str, pd.DataFrame], meta: dict) -> dict:
    """Write the splits and their manifest (returned); a reader never sees a half-written folder."""
    with staged_dir(out_dir) as tmp:
        for name, frame in splits.items():
            frame.to_parquet(tmp / f"{name}.parquet", index=False)
        meta = {
            **meta,
            "data_hash": hash_splits(splits),
            "shapes": {n: [len(f), f.shape[1] - 1] for n, f in splits.items()},
            "n_features": splits["train"].shape[1] - 1,
            "n_classes": len(meta["classes"]),
        }
        (tmp / MANIFEST).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    return meta


def hash_splits(splits: dict[str, pd.DataFrame]) -> str:
    """A content hash of the arrays themselves (not of Parquet bytes, which vary by writer)."""
    h = hashlib.sha256()
    for name in SPLITS:
        frame = splits[name]
        h.update(name.encode())
        h.update(json.dumps(list(map(str, frame.columns))).encode())
        h.update(np.ascontiguousarray(frame.to_numpy(dtype="float64")).tobytes())
    return h.hexdigest()


def read_manifest(out_dir: Path) -> dict | None:
    try:
        return json.loads((out_dir / MANIFEST).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def load_prepared_info(out_dir: Path) -> PreparedData:
    """The prepared data set at ``out_dir``; raises when ``prepare`` has not made it."""
    m = read_manifest(out_dir)
    if m is None:
        raise DataError(f"{out_dir}: no prepared data here; run the prepare step first (ablate prepare PARAMS)")
    return _from_manifest(out_dir, m)


def _from_manifest(out_dir: Path, m: dict) -> PreparedData:
    return PreparedData(
        path=str(out_dir),
        data_hash=m["data_hash"],
        task=m["task"],
        n_features=m["n_features"],
        n_classes=m["n_classes"],
        shapes=m["shapes"],
    )


# ---------------------------------------------------------------------------------------------
# Reading it back (in trials)


@functools.lru_cache(maxsize=4)
def load_arrays(path: str, data_hash: str, split: str) -> tuple[np.ndarray, np.ndarray]:
    """``(X, y)`` of one split; cached per worker process, keyed by content hash."""
    import pandas as pd

    frame = pd.read_parquet(Path(path) / f"{split}.parquet")
    y = frame.pop("__target__").to_numpy()
    return frame.to_numpy(dtype="float32"), y


@functools.lru_cache(maxsize=8)
def read_features(path: str, data_hash: str) -> tuple[str, ...]:
    """The feature column names of a prepared data set, in array order (cached by content hash)."""
    m = read_manifest(Path(path))
    if m is None:
        raise DataError(f"{path}: no prepared data here; run the prepare step first")
    return tuple(m["features"])
