"""search.enqueue: configurations evaluated before the sampler proposes any (a known-good or
published setting, Ax's baseline arm), each once per study.

An enqueued configuration becomes a waiting Optuna trial (``Study.enqueue_trial``) that the next
ask takes as it is; the trial carries the configuration as its ``enqueued`` user attribute, which
marks it in ``trials.csv`` and the report, and tells later runs it was given: a rerun, a resumed
run or a grown study enqueues nothing twice, and an entry added to the file later is enqueued by
the next run.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import optuna
from optuna.trial import TrialState

from ablate.study.storage import FINISHED

ENQUEUED = "enqueued"  # the user attribute of an enqueued trial: its configuration


def enqueue_baselines(study: optuna.Study, configs: Sequence[dict[str, Any]], n_trials: int) -> int:
    """Enqueue, in order, each of ``configs`` the study was not given before, as far as the
    budget ``n_trials`` has room beside the trials finished and waiting; returns how many.

    Call it after resuming (StudySession.recover) and before the first ask.
    """
    if not configs:  # the common case: no need to read every trial
        return 0
    trials = study.get_trials(deepcopy=False)
    given = {_canonical(t.user_attrs[ENQUEUED]) for t in trials if t.user_attrs.get(ENQUEUED)}
    taken = sum(t.state in (*FINISHED, TrialState.WAITING) for t in trials)
    new = [c for c in configs if _canonical(c) not in given][: max(0, n_trials - taken)]
    for config in new:
        study.enqueue_trial(dict(config), user_attrs={ENQUEUED: dict(config)})
    return len(new)


def _canonical(config: dict[str, Any]) -> str:
    # As the storage gives it back: JSON, whatever order the keys were written in.
    return json.dumps(config, sort_keys=True)
