"""failures: why a trial attempt failed, and whether trying it again can help.

Transient faults (a lost connection to a worker, CUDA or host memory running out, I/O errors)
are retried with backoff, up to ``execution.retries``. Deterministic ones are failed at once: a
timeout, a trial that broke the contract (NaN or inf metric, missing metric, wrong return type),
a trial whose workers kept dying (KilledWorker: Dask's scheduler has already rerun it on fresh
workers ``distributed.scheduler.allowed-failures`` times), and any other exception the trial's
own code raised twice with the same type and message, since a third attempt would raise it
again. So an unknown exception (or a missing file) is tried once more, to find out.

The reason is recorded with every failed trial (``trials.csv``'s ``reason`` column).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import NamedTuple

from ablate.errors import (
    InvalidMetricError,
    OutOfGpuMemoryError,
    TrialError,
    TrialPruned,
    TrialStraggledError,
    TrialTimeoutError,
)
from ablate.vocab import reasons

REASONS = reasons.REASONS  # ablate.vocab.reasons says what each means

# Matched by class name, so that ablate needs neither torch nor distributed to tell them apart:
# torch.cuda.OutOfMemoryError (and torch.OutOfMemoryError); distributed's KilledWorker (the
# scheduler gave up on a task whose workers kept dying) and its closed-connection errors.
_OOM_TYPES = frozenset({"OutOfMemoryError", "MemoryError"})
_OOM_MESSAGES = ("CUDA out of memory", "CUDA error: out of memory")
_WORKER_DIED_TYPES = frozenset({"KilledWorker", "CommClosedError", "StreamClosedError"})
# OSErrors that name a wrong path: as deterministic as any bug, so not retried as I/O faults are.
_PATH_ERRORS = (FileNotFoundError, FileExistsError, IsADirectoryError, NotADirectoryError, PermissionError)


class Verdict(NamedTuple):
    reason: str  # one of REASONS
    retry: bool


def signature(exc: BaseException) -> str:
    """Type and message: two attempts that raise the same signature fail the same way."""
    return f"{type(exc).__module__}.{type(exc).__qualname__}: {exc}"


def classify(exc: BaseException, seen: Collection[str] = ()) -> Verdict:
    """Why an attempt failed, and whether to try again.

    Args:
        exc: the exception the attempt raised (or that the scheduler reported for it).
        seen: the :func:`signature` of each earlier attempt's exception, for this trial.

    Returns:
        The reason (one of :data:`REASONS`) and whether a retry can help.
    """
    if isinstance(exc, TrialPruned):  # the study stopped it on purpose: never run it again
        return Verdict(reasons.PRUNED, False)
    if isinstance(exc, TrialTimeoutError):
        return Verdict(reasons.TIMEOUT, False)
    if isinstance(exc, TrialStraggledError):
        return Verdict(reasons.STRAGGLER, False)
    if isinstance(exc, InvalidMetricError):
        return Verdict(reasons.INVALID_METRIC, False)
    if isinstance(exc, OutOfGpuMemoryError):  # already tried beside others and alone
        return Verdict(reasons.OOM, False)
    if isinstance(exc, TrialError):  # any other break of the trial contract
        return Verdict(reasons.ERROR, False)
    if "KilledWorker" in {cls.__name__ for cls in type(exc).__mro__}:
        # The scheduler already reran the trial on fresh workers (distributed's
        # allowed-failures) and gave up: another attempt would kill another worker.
        return Verdict(reasons.WORKER_DIED, False)
    transient = _transient_reason(exc)
    if transient:
        return Verdict(transient, True)
    return Verdict(reasons.ERROR, signature(exc) not in seen)


def _transient_reason(exc: BaseException) -> str | None:
    names = {cls.__name__ for cls in type(exc).__mro__}
    if names & _WORKER_DIED_TYPES:
        return "worker_died"
    if names & _OOM_TYPES or any(m in str(exc) for m in _OOM_MESSAGES):
        return "oom"
    if isinstance(exc, OSError) and not isinstance(exc, _PATH_ERRORS):
        return "error"  # I/O, a lost connection, a timed-out socket
    return None
