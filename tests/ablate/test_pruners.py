"""ablate.pruners: the registry, and pruning through the study's journal as a worker does it."""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import optuna
import pytest
from optuna.trial import TrialState

from ablate.errors import TrialError, TrialPruned
from ablate.pruners import PRUNERS, make_pruner
from ablate.study.session import StudySession
from ablate.study.table import trials_frame
from ablate.trial.cache import TrialCache, run_cached
from ablate.trial.context import TrialContext
from ablate.trial.execute import execute_trial
from tests.ablate.study.test_session import DATA, make_params

optuna.logging.set_verbosity(optuna.logging.WARNING)


def flat(params: dict[str, Any], ctx: TrialContext) -> dict[str, float]:
    """val_accuracy = x at every one of 5 steps; saves a checkpoint when pruned."""
    for step in range(1, 6):
        try:
            ctx.report(step, {"val_accuracy": params["x"], "val_loss": 1 - params["x"]})
        except TrialPruned:
            (ctx.out_dir / "checkpoint.txt").write_text(str(step))
            raise
    return {"val_accuracy": params["x"], "val_loss": 1 - params["x"]}


@pytest.mark.parametrize(
    ("name", "cls"),
    [
        ("none", optuna.pruners.NopPruner),
        ("median", optuna.pruners.MedianPruner),
        ("percentile", optuna.pruners.PercentilePruner),
        ("successive_halving", optuna.pruners.SuccessiveHalvingPruner),
        ("hyperband", optuna.pruners.HyperbandPruner),
        ("wilcoxon", optuna.pruners.WilcoxonPruner),
    ],
)
def test_each_name_makes_its_pruner_from_its_default_options(name: str, cls: type) -> None:
    from ablate._reader import Reader

    options = PRUNERS[name].read(Reader("p.yaml", "search.pruner_options", {}))
    assert isinstance(make_pruner(name, options), cls)


def session_with(tmp_path: Path, pruner: str = "median", n_trials: int = 4) -> StudySession:
    overrides = (
        f"search.pruner={pruner}",
        "search.pruner_options={n_startup_trials: 1}" if pruner == "median" else "search.pruner_options={}",
        "search.space={x: {type: float, low: 0.0, high: 1.0}}",
        "search.sampler=random",
        "trial.options={}",
        f"trial.entrypoint={__name__}:flat",
    )
    return StudySession(make_params(tmp_path, n_trials=n_trials, overrides=overrides), DATA, "v1")


def test_a_trial_below_the_median_is_pruned_where_it_runs(tmp_path: Path) -> None:
    session = session_with(tmp_path)
    session.study.enqueue_trial({"x": 0.9})
    session.study.enqueue_trial({"x": 0.1})
    good = session.ask()
    assert good.pruning is not None and good.pruning.pruner == "median"
    assert pickle.loads(pickle.dumps(good)) == good  # it travels to a worker
    session.tell_result(good.number, execute_trial(good))

    bad = session.ask()
    with pytest.raises(TrialPruned) as info:
        execute_trial(bad)
    err = pickle.loads(pickle.dumps(info.value))  # as a worker sends it back
    assert (str(err), err.step, err.metrics) == (
        "trial 1: pruned at step 1 (val_accuracy=0.1)",
        1,
        {"val_accuracy": 0.1, "val_loss": 0.9},
    )
    out = Path(bad.trials_dir) / "1"
    assert (out / "checkpoint.txt").read_text() == "1"  # the trial function saw it and saved
    assert json.loads((out / "pruned.json").read_text()) == {"step": 1, "metrics": err.metrics, "params": {"x": 0.1}}
    assert (out / "history.jsonl").read_text().count("\n") == 1 and not (out / "result.json").exists()

    session.tell_pruned(bad.number, err)
    trial = session.study.trials[1]
    assert trial.state == TrialState.PRUNED and trial.intermediate_values == {1: 0.1} and trial.value == 0.1
    row = trials_frame(session.study, session.params).iloc[1]
    assert (row["state"], row["reason"], row["val_accuracy"], row["error"]) == ("PRUNED", "pruned", 0.1, "")
    assert session.n_finished() == 2  # a pruned trial uses up budget


def test_without_a_pruner_trials_carry_no_link_and_run_to_the_end(tmp_path: Path) -> None:
    session = session_with(tmp_path, pruner="none")
    session.study.enqueue_trial({"x": 0.9})
    session.study.enqueue_trial({"x": 0.1})
    for _ in range(2):
        spec = session.ask()
        assert spec.pruning is None
        session.tell_result(spec.number, execute_trial(spec))
    assert [t.state for t in session.study.trials] == [TrialState.COMPLETE] * 2


def test_a_pruned_trial_is_not_cached(tmp_path: Path) -> None:
    session = session_with(tmp_path)
    session.study.enqueue_trial({"x": 0.9})
    session.study.enqueue_trial({"x": 0.1})
    cache = tmp_path / "cache"
    good = session.ask()
    session.tell_result(good.number, run_cached(good, str(cache)))
    bad = session.ask()
    with pytest.raises(TrialPruned):
        run_cached(bad, str(cache))
    assert TrialCache(cache).lookup(good.cache_key) is not None
    assert TrialCache(cache).lookup(bad.cache_key) is None  # it depends on the other trials


def test_a_pruned_trial_the_driver_never_heard_of_is_recovered_not_rerun(tmp_path: Path) -> None:
    first = session_with(tmp_path)
    first.study.enqueue_trial({"x": 0.9})
    first.study.enqueue_trial({"x": 0.1})
    good = first.ask()
    first.tell_result(good.number, execute_trial(good))
    bad = first.ask()
    with pytest.raises(TrialPruned):
        execute_trial(bad)  # ... and the driver was killed before it heard

    second = session_with(tmp_path)
    rec = second.recover()
    assert (rec.recovered, rec.requeued) == (1, 0)
    trial = second.study.trials[1]
    assert trial.state == TrialState.PRUNED and trial.user_attrs["reason"] == "pruned"
    assert second.ask().number == 2  # not asked again


def test_a_worker_without_the_studys_journal_fails_the_trial_saying_so_and_creates_nothing(tmp_path: Path) -> None:
    from ablate.pruners.link import report_step
    from ablate.vocab.trial import PruningLink

    elsewhere = tmp_path / "driver-only" / "journal.log"  # a path of the driver's machine
    link = PruningLink(storage=str(elsewhere), study="s", trial_id=0, metric="val_accuracy", pruner="median")
    with pytest.raises(TrialError, match=r"journal .*journal\.log is not on this worker's machine .*study\.storage"):
        report_step(link, 1, {"val_accuracy": 0.5})
    assert not elsewhere.exists() and not elsewhere.parent.exists()
