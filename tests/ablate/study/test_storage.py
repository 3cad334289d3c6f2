"""ablate.study.storage: one storage per journal within a run, and what it must still see."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import optuna

from ablate.config.load import load_params
from ablate.study.storage import JOURNAL, load_study, one_storage_per_run, open_storage
from ablate.vocab.params import Params, PathsConfig

optuna.logging.set_verbosity(optuna.logging.WARNING)

DEFAULT = Path(__file__).resolve().parents[3] / "params" / "digits.yaml"


def make_params(tmp_path: Path) -> Params:
    p = load_params(DEFAULT)
    return dataclasses.replace(
        p,
        study=dataclasses.replace(p.study, name="unit"),
        paths=PathsConfig(data=str(tmp_path / "data"), reports=str(tmp_path / "reports")),
    )


def add_trials(storage: optuna.storages.BaseStorage, name: str, values: list[float]) -> None:
    study = optuna.create_study(study_name=name, storage=storage, direction="maximize", load_if_exists=True)
    for v in values:
        trial = study.ask()
        trial.suggest_float("x", 0.0, 1.0)
        study.tell(trial, v)


def values(study: optuna.Study | None) -> list[float]:
    assert study is not None
    return [t.value for t in study.get_trials(deepcopy=False) if t.value is not None]


def test_within_a_run_every_read_shares_one_storage_and_outside_each_opens_its_own(tmp_path: Path) -> None:
    params = make_params(tmp_path)
    add_trials(open_storage(params), "unit", [0.1, 0.2])
    with one_storage_per_run():
        first, second = load_study(params), load_study(params)
        assert first is not None and second is not None
        assert first._storage is second._storage
        assert open_storage(params) is first._storage
        with one_storage_per_run():  # nested: the outer run's storage
            assert open_storage(params) is first._storage
        assert open_storage(params) is first._storage
    assert open_storage(params) is not open_storage(params)
    assert load_study(params, read_only=True)._storage is not open_storage(params)  # type: ignore[union-attr]


def test_the_shared_storage_sees_trials_another_writer_appended(tmp_path: Path) -> None:
    params = make_params(tmp_path)
    add_trials(open_storage(params), "unit", [0.1])
    with one_storage_per_run():
        assert values(load_study(params)) == [0.1]
        # Another process's appends (here a storage of its own): read on the next look.
        add_trials(optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(
            str(params.study_dir / JOURNAL))), "unit", [0.3])  # fmt: skip
        assert values(load_study(params)) == [0.1, 0.3]


def test_a_journal_set_aside_mid_run_is_not_read_in_place_of_the_new_one(tmp_path: Path) -> None:
    params = make_params(tmp_path)
    with one_storage_per_run():
        add_trials(open_storage(params), "unit", [0.1, 0.2, 0.3])
        assert values(load_study(params)) == [0.1, 0.2, 0.3]
        # --restart: the study's folder moves aside, and a new study starts at the same path.
        shutil.move(params.study_dir, tmp_path / "aside")
        assert load_study(params) is None
        add_trials(open_storage(params), "unit", [0.9])
        assert values(load_study(params)) == [0.9]
        assert values(load_study(dataclasses.replace(params, paths=params.paths))) == [0.9]


def test_a_journal_rewritten_in_place_mid_run_is_read_afresh(tmp_path: Path) -> None:
    params = make_params(tmp_path)
    journal = params.study_dir / JOURNAL
    with one_storage_per_run():
        add_trials(open_storage(params), "unit", [0.1])
        backup = journal.read_bytes()
        add_trials(open_storage(params), "unit", [0.2, 0.3])
        assert values(load_study(params)) == [0.1, 0.2, 0.3]
        with open(journal, "r+b") as f:  # a backup restored over it: same file, same first line
            f.write(backup)
            f.truncate()
        assert values(load_study(params)) == [0.1]
