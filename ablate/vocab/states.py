"""A trial's state, by the name Optuna gives it (``optuna.trial.TrialState``): what the trials
table's ``state`` column holds, and what the progress lines, the report and ``ablate status``
read. Use them as ``states.COMPLETE``."""

from __future__ import annotations

from ablate.vocab.word import Word


class TrialState(Word):
    COMPLETE = "COMPLETE"
    PRUNED = "PRUNED"
    FAIL = "FAIL"
    RUNNING = "RUNNING"
    WAITING = "WAITING"


COMPLETE, PRUNED, FAIL = TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL
RUNNING, WAITING = TrialState.RUNNING, TrialState.WAITING
STATES = tuple(TrialState)
FINISHED = (COMPLETE, PRUNED, FAIL)  # a run told the study how the trial ended
