"""Unit tests for the built-in trial, ablate.models.mlp:train, run through execute_trial on CPU."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from ablate.config import DataConfig
from ablate.data import PreparedData, load_arrays, prepare_data
from ablate.errors import TrialError
from ablate.models.mlp import MLPParams, build_mlp, evaluate
from ablate.trial import ERROR, RESULT, TrialSpec, code_version, execute_trial

ENTRYPOINT = "ablate.models.mlp:train"
SMALL = {"hidden_layers": 1, "hidden_units": 16, "epochs": 3, "batch_size": 32, "lr": 0.01}


@pytest.fixture(scope="module")
def wine(tmp_path_factory: pytest.TempPathFactory) -> PreparedData:
    prepared, _ = prepare_data(DataConfig(source="sklearn:wine"), 0, tmp_path_factory.mktemp("data") / "wine")
    return prepared


@pytest.fixture(scope="module")
def regression(tmp_path_factory: pytest.TempPathFactory) -> PreparedData:
    root = tmp_path_factory.mktemp("reg")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    y = X @ np.array([2.0, -1.0, 0.5]) + 0.1 * rng.normal(size=200)
    csv = root / "linear.csv"
    pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "c": X[:, 2], "y": y}).to_csv(csv, index=False)
    prepared, _ = prepare_data(DataConfig(source=str(csv), target="y"), 0, root / "prepared")
    assert prepared.task == "regression"
    return prepared


def spec(
    tmp_path: Path, data: PreparedData, params: dict[str, Any] | None = None, number: int = 0, seed: int = 0
) -> TrialSpec:
    return TrialSpec(
        study="unit",
        number=number,
        params=dict(SMALL if params is None else params),
        seed=seed,
        entrypoint=ENTRYPOINT,
        code_version=code_version(ENTRYPOINT),
        data=data,
        trials_dir=str(tmp_path / "trials"),
        device="cpu",
    )


def history(out: Path) -> list[dict[str, float]]:
    return [json.loads(line) for line in (out / "history.jsonl").read_text().splitlines()]


def test_train_on_wine_writes_the_trial_folder(tmp_path: Path, wine: PreparedData) -> None:
    s = spec(tmp_path, wine, number=3)
    result = execute_trial(s)
    assert set(result.metrics) == {"train_loss", "val_loss", "val_accuracy"}
    assert 0.0 <= result.metrics["val_accuracy"] <= 1.0
    assert result.metrics["train_loss"] > 0 and result.metrics["val_loss"] > 0
    out = tmp_path / "trials" / "3"
    assert sorted(p.name for p in out.iterdir()) == ["history.jsonl", "model.pt", "params.json", RESULT, "trial.log"]
    assert json.loads((out / "params.json").read_text()) == SMALL
    rows = history(out)
    assert [r["step"] for r in rows] == [1, 2, 3]
    assert {k: v for k, v in rows[-1].items() if k != "step"} == result.metrics
    assert json.loads((out / RESULT).read_text())["metrics"] == result.metrics
    assert result.provenance["device"] == "cpu"
    # model.pt is the trained model: reloaded, it scores exactly the reported val accuracy.
    model = build_mlp(wine.n_features, wine.n_classes, MLPParams.from_dict(SMALL))
    model.load_state_dict(torch.load(out / "model.pt"))
    X_va, y_va = load_arrays(wine.path, wine.data_hash, "val")
    metrics = evaluate(model, nn.CrossEntropyLoss(), torch.as_tensor(X_va.copy()), torch.as_tensor(y_va.copy()), True)
    assert metrics["val_accuracy"] == result.metrics["val_accuracy"]


def test_training_learns_wine(tmp_path: Path, wine: PreparedData) -> None:
    # Three balanced-ish classes (chance ~0.4); standardized wine is close to linearly separable.
    result = execute_trial(spec(tmp_path, wine, {**SMALL, "epochs": 10}))
    assert result.metrics["val_accuracy"] >= 0.85
    rows = history(tmp_path / "trials" / "0")
    assert rows[-1]["train_loss"] < rows[0]["train_loss"]


def test_same_seed_is_bit_for_bit_reproducible(tmp_path: Path, wine: PreparedData) -> None:
    params = {**SMALL, "dropout": 0.2}  # dropout draws from the global RNG too
    a = execute_trial(spec(tmp_path, wine, params, number=0, seed=5))
    b = execute_trial(spec(tmp_path, wine, params, number=1, seed=5))
    assert a.metrics == b.metrics
    assert history(tmp_path / "trials" / "0") == history(tmp_path / "trials" / "1")
    wa = torch.load(tmp_path / "trials" / "0" / "model.pt")
    wb = torch.load(tmp_path / "trials" / "1" / "model.pt")
    assert wa.keys() == wb.keys() and all(torch.equal(wa[k], wb[k]) for k in wa)


def test_different_seed_gives_different_metrics(tmp_path: Path, wine: PreparedData) -> None:
    a = execute_trial(spec(tmp_path, wine, number=0, seed=0))
    b = execute_trial(spec(tmp_path, wine, number=1, seed=1))
    assert a.metrics["train_loss"] != b.metrics["train_loss"]


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({**SMALL, "colour": "red"}, r"mlp: unknown params \['colour'\]"),
        ({**SMALL, "activation": "sigmoid"}, "activation must be one of"),
        ({**SMALL, "optimizer": "lbfgs"}, "optimizer must be one of"),
    ],
)
def test_bad_params_fail_with_a_clear_message(
    tmp_path: Path, wine: PreparedData, params: dict[str, Any], match: str
) -> None:
    with pytest.raises(TrialError, match=match):
        execute_trial(spec(tmp_path, wine, params))
    out = tmp_path / "trials" / "0"
    assert "TrialError" in (out / ERROR).read_text() and not (out / RESULT).exists()


@pytest.mark.parametrize(
    "extra",
    [
        {"hidden_layers": 0},  # a linear model
        {"batchnorm": True, "dropout": 0.3, "batch_size": 16},  # 16 does not divide the train rows
        {"optimizer": "sgd", "weight_decay": 1e-4, "activation": "tanh"},
        {"optimizer": "adamw", "activation": "gelu", "hidden_layers": 2},
    ],
    ids=["linear", "batchnorm-dropout", "sgd", "adamw"],
)
def test_variants_train(tmp_path: Path, wine: PreparedData, extra: dict[str, Any]) -> None:
    result = execute_trial(spec(tmp_path, wine, {**SMALL, **extra}))
    assert all(math.isfinite(v) for v in result.metrics.values())
    assert 0.0 <= result.metrics["val_accuracy"] <= 1.0


def test_batchnorm_skips_a_last_batch_of_one(wine: PreparedData) -> None:
    # The premise of the batch_size=16 variant above: one train row is left for the last batch.
    assert wine.shapes["train"][0] % 16 == 1


def test_regression_on_a_generated_csv(tmp_path: Path, regression: PreparedData) -> None:
    result = execute_trial(spec(tmp_path, regression, {**SMALL, "epochs": 20, "batch_size": 16}))
    m = result.metrics
    assert set(m) == {"train_loss", "val_loss", "val_rmse", "val_r2"}
    assert m["val_rmse"] == pytest.approx(math.sqrt(m["val_loss"]))
    # y is linear in the features with noise sd 0.1 against a signal sd ~2.3: easy to fit.
    assert 0.8 < m["val_r2"] <= 1.0
    model = build_mlp(3, 1, MLPParams.from_dict({**SMALL, "epochs": 20, "batch_size": 16}))
    model.load_state_dict(torch.load(tmp_path / "trials" / "0" / "model.pt"))
    assert model[-1].out_features == 1


def test_build_mlp_layers() -> None:
    p = MLPParams(hidden_layers=2, hidden_units=8, activation="tanh", dropout=0.1, batchnorm=True)
    model = build_mlp(5, 3, p)
    kinds = [type(m) for m in model]
    assert kinds == [nn.Linear, nn.BatchNorm1d, nn.Tanh, nn.Dropout] * 2 + [nn.Linear]
    assert (model[0].in_features, model[-1].out_features) == (5, 3)
    plain = build_mlp(5, 1, dataclasses.replace(p, dropout=0.0, batchnorm=False, hidden_layers=1))
    assert [type(m) for m in plain] == [nn.Linear, nn.Tanh, nn.Linear]
