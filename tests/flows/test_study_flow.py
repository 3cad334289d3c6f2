"""The real study flow: real Prefect server, real Dask LocalCluster, real Optuna storage, torch."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from ablate.config.load import load_params
from ablate.errors import NoTrialCompletedError
from ablate.study.importance import COLUMNS
from ablate.study.storage import load_study
from flows.pipeline import study_flow, without_heartbeats
from tests.flows.helpers import deep_update, quick_study, write_params

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_api")]


def run_json(params_path: Path, name: str) -> dict:
    return json.loads((params_path.parent / "reports" / name / "run.json").read_text())


def test_mlp_study_end_to_end_then_rerun_and_reuse(tmp_path: Path) -> None:
    changes = {"trial": {"options": {"epochs": 3}}, "search": {"sampler": "random", "n_trials": 4}}
    path = write_params(tmp_path, "mlp", changes)
    summary = study_flow(load_params(path)).to_record()

    assert (summary["complete"], summary["executed"], summary["cached"]) == (4, 4, 0)
    report = tmp_path / "reports" / "mlp"
    trials = pd.read_csv(report / "trials.csv")
    assert list(trials["number"]) == [0, 1, 2, 3]
    assert set(trials["state"]) == {"COMPLETE"}
    assert trials["val_accuracy"].between(0.0, 1.0).all()
    assert trials["val_accuracy"].max() > 0.8  # 3 epochs on digits: the best is far above chance (0.1)
    assert {"hidden_units", "lr", "duration_s", "worker", "error"} <= set(trials.columns)
    figures = ("history.png", "params.png", "parallel.png", "curves.png", "importance.png")
    for name in ("report.md", "index.html", "run.json", "importance.csv", *figures):
        assert (report / name).stat().st_size > 0
    # 4 trials: too few to rate the knobs; the report says so, importance.csv is its header alone.
    assert pd.read_csv(report / "importance.csv").columns.tolist() == COLUMNS
    md = (report / "report.md").read_text()
    assert "No parameter importance: too few complete trials for parameter importance: 4" in md
    assert "![curves](curves.png)" in md  # the MLP reports every epoch
    for n in range(4):
        trial_dir = tmp_path / "data" / "studies" / "mlp" / "trials" / str(n)
        assert {"model.pt", "params.json", "result.json", "trial.log", "history.jsonl"} <= {
            p.name for p in trial_dir.iterdir()
        }

    # The importance as computed, with what it was computed from: the next report of the same trials
    # reads it back (shown by a record doctored under the same key) instead of refitting.
    record = json.loads((report / ".importance.json").read_text())
    (report / ".importance.json").write_text(json.dumps({**record, "reason": "read back, not refit"}))

    again = study_flow(load_params(path)).to_record()  # a finished study: nothing to run
    assert (again["executed"], again["cached"], again["complete"]) == (0, 0, 4)
    assert "No parameter importance: read back, not refit" in (report / "report.md").read_text()

    other = write_params(tmp_path, "mlp-copy", changes)  # same seed and sampler: same configurations
    reused = study_flow(load_params(other)).to_record()
    assert (reused["executed"], reused["cached"], reused["complete"]) == (0, 4, 4)
    copy = pd.read_csv(tmp_path / "reports" / "mlp-copy" / "trials.csv")
    assert copy["val_accuracy"].tolist() == trials["val_accuracy"].tolist()
    # Each row says where its result came from: the same content address, computed by the same code.
    assert copy["cached"].all() and not trials["cached"].any()
    assert copy["cache_key"].tolist() == trials["cache_key"].tolist()
    assert copy["code_version"].tolist() == trials["code_version"].tolist() and trials["code_version"].notna().all()
    assert (tmp_path / "data" / "studies" / "mlp-copy" / "trials" / "2" / "model.pt").exists()


def test_flaky_trials_complete_by_retry(tmp_path: Path) -> None:
    changes = deep_update(
        quick_study(), {"trial": {"entrypoint": "tests.flows.trial_fns:flaky"}, "execution": {"retries": 1}}
    )
    summary = study_flow(load_params(write_params(tmp_path, "flaky", changes))).to_record()
    assert (summary["complete"], summary["failed"], summary["executed"]) == (4, 0, 4)
    trials_dir = tmp_path / "data" / "studies" / "flaky" / "trials"
    assert len(list(trials_dir.glob(".flaky-*"))) == 4  # each configuration did fail once
    assert not list(trials_dir.glob("*/error.txt"))  # the retry's outputs replaced the failure's


def test_failing_trials_are_recorded_and_the_flow_fails(tmp_path: Path) -> None:
    changes = deep_update(
        quick_study(), {"trial": {"entrypoint": "tests.flows.trial_fns:always_fails"}, "execution": {"retries": 1}}
    )
    params = load_params(write_params(tmp_path, "broken", changes))
    with pytest.raises(NoTrialCompletedError, match="no trial completed: 4 of 4 trials failed"):
        study_flow(params)
    trials = pd.read_csv(tmp_path / "reports" / "broken" / "trials.csv")
    assert list(trials["state"]) == ["FAIL"] * 4
    assert trials["error"].str.contains("always_fails: no configuration works").all()
    assert (tmp_path / "data" / "studies" / "broken" / "trials" / "0" / "error.txt").exists()


def test_a_trial_past_its_timeout_fails_with_reason_timeout(tmp_path: Path) -> None:
    changes = deep_update(
        quick_study(n_trials=3),
        {
            "trial": {"entrypoint": "tests.flows.trial_fns:too_slow"},
            "search": {"n_trials": 2},
            "execution": {"trial_timeout_s": 1.5, "retries": 2, "retry_delay_s": 5.0},
        },
    )
    params = load_params(write_params(tmp_path, "slow", changes))
    with pytest.raises(NoTrialCompletedError):
        study_flow(params)
    study = load_study(params)
    assert [t.user_attrs["reason"] for t in study.trials] == ["timeout", "timeout"]
    assert all("timeout" in t.user_attrs["error"] for t in study.trials)
    # A timeout is not retried (retries=2 would have started each trial three times).
    starts = (tmp_path / "data" / "studies" / "slow" / "starts.log").read_text().split()
    assert sorted(starts) == ["0", "1"]


def test_flow_runs_started_inside_send_no_heartbeats_nested_or_not(monkeypatch: pytest.MonkeyPatch) -> None:
    """The command's block around the study flow holds for the search and ablation flows inside
    it (which enter it again, as a flow called from Python needs), and is undone on the way out."""
    from prefect.settings import get_current_settings

    monkeypatch.delenv("PREFECT_FLOWS_HEARTBEAT_FREQUENCY", raising=False)
    before = get_current_settings().flows.heartbeat_frequency
    assert before is not None  # Prefect's default: a heartbeat every 180 s
    with without_heartbeats():
        assert get_current_settings().flows.heartbeat_frequency is None
        with without_heartbeats():
            assert get_current_settings().flows.heartbeat_frequency is None
        assert get_current_settings().flows.heartbeat_frequency is None
    assert get_current_settings().flows.heartbeat_frequency == before
