"""Unit tests for ablate.study.session: the ask/tell session, resuming, the trials frame, the lock."""

from __future__ import annotations

import dataclasses
import fcntl
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import optuna
import pytest
from optuna.trial import TrialState

from ablate.config.load import load_params
from ablate.errors import ConfigError, StudyLockedError
from ablate.space import iter_grid
from ablate.study.lock import StudyLock
from ablate.study.session import StudySession, make_sampler
from ablate.study.storage import needs_trials
from ablate.trial.context import TrialContext
from ablate.trial.entrypoint import load_entrypoint
from ablate.trial.execute import execute_trial
from ablate.vocab.params import Params, PathsConfig
from ablate.vocab.provenance import Provenance
from ablate.vocab.trial import PreparedData, TrialResult, TrialSpec

optuna.logging.set_verbosity(optuna.logging.WARNING)

ROOT = Path(__file__).resolve().parents[3]
DEFAULT = ROOT / "params" / "digits.yaml"
DATA = PreparedData(
    path="/nonexistent", data_hash="b" * 64, task="classification", n_features=64, n_classes=10, shapes={}
)
SPACE_NAMES = [
    "hidden_layers",
    "hidden_units",
    "activation",
    "dropout",
    "batchnorm",
    "lr",
    "weight_decay",
    "batch_size",
]


def quick_trial(params: dict[str, Any], ctx: TrialContext) -> dict[str, float]:
    return {"val_accuracy": score(params), "val_loss": 1.0 - score(params)}


def score(params: dict[str, Any]) -> float:
    return round(0.5 + 0.1 * params["hidden_layers"] - params["dropout"] / 2, 6)


def make_params(tmp_path: Path, n_trials: int = 4, overrides: tuple[str, ...] = (), **study: Any) -> Params:
    p = load_params(DEFAULT, list(overrides))
    return dataclasses.replace(
        p,
        study=dataclasses.replace(p.study, name="unit", **study),
        search=dataclasses.replace(p.search, n_trials=n_trials),
        paths=PathsConfig(data=str(tmp_path / "data"), reports=str(tmp_path / "reports")),
    )


def fake_result(spec: TrialSpec, metrics: dict[str, float] | None = None) -> TrialResult:
    if metrics is None:
        metrics = {"val_accuracy": score(spec.params), "val_loss": 1.0 - score(spec.params)}
    return TrialResult(
        number=spec.number,
        metrics=metrics,
        duration_s=0.25,
        worker="w1",
        cached=False,
        cache_key=spec.cache_key,
        params=spec.params,
    )


def run_loop(session: StudySession) -> list[TrialSpec]:
    """The flow's loop, one trial at a time: ask, then tell (which frees the in-flight slot)."""
    asked = []
    while session.can_ask():
        spec = session.ask()
        asked.append(spec)
        assert session.tell_result(spec.number, fake_result(spec)) is None
    return asked


def states(session: StudySession) -> dict[int, TrialState]:
    return {t.number: t.state for t in session.study.get_trials(deepcopy=False)}


# ---------------------------------------------------------------------------------------------
# ask/tell


def test_ask_tell_loop_completes_n_trials(tmp_path: Path) -> None:
    params = make_params(tmp_path, n_trials=4)
    session = StudySession(params, DATA, "v1", provenance=Provenance(git_commit="abc"))
    assert session.recover().recovered == 0 and session.remaining() == 4
    asked = run_loop(session)
    assert [s.number for s in asked] == [0, 1, 2, 3]
    assert session.n_finished() == 4 and session.remaining() == 0 and not session.can_ask()
    assert set(states(session).values()) == {TrialState.COMPLETE}
    assert (params.study_dir / "optuna.journal").is_file()
    for spec in asked:
        assert list(spec.params) == ["epochs", *SPACE_NAMES]  # fixed options, then the space
        assert spec.params["epochs"] == 20
        assert spec.study == "unit" and spec.seed == 0 and spec.code_version == "v1"
        assert spec.entrypoint == "ablate.models.mlp:train" and spec.data == DATA
        assert spec.trials_dir == str(params.study_dir / "trials")
        assert spec.timeout_s == 300.0 and spec.device == "auto"
        assert spec.provenance == Provenance(git_commit="abc") and spec.metric == "val_accuracy"
    trial = session.study.trials[2]
    assert trial.value == score(asked[2].params)
    assert trial.user_attrs["metrics"] == fake_result(asked[2]).metrics
    assert trial.user_attrs["params"] == asked[2].params
    assert trial.user_attrs["worker"] == "w1" and trial.user_attrs["cached"] is False


def test_can_ask_counts_trials_in_flight(tmp_path: Path) -> None:
    session = StudySession(make_params(tmp_path, n_trials=3), DATA, "v1")
    specs = [session.ask() for _ in range(3)]
    assert not session.can_ask() and session.n_finished() == 0
    session.tell_result(specs[0].number, fake_result(specs[0]))
    assert not session.can_ask() and session.remaining() == 2


def test_same_seed_asks_the_same_params(tmp_path: Path) -> None:
    a = run_loop(StudySession(make_params(tmp_path / "a", n_trials=5), DATA, "v1"))
    b = run_loop(StudySession(make_params(tmp_path / "b", n_trials=5), DATA, "v1"))
    c = run_loop(StudySession(make_params(tmp_path / "c", n_trials=5, seed=1), DATA, "v1"))
    assert [s.params for s in a] == [s.params for s in b]
    assert [s.params for s in a] != [s.params for s in c]


def test_tell_result_without_the_study_metric_fails_the_trial_and_stops_a_study_that_never_saw_it(
    tmp_path: Path,
) -> None:
    session = StudySession(make_params(tmp_path, n_trials=3), DATA, "v1")
    spec = session.ask()
    # No trial ever returned val_accuracy: a misspelt objective, and every trial would fail alike.
    with pytest.raises(ConfigError) as info:
        session.tell_result(spec.number, fake_result(spec, {"accuracy": 0.9, "loss": 0.1}))
    assert info.value.key == "study.metric"
    assert str(info.value).endswith(
        "must name a metric the trial function returns (accuracy, loss), but got 'val_accuracy' "
        f"(trial {spec.number} returned no val_accuracy; did you mean 'accuracy'?); correct it, then run again "
        "with --restart"
    )
    trial = session.study.trials[spec.number]
    assert trial.state == TrialState.FAIL and trial.user_attrs["reason"] == "invalid_metric"
    assert trial.user_attrs["error"] == (
        f"trial {spec.number}: study.metric 'val_accuracy' must be among the returned metrics (accuracy, loss), "
        "but got none"
    )
    # Once a trial has returned it, a trial without it breaks the contract alone: the study goes on.
    good = session.ask()
    assert session.tell_result(good.number, fake_result(good, {"val_accuracy": 0.8})) is None
    bad = session.ask()
    error = session.tell_result(bad.number, fake_result(bad, {"loss": 0.1}))
    assert (
        error
        == f"trial {bad.number}: study.metric 'val_accuracy' must be among the returned metrics (loss), but got none"
    )
    assert session.study.trials[bad.number].state == TrialState.FAIL


def test_tell_result_with_a_non_finite_metric_fails_the_trial(tmp_path: Path) -> None:
    session = StudySession(make_params(tmp_path, n_trials=2), DATA, "v1")
    spec = session.ask()
    error = session.tell_result(spec.number, fake_result(spec, {"val_accuracy": float("inf")}))
    assert error == f"trial {spec.number}: study.metric 'val_accuracy' must be a finite number, but got inf"
    assert session.study.trials[spec.number].state == TrialState.FAIL


def test_tell_failure_records_the_error(tmp_path: Path) -> None:
    session = StudySession(make_params(tmp_path, n_trials=2), DATA, "v1")
    spec = session.ask()
    session.tell_failure(spec.number, "TrialTimeoutError: too slow", "timeout", duration_s=3.0)
    trial = session.study.trials[spec.number]
    assert trial.state == TrialState.FAIL
    attrs = trial.user_attrs
    assert (attrs["error"], attrs["reason"], attrs["duration_s"]) == ("TrialTimeoutError: too slow", "timeout", 3.0)
    assert session.n_finished() == 1  # a failure uses up budget


def test_changing_direction_of_an_existing_study_is_a_config_error(tmp_path: Path) -> None:
    run_loop(StudySession(make_params(tmp_path, n_trials=1), DATA, "v1"))
    with pytest.raises(ConfigError) as info:
        StudySession(make_params(tmp_path, n_trials=1, direction="minimize"), DATA, "v1")
    assert info.value.key == "study.direction" and "maximize" in str(info.value)


@pytest.mark.parametrize(
    ("sampler", "cls"),
    [
        ("tpe", optuna.samplers.TPESampler),
        ("random", optuna.samplers.RandomSampler),
        ("grid", optuna.samplers.GridSampler),
    ],
)
def test_make_sampler(tmp_path: Path, sampler: str, cls: type) -> None:
    overrides = ["search.sampler=" + sampler]
    if sampler == "grid":
        overrides += ["search.space={a: [1, 2], b: {type: int, low: 1, high: 2}}", "search.n_trials=4"]
    params = load_params(DEFAULT, overrides)
    assert isinstance(make_sampler(params.search, 0), cls)


def test_grid_search_runs_the_whole_grid(tmp_path: Path) -> None:
    params = make_params(
        tmp_path,
        n_trials=4,
        overrides=(
            "search.sampler=grid",
            "search.n_trials=4",
            "search.space={hidden_layers: {type: int, low: 1, high: 2}, "
            "dropout: {type: float, low: 0.0, high: 0.1, step: 0.1}}",
        ),
    )
    session = StudySession(params, DATA, "v1")
    asked = run_loop(session)  # telling the last grid point must not raise
    assert session.n_finished() == 4
    assert set(states(session).values()) == {TrialState.COMPLETE}
    key = lambda d: (d["hidden_layers"], round(d["dropout"], 9))  # noqa: E731
    assert sorted(key(s.params) for s in asked) == sorted(map(key, iter_grid(params.search.space)))


def test_grid_search_with_trials_in_flight(tmp_path: Path) -> None:
    # The flow keeps several trials in flight: tell must work while others are still running.
    params = make_params(
        tmp_path,
        n_trials=4,
        overrides=(
            "search.sampler=grid",
            "search.n_trials=4",
            "search.space={a: [1, 2], b: [x, y]}",
            "trial.options={}",
        ),
    )
    session = StudySession(params, DATA, "v1")
    specs = [session.ask() for _ in range(4)]
    for spec in specs:
        session.tell_result(spec.number, fake_result(spec, {"val_accuracy": 0.5}))
    assert set(states(session).values()) == {TrialState.COMPLETE}
    assert sorted((s.params["a"], s.params["b"]) for s in specs) == [(1, "x"), (1, "y"), (2, "x"), (2, "y")]


# ---------------------------------------------------------------------------------------------
# Resuming a killed run


def test_running_trial_is_requeued_with_same_number_and_params(tmp_path: Path) -> None:
    params = make_params(tmp_path, n_trials=3)
    first = StudySession(params, DATA, "v1")
    done = first.ask()
    first.tell_result(done.number, fake_result(done))
    lost = first.ask()  # the run is killed while this trial runs: never told
    stale = Path(lost.trials_dir) / f".{lost.number}.tmp-abc123"
    stale.mkdir(parents=True)  # ... and its half-written folder is left behind

    second = StudySession(params, DATA, "v1")
    rec = second.recover()
    assert (rec.recovered, rec.requeued) == (0, 1)
    assert not stale.exists()
    assert second.n_finished() == 1 and second.remaining() == 2
    again = second.ask()
    assert again.number == lost.number and again.params == lost.params
    assert len(second.study.trials) == 2  # no new trial was created for it
    second.tell_result(again.number, fake_result(again))
    rest = run_loop(second)
    assert [s.number for s in rest] == [2]
    assert states(second) == dict.fromkeys((0, 1, 2), TrialState.COMPLETE)


def test_published_running_trial_is_recovered_without_rerun(tmp_path: Path) -> None:
    base = make_params(tmp_path, n_trials=3)
    params = dataclasses.replace(base, trial=dataclasses.replace(base.trial, entrypoint=f"{__name__}:quick_trial"))
    assert load_entrypoint(params.trial.entrypoint) is quick_trial
    first = StudySession(params, DATA, "v1")
    spec = first.ask()
    published = execute_trial(spec)  # the worker finished and published; the driver died
    assert (Path(spec.trials_dir) / str(spec.number) / "result.json").is_file()

    second = StudySession(params, DATA, "v1")
    rec = second.recover()
    assert (rec.recovered, rec.requeued) == (1, 0)
    trial = second.study.trials[spec.number]
    assert trial.state == TrialState.COMPLETE
    assert trial.value == published.metrics["val_accuracy"]
    assert trial.user_attrs["metrics"] == published.metrics
    assert second.n_finished() == 1
    assert second.ask().number == spec.number + 1  # not asked again


def test_resumed_run_asks_new_configurations_reproducibly(tmp_path: Path) -> None:
    def two_runs(root: Path) -> list[dict[str, Any]]:
        params = make_params(root, n_trials=4, overrides=("search.sampler=random",))
        first = StudySession(params, DATA, "v1")
        asked = []
        for _ in range(2):
            spec = first.ask()
            first.tell_result(spec.number, fake_result(spec))
            asked.append(spec.params)
        resumed = StudySession(params, DATA, "v1")  # a later `ablate run` of the same study
        assert resumed.recover().requeued == 0
        return asked + [s.params for s in run_loop(resumed)]

    a = two_runs(tmp_path / "a")
    assert len(a) == 4
    assert a[2] not in a[:2] and a[3] not in a[:2]  # the seeded stream did not restart
    assert two_runs(tmp_path / "b") == a  # and the whole sequence is still reproducible


def test_result_for_other_params_is_not_recovered(tmp_path: Path) -> None:
    params = make_params(tmp_path, n_trials=2)
    first = StudySession(params, DATA, "v1")
    spec = first.ask()
    out = Path(spec.trials_dir) / str(spec.number)
    out.mkdir(parents=True)
    other = dataclasses.replace(spec, params={**spec.params, "epochs": 999})
    (out / "result.json").write_text(fake_result(other).to_json())
    rec = StudySession(params, DATA, "v1").recover()
    assert (rec.recovered, rec.requeued) == (0, 1)


# ---------------------------------------------------------------------------------------------
# Reading the study back


def test_needs_trials_until_the_budget_is_spent(tmp_path: Path) -> None:
    params = make_params(tmp_path, n_trials=2)
    session = StudySession(params, DATA, "v1")
    spec = session.ask()
    session.tell_result(spec.number, fake_result(spec))
    assert needs_trials(params)
    spec = session.ask()
    session.tell_failure(spec.number, "x", "error")
    assert not needs_trials(params)


def test_study_lock_excludes_a_second_holder(tmp_path: Path) -> None:
    study_dir = tmp_path / "studies" / "unit"
    with StudyLock(study_dir):
        with pytest.raises(StudyLockedError) as info:
            with StudyLock(study_dir):
                pass
        assert f"pid {os.getpid()}" in str(info.value) and str(study_dir) in str(info.value)
        # The lock is the OS's: another process cannot take it either.
        code = (
            "import fcntl, os, sys\n"
            f"fd = os.open({str(study_dir.parent / f'.{study_dir.name}.lock')!r}, os.O_RDWR)\n"
            "try:\n    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)\n"
            "except BlockingIOError:\n    sys.exit(3)\n"
        )
        assert subprocess.run([sys.executable, "-c", code], timeout=30).returncode == 3
    with StudyLock(study_dir):  # released: it can be taken again
        pass
    fd = os.open(study_dir.parent / f".{study_dir.name}.lock", os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # and nobody holds it now
    finally:
        os.close(fd)


def test_a_journal_lock_left_by_a_killed_writer_is_cleared_when_a_session_opens(tmp_path: Path) -> None:
    params = make_params(tmp_path, n_trials=2)
    run_loop(StudySession(params, DATA, "v1"))
    lock = params.study_dir / "optuna.journal.lock"
    os.symlink(params.study_dir / "optuna.journal", lock)  # as Optuna's lock looks while held
    start = time.monotonic()
    session = StudySession(
        dataclasses.replace(params, search=dataclasses.replace(params.search, n_trials=3)), DATA, "v1"
    )
    run_loop(session)
    assert time.monotonic() - start < 5.0  # Optuna alone would wait its 30 s grace period
    assert not lock.exists() and not lock.is_symlink() and session.n_finished() == 3


def test_ctrl_c_during_a_journal_append_waits_for_it_to_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Optuna's journal lock, interrupted in its release, raised FileNotFoundError instead of the
    # KeyboardInterrupt (and left its lock file): a Ctrl-C then ended the run with exit 1.
    from optuna.storages.journal import JournalFileSymlinkLock

    from ablate.study.storage import JOURNAL, _JournalFile

    def open_journal() -> optuna.storages.JournalStorage:
        return optuna.storages.JournalStorage(_JournalFile(str(tmp_path / JOURNAL)))

    storage = open_journal()
    acquire = JournalFileSymlinkLock.acquire

    def interrupted(self: JournalFileSymlinkLock) -> bool:
        got = acquire(self)
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C while the lock is held
        return got

    monkeypatch.setattr(JournalFileSymlinkLock, "acquire", interrupted)
    before = signal.signal(signal.SIGINT, signal.default_int_handler)  # Python's own Ctrl-C
    try:
        with pytest.raises(KeyboardInterrupt):
            optuna.create_study(storage=storage, study_name="s")
    finally:
        signal.signal(signal.SIGINT, before)
    monkeypatch.undo()
    assert not (tmp_path / (JOURNAL + ".lock")).exists()  # released, not left behind
    assert [s.study_name for s in optuna.get_all_study_summaries(open_journal())] == ["s"]  # written whole
