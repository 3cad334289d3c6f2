"""The trial states ablate's tables and lines name are Optuna's own, by name."""

from __future__ import annotations

from optuna.trial import TrialState

from ablate.vocab import states


def test_each_state_is_the_name_optuna_gives_it() -> None:
    assert set(states.STATES) == {s.name for s in TrialState}
    assert states.FINISHED == (TrialState.COMPLETE.name, TrialState.PRUNED.name, TrialState.FAIL.name)
    assert all(TrialState[name].is_finished() for name in states.FINISHED)
