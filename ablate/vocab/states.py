"""A trial's state, by the name Optuna gives it (``optuna.trial.TrialState``): what the trials
table's ``state`` column holds, and what the progress lines, the report and ``ablate status``
read. Use them as ``states.COMPLETE``."""

from __future__ import annotations

COMPLETE, PRUNED, FAIL, RUNNING, WAITING = "COMPLETE", "PRUNED", "FAIL", "RUNNING", "WAITING"
STATES = (COMPLETE, PRUNED, FAIL, RUNNING, WAITING)
FINISHED = (COMPLETE, PRUNED, FAIL)  # a run told the study how the trial ended
