"""search.enqueue (ablate.study.baselines) and search.timeout_s (ablate.study.budget) on a real
journal study, and a conditional space through the session and the trials table."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import optuna

from ablate.config.load import load_params
from ablate.study.baselines import enqueue_baselines
from ablate.study.budget import SearchBudget
from ablate.study.session import StudySession
from ablate.study.storage import load_study
from ablate.study.table import trials_frame
from ablate.vocab.params import PathsConfig
from tests.ablate.config.test_config import BASELINE
from tests.ablate.study.test_session import DATA, fake_result, make_params, run_loop

optuna.logging.set_verbosity(optuna.logging.WARNING)

ROOT = Path(__file__).resolve().parents[3]
OTHER = {**BASELINE, "hidden_layers": 3, "activation": "tanh"}


def with_enqueue(tmp_path: Path, n_trials: int, *configs: dict) -> object:
    params = make_params(tmp_path, n_trials=n_trials)
    return dataclasses.replace(params, search=dataclasses.replace(params.search, enqueue=configs))


def test_enqueued_configurations_are_asked_first_in_order_and_marked(tmp_path: Path) -> None:
    params = with_enqueue(tmp_path, 4, BASELINE, OTHER)
    session = StudySession(params, DATA, "v1")
    assert enqueue_baselines(session.study, params.search.enqueue, 4) == 2
    asked = run_loop(session)
    assert [{k: s.params[k] for k in BASELINE} for s in asked[:2]] == [BASELINE, OTHER]
    assert asked[0].params["epochs"] == 20  # the fixed options, as for any trial
    assert asked[2].params != asked[0].params  # then the sampler's own
    frame = trials_frame(load_study(params), params)
    assert frame["enqueued"].tolist() == [True, True, False, False]


def test_a_rerun_or_grown_study_does_not_enqueue_again_but_a_new_entry_is(tmp_path: Path) -> None:
    params = with_enqueue(tmp_path, 2, BASELINE)
    first = StudySession(params, DATA, "v1")
    assert enqueue_baselines(first.study, params.search.enqueue, 2) == 1
    run_loop(first)
    grown = dataclasses.replace(params, search=dataclasses.replace(params.search, n_trials=4))
    again = StudySession(grown, DATA, "v1")
    assert enqueue_baselines(again.study, grown.search.enqueue, 4) == 0  # given once, in trial 0
    assert enqueue_baselines(again.study, (BASELINE, OTHER), 4) == 1  # an entry added to the file later
    asked = run_loop(again)
    assert [{k: s.params[k] for k in BASELINE} for s in asked[:1]] == [OTHER]
    assert trials_frame(load_study(grown), grown)["enqueued"].tolist() == [True, False, True, False]


def test_a_killed_enqueued_trial_is_requeued_not_enqueued_twice(tmp_path: Path) -> None:
    params = with_enqueue(tmp_path, 2, BASELINE)
    first = StudySession(params, DATA, "v1")
    enqueue_baselines(first.study, params.search.enqueue, 2)
    lost = first.ask()  # killed while it runs
    second = StudySession(params, DATA, "v1")
    assert second.recover().requeued == 1
    assert enqueue_baselines(second.study, params.search.enqueue, 2) == 0
    again = second.ask()
    assert again.number == lost.number and again.params == lost.params
    second.tell_result(again.number, fake_result(again))
    assert trials_frame(load_study(params), params)["enqueued"].tolist() == [True]


def test_enqueue_leaves_room_for_nothing_past_the_budget(tmp_path: Path) -> None:
    params = with_enqueue(tmp_path, 2, BASELINE)
    session = StudySession(params, DATA, "v1")
    run_loop(session)  # the budget is spent before anything was enqueued
    assert enqueue_baselines(session.study, (BASELINE, OTHER), 2) == 0
    assert enqueue_baselines(session.study, (BASELINE, OTHER), 3) == 1


def test_the_budget_refuses_asks_from_its_deadline_on() -> None:
    assert SearchBudget(None).allows_ask() and not SearchBudget(None).spent
    budget = SearchBudget(0.2)
    assert budget.allows_ask() and not budget.spent
    time.sleep(0.25)
    assert not budget.allows_ask() and budget.spent
    assert budget.describe_stop().startswith("search: search.timeout_s=0.2 s reached after ")
    assert budget.describe_stop().endswith(
        "no new trial is asked, the trials running finish; run again to continue the study"
    )


def test_a_conditional_space_gives_trials_only_their_active_knobs(tmp_path: Path) -> None:
    p = load_params(ROOT / "params" / "digits-conditional.yaml", ["search.n_trials=16", "search.sampler=random"])
    params = dataclasses.replace(p, paths=PathsConfig(data=str(tmp_path / "data"), reports=str(tmp_path / "r")))
    session = StudySession(params, DATA, "v1")
    specs = [session.ask() for _ in range(16)]
    for spec in specs:
        assert ("momentum" in spec.params) == (spec.params["optimizer"] == "sgd"), spec.params
        assert ("residual" in spec.params) == (spec.params["hidden_layers"] >= 2), spec.params
        session.tell_result(spec.number, fake_result(spec, {"val_accuracy": 0.5}))
    frame = trials_frame(load_study(params), params)
    sgd = frame["optimizer"] == "sgd"
    assert 0 < sgd.sum() < 16  # both branches were drawn
    assert frame.loc[~sgd, "momentum"].isna().all() and frame.loc[sgd, "momentum"].notna().all()
    shallow = frame["hidden_layers"] == 1
    assert frame.loc[shallow, "residual"].isna().all()
    # ints stay ints in trials.csv where some trials lack the knob (no 2.0 for 2)
    written = frame[["number", "hidden_layers", "residual", "momentum"]].to_csv(index=False).splitlines()
    for line, (_, row) in zip(written[1:], frame.iterrows()):
        assert line.split(",")[1] == str(row["hidden_layers"])
        assert line.split(",")[2] == ("" if row["hidden_layers"] == 1 else str(row["residual"]))
        assert (line.split(",")[3] == "") == (row["optimizer"] != "sgd")
