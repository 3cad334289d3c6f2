"""Unit tests for ablate.study.table: the trials table's columns, rows, counts and best trial."""

from __future__ import annotations

from pathlib import Path

from ablate.study.session import StudySession
from ablate.study.storage import load_study, needs_trials
from ablate.study.table import best_of, count_states, trials_frame
from ablate.vocab.columns import FIXED_COLUMNS, FLAGS
from tests.ablate.study.test_session import DATA, SPACE_NAMES, fake_result, make_params, score


def test_trials_frame_columns_and_rows(tmp_path: Path) -> None:
    params = make_params(tmp_path, n_trials=4)
    session = StudySession(params, DATA, "v1")
    specs = [session.ask() for _ in range(4)]
    session.tell_result(specs[2].number, fake_result(specs[2]))
    session.tell_failure(specs[1].number, "ValueError: boom", "error", duration_s=1.5)
    metrics = {"val_accuracy": 0.9, "val_loss": 0.2, "train_loss": 0.1}
    session.tell_result(specs[0].number, fake_result(specs[0], metrics))
    # specs[3] is still RUNNING
    frame = trials_frame(load_study(params), params)
    assert list(frame.columns) == [
        "number",
        "state",
        "val_accuracy",
        "val_loss",
        "train_loss",
        *SPACE_NAMES,
        "enqueued",
        "n_seeds",
        "duration_s",
        "worker",
        "error",
        "reason",
        "straggler",
        "note",
        "host",
        "worker_address",
        "job_id",
        "cached",
        "cache_key",
        "git_commit",
        "code_version",
    ]
    assert frame["number"].tolist() == [0, 1, 2, 3]
    assert frame["state"].tolist() == ["COMPLETE", "FAIL", "COMPLETE", "RUNNING"]
    assert frame.loc[0, "val_accuracy"] == 0.9 and frame.loc[0, "train_loss"] == 0.1
    assert frame.loc[2, "val_accuracy"] == score(specs[2].params)
    assert frame["val_accuracy"].isna().tolist() == [False, True, False, True]
    assert frame.loc[1, "error"] == "ValueError: boom" and frame.loc[0, "error"] == ""
    assert frame["reason"].tolist() == ["", "error", "", ""]
    assert frame["straggler"].tolist() == frame["note"].tolist() == ["", "", "", ""]
    assert frame["duration_s"].tolist()[:3] == [0.25, 1.5, 0.25]
    assert frame.loc[0, "worker"] == "w1" and frame.loc[1, "worker"] == ""
    assert frame["enqueued"].tolist() == [False] * 4 and frame["n_seeds"].tolist() == [1] * 4
    for i, spec in enumerate(specs):
        assert {n: frame.loc[i, n] for n in SPACE_NAMES} == {n: spec.params[n] for n in SPACE_NAMES}
    assert count_states(frame) == {"complete": 2, "pruned": 0, "failed": 1, "running": 1}
    best = best_of(load_study(params), params)
    assert best["number"] == 0 and best["value"] == 0.9 and best["params"] == specs[0].params


def test_trials_frame_of_a_study_never_run(tmp_path: Path) -> None:
    params = make_params(tmp_path)
    assert load_study(params) is None and needs_trials(params)
    frame = trials_frame(None, params)
    assert frame.empty
    assert list(frame.columns) == [
        "number",
        "state",
        "val_accuracy",
        *SPACE_NAMES,
        "enqueued",
        "n_seeds",
        "duration_s",
        "worker",
        "error",
        "reason",
        "straggler",
        "note",
        "host",
        "worker_address",
        "job_id",
        "cached",
        "cache_key",
        "git_commit",
        "code_version",
    ]
    assert best_of(None, params) is None


def test_best_of_minimize(tmp_path: Path) -> None:
    params = make_params(tmp_path, n_trials=3, direction="minimize", metric="val_loss")
    session = StudySession(params, DATA, "v1")
    values = {}
    for _ in range(3):
        spec = session.ask()
        session.tell_result(spec.number, fake_result(spec))
        values[spec.number] = 1.0 - score(spec.params)
    best = best_of(load_study(params), params)
    assert best["value"] == min(values.values()) and best["metric"] == "val_loss"
    assert values[best["number"]] == best["value"]


# ---------------------------------------------------------------------------------------------
# The study lock


def test_a_metric_named_like_a_fixed_column_never_overwrites_it(tmp_path: Path) -> None:
    # A study recorded before such metrics were refused: the fixed column keeps its value.
    params = make_params(tmp_path, n_trials=1)
    session = StudySession(params, DATA, "v1")
    spec = session.ask()
    session._set_attrs(spec.number, {"metrics": {"val_accuracy": 0.5, "state": 7.0, "worker": 1.0}})
    session.study.tell(spec.number, 0.5)
    frame = trials_frame(load_study(params), params)
    assert frame.loc[0, "state"] == "COMPLETE" and frame.loc[0, "worker"] == ""
    assert list(frame.columns).count("state") == 1


def test_every_fixed_column_is_in_the_table(tmp_path: Path) -> None:
    # The flags only where they mean something: several objectives (pareto), constraints (feasible).
    params = make_params(tmp_path)
    assert set(FIXED_COLUMNS) - set(FLAGS) <= set(trials_frame(None, params).columns)
    assert not set(FLAGS) & set(trials_frame(None, params).columns)
