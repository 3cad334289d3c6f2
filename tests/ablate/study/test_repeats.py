"""search.seeds: a trial's runs over seeds, their mean and spread, a failed seed, and a resumed
trial that reruns only the seeds it lacks (ablate.study.repeats)."""

from __future__ import annotations

import dataclasses
import statistics
from pathlib import Path
from typing import Any

import optuna
import pytest
from optuna.trial import TrialState

from ablate.errors import InvalidMetricError, TrialTimeoutError
from ablate.study.repeats import SeedFailure, SeedMean, SeedRuns, combine, seed_runs
from ablate.study.session import StudySession
from ablate.study.storage import load_study
from ablate.study.table import trials_frame
from ablate.trial.cache import run_cached
from ablate.vocab.provenance import Provenance, TrialProvenance
from ablate.vocab.trial import TrialResult, TrialSpec
from tests.ablate.study.test_session import DATA, make_params, score

optuna.logging.set_verbosity(optuna.logging.WARNING)


def seeded_trial(params: dict[str, Any], ctx: Any) -> dict[str, float]:
    """The unit study's score plus 0.01 per seed; logs each execution beside the trial folders."""
    with (ctx.out_dir.parent / "runs.log").open("a") as f:
        f.write(f"{ctx.number} {ctx.seed}\n")
    value = score(params) + 0.01 * ctx.seed
    return {"val_accuracy": value, "val_loss": 1 - value}


def result(seed: int, metrics: dict[str, float], cached: bool = False, duration_s: float = 1.0) -> TrialResult:
    return TrialResult(
        number=4,
        metrics=metrics,
        duration_s=duration_s,
        worker=f"w{seed % 2}",
        cached=cached,
        cache_key=f"key{seed}",
        provenance=TrialProvenance(Provenance(git_commit="abc"), None, "", "", "v1", seed, "cpu"),
    )


def test_one_seed_is_the_trial_itself(tmp_path: Path) -> None:
    spec = StudySession(make_params(tmp_path), DATA, "v1").ask()
    assert seed_runs(spec, 1) == [spec]


def test_each_seed_is_a_run_of_its_own_with_its_own_cache_key(tmp_path: Path) -> None:
    spec = StudySession(make_params(tmp_path, seed=5), DATA, "v1").ask()
    runs = seed_runs(spec, 3)
    assert [(r.seed, r.folder, r.label) for r in runs] == [
        (5, "0.s5", "trial 0 seed 5"),
        (6, "0.s6", "trial 0 seed 6"),
        (7, "0.s7", "trial 0 seed 7"),
    ]
    assert {r.number for r in runs} == {0} and all(r.params == spec.params for r in runs)
    assert [r.out_dir for r in runs] == [Path(spec.trials_dir) / f"0.s{s}" for s in (5, 6, 7)]
    assert len({r.cache_key for r in runs}) == 3  # the seed is part of the content address
    # the first seed is the study's own: a one-seed study's result serves it from the cache
    assert runs[0].cache_key == spec.cache_key
    # A named trial (an arm's re-tuning search) keeps its name, with the seed.
    named = seed_runs(dataclasses.replace(spec, name="retune -bn: trial 0"), 2)
    assert [r.label for r in named] == ["retune -bn: trial 0 seed 5", "retune -bn: trial 0 seed 6"]


def test_the_trial_is_the_mean_of_its_seeds_with_the_spread_beside_it() -> None:
    outcomes = {
        2: result(2, {"val_accuracy": 0.94, "val_loss": 0.3, "extra": 1.0}, cached=True, duration_s=3.0),
        0: result(0, {"val_accuracy": 0.90, "val_loss": 0.5}, duration_s=1.0),
        1: result(1, {"val_accuracy": 0.92, "val_loss": 0.4}, duration_s=2.0),
    }
    got = combine(4, outcomes, "val_accuracy", "m:f")
    assert isinstance(got, SeedMean)
    mean = got.result
    assert list(mean.metrics) == ["val_accuracy", "val_accuracy_std", "val_loss"]  # "extra": not in every seed
    assert mean.metrics["val_accuracy"] == pytest.approx(0.92)
    assert mean.metrics["val_accuracy_std"] == pytest.approx(statistics.stdev([0.90, 0.92, 0.94]))
    assert mean.metrics["val_loss"] == pytest.approx(0.4)
    assert (mean.number, mean.duration_s, mean.cached, mean.worker) == (4, 6.0, False, "w0, w1")
    assert got.attrs == {"n_seeds": 3, "seed_values": {"0": 0.90, "1": 0.92, "2": 0.94}}
    assert got.note == "mean of 3 seeds, std 0.0200"


def test_each_objective_of_a_multi_objective_trial_gets_its_spread() -> None:
    outcomes = {
        s: result(s, {"n_params": 100.0, "val_accuracy": 0.90 + s / 100, "val_loss": 0.5 - s / 10}) for s in (0, 1, 2)
    }
    got = combine(4, outcomes, ("val_accuracy", "val_loss"), "m:f")
    assert isinstance(got, SeedMean)
    assert list(got.result.metrics) == ["val_accuracy", "val_accuracy_std", "val_loss", "val_loss_std", "n_params"]
    assert got.result.metrics["val_loss_std"] == pytest.approx(statistics.stdev([0.5, 0.4, 0.3]))
    assert got.attrs["seed_values"] == {"0": 0.90, "1": 0.91, "2": 0.92}  # the first objective's
    # a seed lacking the second objective fails the trial, as it would a single run
    outcomes[1] = result(1, {"val_accuracy": 0.91})
    got = combine(4, outcomes, ("val_accuracy", "val_loss"), "m:f")
    assert isinstance(got, SeedFailure) and got.seed == 1 and "val_loss" in str(got.error)


def test_a_failed_seed_fails_the_trial() -> None:
    ok = result(0, {"val_accuracy": 0.9})
    timeout = TrialTimeoutError("trial 4: timeout: ran past execution.trial_timeout_s=1")
    got = combine(4, {0: ok, 2: RuntimeError("late"), 1: timeout}, "val_accuracy", "m:f")
    assert isinstance(got, SeedFailure) and got.seed == 1 and got.error is timeout
    assert got.message() == "seed 1 (of 3): TrialTimeoutError: trial 4: timeout: ran past execution.trial_timeout_s=1"
    # a seed whose result lacks the study's metric (from the cache of another study) fails it too
    got = combine(4, {0: ok, 1: result(1, {"val_loss": 0.1})}, "val_accuracy", "m:f")
    assert isinstance(got, SeedFailure) and isinstance(got.error, InvalidMetricError) and got.seed == 1


def test_seed_runs_are_gathered_per_trial_in_any_order() -> None:
    runs = SeedRuns(2)
    spec = lambda number, seed: TrialSpec("s", number, {}, seed, "m:f", "v", DATA, "/t")  # noqa: E731
    assert runs.add(spec(0, 0), result(0, {})) is None
    assert runs.add(spec(1, 1), result(1, {})) is None
    assert set(runs.add(spec(0, 1), RuntimeError("x"))) == {0, 1}
    assert runs.add(spec(1, 0), result(0, {})).keys() == {0, 1}


def test_a_resumed_trial_reruns_only_the_seeds_it_lacks(tmp_path: Path) -> None:
    base = make_params(tmp_path, n_trials=1)
    params = dataclasses.replace(
        base,
        trial=dataclasses.replace(base.trial, entrypoint=f"{__name__}:seeded_trial"),
        search=dataclasses.replace(base.search, seeds=3),
    )
    cache = str(params.cache_dir)
    first = StudySession(params, DATA, "v1")
    runs = seed_runs(first.ask(), 3)
    for run in runs[:2]:  # two seeds finish on the workers; then the driver is killed
        assert not run_cached(run, cache).cached
    second = StudySession(params, DATA, "v1")
    assert (second.recover().requeued, second.n_finished()) == (1, 0)  # no seed result is a trial's
    again = seed_runs(second.ask(), 3)
    assert [r.cache_key for r in again] == [r.cache_key for r in runs]  # same trial, same params
    ended = {r.seed: run_cached(r, cache) for r in again}
    assert [ended[s].cached for s in (0, 1, 2)] == [True, True, False]
    log = (Path(runs[0].trials_dir) / "runs.log").read_text().split()
    assert log == ["0", "0", "0", "1", "0", "2"]  # each seed executed once

    mean = combine(0, ended, "val_accuracy", params.trial.entrypoint)
    second.tell_result(0, mean.result, mean.attrs)
    trial = load_study(params).trials[0]
    per_seed = [ended[s].metrics["val_accuracy"] for s in (0, 1, 2)]
    assert trial.state == TrialState.COMPLETE and trial.value == pytest.approx(statistics.fmean(per_seed))
    assert trial.user_attrs["seed_values"] == {str(s): v for s, v in zip((0, 1, 2), per_seed)}
    row = trials_frame(load_study(params), params).iloc[0]
    assert row["n_seeds"] == 3 and row["val_accuracy_std"] == pytest.approx(statistics.stdev(per_seed))
