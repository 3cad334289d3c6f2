"""Unit tests for ablate.study.growth: how many trials a scheduled run of an anytime study asks for."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from ablate.config.load import load_params
from ablate.errors import ConfigError
from ablate.study.growth import grown_n_trials
from ablate.study.storage import open_storage

ROOT = Path(__file__).resolve().parents[3]


def params_with_trials(tmp_path: Path, states: list[TrialState]):  # noqa: ANN201
    params = load_params(ROOT / "params" / "digits.yaml", [f"paths.data={tmp_path / 'data'}"])
    if states:
        params.study_dir.mkdir(parents=True)
        study = optuna.create_study(storage=open_storage(params), study_name=params.study.name)
        for state in states:
            trial = study.ask()
            study.tell(trial, 0.5 if state == TrialState.COMPLETE else None, state=state)
        study.ask()  # a trial still running counts for nothing
    return params


def test_a_new_study_gets_grow_by_trials(tmp_path: Path) -> None:
    assert grown_n_trials(params_with_trials(tmp_path, []), 8) == 8


def test_every_finished_trial_counts_and_the_cap_holds(tmp_path: Path) -> None:
    params = params_with_trials(tmp_path, [TrialState.COMPLETE] * 3 + [TrialState.PRUNED, TrialState.FAIL])
    assert grown_n_trials(params, 8) == 13
    assert grown_n_trials(params, 8, max_trials=10) == 10
    assert grown_n_trials(params, 8, max_trials=4) == 5  # past a lowered cap: nothing more to run


def test_grow_by_below_one_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"grow_by must be an integer >= 1, but got 0"):
        grown_n_trials(params_with_trials(tmp_path, []), 0)
