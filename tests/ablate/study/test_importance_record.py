"""A study's parameter importance kept with what it was computed from, and read back while that
is unchanged (a report of an unchanged study does not refit)."""

from __future__ import annotations

import json
from pathlib import Path

import optuna
import pandas as pd

from ablate.study.importance import param_importance
from ablate.study.importance_record import cached_param_importance, to_record
from tests.ablate.study.test_importance import driven_by_x, study_of

optuna.logging.set_verbosity(optuna.logging.WARNING)


def test_a_recorded_table_is_reused_while_the_trials_are_the_same_and_refit_when_they_change(tmp_path: Path) -> None:
    study = study_of(driven_by_x, 30)
    record = tmp_path / ".importance.json"
    first = cached_param_importance(study.trials, "maximize", 0, record)  # no record yet: fit
    pd.testing.assert_frame_equal(first.table, param_importance(study.trials, "maximize").table)
    record.write_text(json.dumps(to_record(first)))
    again = cached_param_importance(study.trials, "maximize", 0, record)
    pd.testing.assert_frame_equal(again.table, first.table)  # read back: the same table, to the bit
    assert (again.key, again.n_used, again.excluded, again.notes) == (first.key, 30, {}, first.notes)

    # Read, not refit: a record with another table under the same key is returned as it is.
    doctored = to_record(first)
    doctored["table"][0]["importance"] = 0.123
    record.write_text(json.dumps(doctored))
    assert cached_param_importance(study.trials, "maximize", 0, record).table["importance"].iloc[0] == 0.123
    # Any change to what the table is computed from refits: a trial more, another seed, direction.
    study.optimize(driven_by_x, n_trials=1)
    for changed in (
        cached_param_importance(study.trials, "maximize", 0, record),
        cached_param_importance(study.trials[:30], "maximize", 1, record),
        cached_param_importance(study.trials[:30], "minimize", 0, record),
    ):
        assert changed.key != first.key and 0.123 not in changed.table["importance"].tolist()
    # A record this code cannot read (damaged, from elsewhere) is no record.
    record.write_text("{not json")
    assert cached_param_importance(study.trials[:30], "maximize", 0, record).key == first.key


def test_a_failed_trial_more_changes_the_key_it_changes_what_the_report_counts(tmp_path: Path) -> None:
    study = study_of(driven_by_x, 25)
    before = cached_param_importance(study.trials, "maximize", 0, tmp_path / "none.json")
    study.tell(study.ask(), state=optuna.trial.TrialState.FAIL)
    after = cached_param_importance(study.trials, "maximize", 0, tmp_path / "none.json")
    assert after.key != before.key and after.excluded == {"FAIL": 1} and before.excluded == {}
