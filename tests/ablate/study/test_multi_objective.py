"""Several objectives and outcome constraints through the real ask/tell session and Optuna
storage: what is told, what the samplers see, and the trials table's flags."""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

import optuna
import pytest
from optuna.trial import TrialState

from ablate.errors import ConfigError
from ablate.runtime.progress import Progress
from ablate.study.session import StudySession
from ablate.study.storage import load_study
from ablate.study.table import best_of, front_of, trials_frame
from ablate.vocab.objectives import Constraint
from tests.ablate.study.test_session import DATA, SPACE_NAMES, fake_result, make_params, score

TWO = ("study.metric=[val_accuracy, n_params]", "study.direction=[maximize, minimize]")
FEASIBLE = 'study.constraints=["val_accuracy >= 0.6"]'


def metrics_of(params: dict[str, Any]) -> dict[str, float]:
    # A trade-off: deeper nets score higher and cost more.
    return {"val_accuracy": score(params), "n_params": float(params["hidden_units"] * params["hidden_layers"])}


def run(session: StudySession) -> None:
    while session.can_ask():
        spec = session.ask()
        assert session.tell_result(spec.number, fake_result(spec, metrics_of(spec.params))) is None


@pytest.mark.parametrize("storage", ["journal", "sqlite"])
def test_every_objective_is_told_and_each_constraint_value_stored(tmp_path: Path, storage: str) -> None:
    overrides = (*TWO, FEASIBLE)
    if storage == "sqlite":
        overrides += (f"study.storage=sqlite:///{tmp_path}/optuna.db",)
    params = make_params(tmp_path, n_trials=16, overrides=overrides)
    run(StudySession(params, DATA, "v1"))

    study = load_study(params)  # read back from the storage, as the report does
    assert [d.name for d in study.directions] == ["MAXIMIZE", "MINIMIZE"]
    frame = trials_frame(study, params)
    for t in study.trials:
        m = metrics_of(t.user_attrs["params"])
        assert t.values == [m["val_accuracy"], m["n_params"]]
        assert t.constraints == {"val_accuracy >= 0.6": pytest.approx(0.6 - m["val_accuracy"])}
    assert list(frame.columns[:6]) == ["number", "state", "pareto", "feasible", "val_accuracy", "n_params"]
    assert frame["feasible"].tolist() == (frame["val_accuracy"] >= 0.6).tolist()
    assert 0 < frame["feasible"].sum() < len(frame)  # the constraint splits the trials
    # The front is Optuna's own best_trials (which also keeps to the feasible ones).
    assert sorted(frame.loc[frame["pareto"], "number"]) == sorted(t.number for t in study.best_trials)
    assert not (frame["pareto"] & ~frame["feasible"]).any()
    assert best_of(study, params) is None  # several objectives: no single best
    front = front_of(frame, params)
    assert front == {
        "size": int(frame["pareto"].sum()),
        "trials": sorted(frame.loc[frame["pareto"], "number"]),
        "metrics": ["val_accuracy", "n_params"],
        "directions": ["maximize", "minimize"],
    }


def test_one_objective_with_constraints_has_a_feasible_flag_and_a_feasible_best(tmp_path: Path) -> None:
    params = make_params(tmp_path, n_trials=12, overrides=('study.constraints=["n_params <= 200"]',))
    run(StudySession(params, DATA, "v1"))
    study = load_study(params)
    frame = trials_frame(study, params)
    assert "pareto" not in frame and list(frame.columns[:4]) == ["number", "state", "feasible", "val_accuracy"]
    feasible = frame[frame["feasible"]]
    assert 0 < len(feasible) < len(frame)
    best = best_of(study, params)
    assert best["value"] == feasible["val_accuracy"].max()  # the best that meets the constraint
    assert frame.loc[frame["number"] == best["number"], "feasible"].item()
    assert frame["val_accuracy"].max() > best["value"]  # an infeasible trial scored higher


def test_a_constraint_on_a_metric_the_trial_does_not_return_stops_the_study(tmp_path: Path) -> None:
    params = make_params(tmp_path, n_trials=4, overrides=('study.constraints=["n_parms <= 200"]',))
    session = StudySession(params, DATA, "v1")
    spec = session.ask()
    with pytest.raises(ConfigError) as info:
        session.tell_result(spec.number, fake_result(spec, metrics_of(spec.params)))
    assert info.value.key == "study.constraints[0]"
    assert "must bound a metric the trial function returns (n_params, val_accuracy), but got 'n_parms <= 200'" in (
        str(info.value)
    )
    trial = session.study.trials[spec.number]  # the trial is recorded as failed, not left running
    assert trial.state == TrialState.FAIL and trial.user_attrs["reason"] == "invalid_metric"


def test_a_trial_without_a_constrained_metric_earlier_trials_returned_fails_alone(tmp_path: Path) -> None:
    params = make_params(tmp_path, n_trials=3, overrides=('study.constraints=["n_params <= 200"]',))
    session = StudySession(params, DATA, "v1")
    first = session.ask()
    assert session.tell_result(first.number, fake_result(first, metrics_of(first.params))) is None
    reopened = StudySession(params, DATA, "v1")  # what the study returned so far is read back
    spec = reopened.ask()
    error = reopened.tell_result(spec.number, fake_result(spec, {"val_accuracy": 0.7}))
    assert error == (
        f"trial {spec.number}: study.constraints metric 'n_params' must be among the returned metrics "
        "(val_accuracy), but got none"
    )
    assert reopened.study.trials[spec.number].state == TrialState.FAIL


def test_a_trial_without_every_objective_fails(tmp_path: Path) -> None:
    session = StudySession(make_params(tmp_path, n_trials=2, overrides=TWO), DATA, "v1")
    spec = session.ask()
    assert spec.metric == ("val_accuracy", "n_params")  # the worker checks them too
    # n_params never returned: the objective is unknown to the trial function, so the study stops.
    with pytest.raises(ConfigError) as info:
        session.tell_result(spec.number, fake_result(spec, {"val_accuracy": 0.7}))
    assert "must name a metric the trial function returns (val_accuracy), but got 'n_params'" in str(info.value)
    assert session.study.trials[spec.number].user_attrs["error"] == (
        f"trial {spec.number}: study.metric 'n_params' must be among the returned metrics (val_accuracy), but got none"
    )


def test_the_directions_of_an_existing_study_must_stay(tmp_path: Path) -> None:
    run(StudySession(make_params(tmp_path, n_trials=1), DATA, "v1"))
    with pytest.raises(ConfigError) as info:
        StudySession(make_params(tmp_path, n_trials=2, overrides=TWO), DATA, "v1")
    assert info.value.key == "study.direction"
    assert "must stay maximize for the existing study unit (rename study.name to start anew), but got " in str(
        info.value
    )
    assert str(info.value).endswith("but got [maximize, minimize]")


# ---------------------------------------------------------------------------------------------
# The samplers that model constraints use the values the session stores


def search(tmp_path: Path, sampler: str, constrained: bool, n_trials: int = 30) -> list[float]:
    """Maximize x + y over the unit square, with or without x + y <= 0.6; each trial's x + y."""
    overrides = [
        "search.space={x: {type: float, low: 0.0, high: 1.0}, y: {type: float, low: 0.0, high: 1.0}}",
        f"search.sampler={sampler}",
        "trial.options={}",
        "study.metric=total",
        *(['study.constraints=["total <= 0.6"]'] if constrained else []),
    ]
    session = StudySession(make_params(tmp_path / str(constrained), n_trials, tuple(overrides)), DATA, "v1")
    totals = []
    while session.can_ask():
        spec = session.ask()
        total = spec.params["x"] + spec.params["y"]
        session.tell_result(spec.number, fake_result(spec, {"total": total}))
        totals.append(total)
    return totals


@pytest.mark.parametrize(("sampler", "n_trials"), [("tpe", 30), ("gp", 16), ("nsga2", 30)])
def test_tpe_gp_and_nsga2_steer_toward_the_feasible_region(tmp_path: Path, sampler: str, n_trials: int) -> None:
    free, constrained = search(tmp_path, sampler, False, n_trials), search(tmp_path, sampler, True, n_trials)
    # Unconstrained, the later trials climb toward x + y = 2; constrained, they stay near the bound 0.6.
    late = n_trials // 2
    late_free, late_constrained = statistics.mean(free[late:]), statistics.mean(constrained[late:])
    assert late_free > 1.15 and late_constrained < 1.0, (late_free, late_constrained)


def test_random_ignores_constraints_but_feasibility_is_still_recorded(tmp_path: Path) -> None:
    free, constrained = search(tmp_path, "random", False, 10), search(tmp_path, "random", True, 10)
    assert free == constrained  # the same draws: it does not read them
    params = make_params(
        tmp_path / "True", 10, ("study.metric=total", 'study.constraints=["total <= 0.6"]', "trial.options={}")
    )
    frame = trials_frame(load_study(params), params)
    assert frame["feasible"].tolist() == [t <= 0.6 for t in constrained]


# ---------------------------------------------------------------------------------------------
# The progress line


def test_the_progress_line_shows_every_objective_and_an_infeasible_trial() -> None:
    progress = Progress(
        4, "val_accuracy", "maximize", 1, other_metrics=("n_params",), constraints=(Constraint("n_params", "<=", 100),)
    )
    line = progress.finished("trial 0", "COMPLETE", 0.9, 1.0, 0, metrics={"val_accuracy": 0.9, "n_params": 250.0})
    assert "val_accuracy=0.9000 n_params=250 [infeasible: n_params <= 100]" in line
    assert progress.best is None  # an infeasible trial is never the best
    progress.finished("trial 1", "COMPLETE", 0.8, 1.0, 0, metrics={"val_accuracy": 0.8, "n_params": 50.0})
    assert progress.best == ("trial 1", 0.8)


def test_trials_frame_columns_of_a_study_never_run(tmp_path: Path) -> None:
    params = make_params(tmp_path, overrides=(*TWO, FEASIBLE))
    frame = trials_frame(None, params)
    assert list(frame.columns[:6]) == ["number", "state", "pareto", "feasible", "val_accuracy", "n_params"]
    assert list(frame.columns[6 : 6 + len(SPACE_NAMES)]) == SPACE_NAMES


optuna.logging.set_verbosity(optuna.logging.WARNING)
