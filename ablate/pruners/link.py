"""How a trial's progress on a worker reaches its study, so the study's pruner can stop it.

The driver puts a :class:`PruningLink` in each search trial's spec: where the study's storage is,
which Optuna trial this is, the metric to report and the pruner. On the worker,
:func:`report_step` opens the same storage (a JournalFileBackend file is safe to append to from
several processes on one host: it locks), reports the metric at the step and asks the pruner.
Only the driver ever tells a trial's final state.
"""

from __future__ import annotations

import math
import os
import socket
import threading
from typing import TYPE_CHECKING, Any

from ablate.errors import TrialError
from ablate.vocab.journal import JournalIdentity
from ablate.vocab.trial import PruningLink
from ablate.vocab.url import open_database

if TYPE_CHECKING:
    import optuna


# One study object per worker process and study: its storage replays the journal incrementally,
# so reopening it at every step would re-read the whole file.
_STUDIES: dict[tuple[str, JournalIdentity | None, str, str, str], optuna.Study] = {}
_LOCK = threading.Lock()


def report_step(link: PruningLink, step: int, metrics: dict[str, float]) -> bool:
    """Report ``metrics[link.metric]`` at ``step``; True when the trial should stop now.

    A step without a finite value of the metric is not reported and never prunes.
    """
    from optuna.trial import Trial

    value = metrics.get(link.metric)
    if value is None or not math.isfinite(value):
        return False
    trial = Trial(_study(link), link.trial_id)
    trial.report(float(value), int(step))
    return trial.should_prune()


def _study(link: PruningLink) -> optuna.Study:
    # Optuna and the pruners only in a trial that reports a step to a pruner: this module travels
    # with every trial spec, and most trials never prune.
    import optuna

    from ablate.pruners import make_pruner

    # A worker of a long-lived cluster (execution.address) outlives the study's journal when
    # --restart sets it aside: the journal it holds open is keyed by which file it is.
    journal = JournalIdentity.of(link.storage) if isinstance(link.storage, str) else None
    key = (repr(link.storage), journal, link.study, link.pruner, repr(sorted(link.options.items())))
    with _LOCK:
        if key not in _STUDIES:
            storage = _open(link.storage)
            _STUDIES[key] = optuna.load_study(
                study_name=link.study, storage=storage, pruner=make_pruner(link.pruner, link.options)
            )
        return _STUDIES[key]


def _open(storage: Any) -> optuna.storages.BaseStorage:
    if not isinstance(storage, str):
        return open_database(storage)
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    if not os.path.exists(storage):
        # Opening it would create an empty journal here: a worker on another machine, without
        # the driver's folder, would lose its reports and fail on a study it cannot find.
        raise TrialError(
            f"the study's journal {storage} is not on this worker's machine ({socket.gethostname()}): "
            "pruning reports each step to the study; set study.storage to a database URL every machine "
            "reaches, or share the data folder"
        )
    return JournalStorage(JournalFileBackend(storage))
