"""Learning curves from where the steps are recorded: the study's storage, else the trial folders."""

from __future__ import annotations

import json
from pathlib import Path

import optuna

from ablate.study.curves import COLUMNS, learning_curves

optuna.logging.set_verbosity(optuna.logging.WARNING)


def write_history(trials_dir: Path, number: int | str, rows: list[dict]) -> None:
    folder = trials_dir / str(number)
    folder.mkdir(parents=True)
    (folder / "history.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))


def test_curves_come_from_the_storage_when_a_pruner_recorded_them_else_from_history_files(tmp_path: Path) -> None:
    study = optuna.create_study(direction="maximize")
    pruned = study.ask()  # reported to the storage (a search with a pruner), then pruned
    pruned.report(0.5, 1)
    pruned.report(0.6, 2)
    study.tell(pruned, state=optuna.trial.TrialState.PRUNED)
    complete = study.ask()  # no pruner: its steps are only in its folder
    study.tell(complete, 0.9)
    failed = study.ask()
    study.tell(failed, state=optuna.trial.TrialState.FAIL)
    silent = study.ask()  # never called ctx.report: no history file
    study.tell(silent, 0.1)
    study.enqueue_trial({})  # WAITING: never started
    write_history(tmp_path, 0, [{"step": 1, "val_accuracy": 0.0}])  # ignored: the storage has trial 0's
    write_history(
        tmp_path,
        1,
        [
            {"step": 1, "val_accuracy": 0.7, "val_loss": 1.0},
            {"step": 2, "val_loss": 0.5},  # no value of the metric at this step
            {"step": 3, "val_accuracy": float("nan")},
            {"step": 4, "val_accuracy": 0.9},
        ],
    )
    write_history(tmp_path, 2, [{"step": 1, "val_accuracy": 0.2}])

    curves = learning_curves(study.get_trials(deepcopy=False), tmp_path, "val_accuracy")

    assert list(curves.columns) == COLUMNS
    assert curves.values.tolist() == [[0, 1, 0.5], [0, 2, 0.6], [1, 1, 0.7], [1, 4, 0.9], [2, 1, 0.2]]


def test_a_trial_run_over_seeds_has_the_mean_of_its_seeds_at_each_step_all_of_them_reported(tmp_path: Path) -> None:
    # search.seeds: 2 with study.seed 5 -> one folder a seed run (trials/<n>.s5/, <n>.s6/), no pruner.
    study = optuna.create_study(direction="maximize")
    for value in (0.8, 0.6, 0.5):
        study.tell(study.ask(), value)
    write_history(tmp_path, "0.s5", [{"step": 1, "acc": 0.5}, {"step": 2, "acc": 0.7}, {"step": 3, "acc": 0.9}])
    write_history(tmp_path, "0.s6", [{"step": 1, "acc": 0.3}, {"step": 2, "acc": 0.5}])  # stopped after 2 steps
    write_history(tmp_path, "1.s5", [{"step": 1, "acc": 0.4}])
    write_history(tmp_path, "1.s6", [{"step": 1, "acc": 0.6}])
    write_history(tmp_path, "1.s7", [{"step": 1, "acc": 0.0}])  # not one of the study's seeds
    write_history(tmp_path, "1", [{"step": 1, "acc": 0.0}])  # left by a run without seeds
    write_history(tmp_path, ".1.s6.tmp-abc", [{"step": 1, "acc": 0.0}])  # an attempt being written
    write_history(tmp_path, "2.s5", [{"step": 1, "acc": 0.9}])  # seed 6's history is elsewhere (no shared folder)

    curves = learning_curves(study.get_trials(deepcopy=False), tmp_path, "acc", seeds=[5, 6])

    # Trial 2 has no curve: the mean of one of its two seeds would pass for the mean of both.
    assert curves.values.tolist() == [[0, 1, 0.4], [0, 2, 0.6], [1, 1, 0.5]]
    # Without seeds, a trial's own folder.
    assert learning_curves(study.get_trials(deepcopy=False), tmp_path, "acc").values.tolist() == [[1, 1, 0.0]]
