"""Why a trial failed, or how it ended when it did not simply complete: the closed set of
``trials.csv``'s ``reason`` column (see :func:`ablate.trial.failures.classify`). Use them as
``reasons.TIMEOUT``."""

from __future__ import annotations

from ablate.vocab.word import Word


class FailureReason(Word):
    ERROR = "error"  # the trial's own code raised (retried once, unless it raised the same twice)
    TIMEOUT = "timeout"  # ran past execution.trial_timeout_s (its worker replaced if it did not stop)
    STRAGGLER = "straggler"  # much slower than its peers, stopped under execution.stragglers.stop
    OOM = "oom"  # ran out of GPU memory twice, the second time alone on its GPU
    WORKER_DIED = "worker_died"  # its worker process died under it
    INVALID_METRIC = "invalid_metric"  # its metrics broke the trial contract
    PRUNED = "pruned"  # not a failure: the study's pruner stopped it
    MOVED = "moved"  # not a failure: completed on another worker (the first was replaced)


ERROR, TIMEOUT, STRAGGLER, OOM = FailureReason.ERROR, FailureReason.TIMEOUT, FailureReason.STRAGGLER, FailureReason.OOM
WORKER_DIED, INVALID_METRIC = FailureReason.WORKER_DIED, FailureReason.INVALID_METRIC
PRUNED, MOVED = FailureReason.PRUNED, FailureReason.MOVED
REASONS = tuple(FailureReason)
STOPPED = (TIMEOUT, STRAGGLER)  # the run stopped the trial on its worker
