"""The one small exception tree of ablate.

Every error a user can cause by what they wrote (a params file, a data file, a trial function)
derives from :class:`AblateError`; the command line prints its message on one line and exits 2.
"""

from __future__ import annotations

from typing import Any


class AblateError(Exception):
    """Base class of every error ablate raises on purpose."""


class ConfigError(AblateError):
    """A params file, or an override of it, breaks a rule.

    The message names the file and the key, says what must hold, and what was got, e.g.
    ``params/digits.yaml: search.n_trials: must be an integer >= 1, but got 0``.
    """

    def __init__(self, source: str, key: str, message: str) -> None:
        self.source = source
        self.key = key
        self.rule = message  # what must hold and what was got, without the file and key
        where = ": ".join(part for part in (source, key) if part)
        text = f"{where}: {message}" if where else message
        # One line on the terminal, whatever a value quoted in it holds (a key or path with a newline).
        super().__init__(text.replace("\r", "\\r").replace("\n", "\\n"))


class StudyChangedError(ConfigError):
    """A study's stored fingerprint differs from what its params would compute trials from.

    Raised before any trial runs; the way forward is another ``study.name`` or ``--restart``.
    """


class DataError(AblateError):
    """The data named by ``data.source`` cannot be loaded or split as asked."""


class TrialError(AblateError):
    """A trial function broke the trial contract (e.g. returned no metrics)."""


class InvalidMetricError(TrialError):
    """A trial's metrics break the contract: not a dict of finite numbers, no study metric, or a
    metric named like a column of the trials table. Deterministic: it is failed, never retried."""


class MissingObjectiveError(InvalidMetricError):
    """A trial returned metrics without the study's objective ``metric``. Where no trial of the
    study ever returned it, the params name a metric the trial function does not have (a typo,
    ``val_acc``): the run stops at this first result (exit 2) instead of failing every trial."""

    def __init__(self, message: str, metric: str = "", returned: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.metric = metric
        self.returned = tuple(returned)

    def __reduce__(self) -> tuple[Any, ...]:  # keep the metric and the names when sent back from a worker
        return (type(self), (str(self), self.metric, self.returned))


class TrialStoppedError(TrialError):
    """A trial the driver stopped on its worker. Where the driver replaced the worker, it sets how
    long the trial held it (``held_s``), which worker it was (``worker_address``) and the run's notes
    on the trial (``trial_notes``)."""

    held_s: float | None = None
    worker_address: str | None = None
    trial_notes: dict[str, str] | None = None


class TrialTimeoutError(TrialStoppedError):
    """A trial ran past ``execution.trial_timeout_s``; it is failed with reason ``timeout``."""


class TrialGivenUpError(TrialError):
    """A trial the run gave up on its worker: moved elsewhere while it waited, or returned after the
    run stopped it as hung. Its result is never used (the driver cancelled its task)."""


class TrialStraggledError(TrialStoppedError):
    """A trial much slower than its peers at the same step, stopped under
    ``execution.stragglers.stop``; it is failed with reason ``straggler``, not retried."""


class OutOfGpuMemoryError(TrialError):
    """A trial packed on a GPU with others (``execution.trials_per_gpu``) ran out of GPU memory,
    then again alone on a GPU: failed with reason ``oom``, not retried."""


class TrialPruned(AblateError):
    """The study's pruner stopped a search trial at a step (raised by ``ctx.report``).

    A trial function may catch it to save a checkpoint, then must re-raise it. The trial is
    PRUNED in the study (reason ``pruned``), keeps its progress so far and is never run again.

    Attributes:
        step: the step at which it was stopped.
        metrics: what was reported at that step.
    """

    def __init__(self, message: str, step: int | None = None, metrics: dict[str, float] | None = None) -> None:
        super().__init__(message)
        self.step = step
        self.metrics = dict(metrics or {})

    def __reduce__(self) -> tuple[Any, ...]:  # keep step and metrics when sent back from a worker
        return (type(self), (str(self), self.step, self.metrics))


class NoTrialCompletedError(AblateError):
    """A study finished its budget without a single COMPLETE trial."""


class StudyLockedError(AblateError):
    """Another process is running the same study."""


class ClusterError(AblateError):
    """The Dask cluster can run no trial (its batch jobs end before their workers start)."""


class SyncError(AblateError):
    """The outputs could not be committed or pushed; what is on disk is intact."""


def one_line(err: BaseException, limit: int = 400) -> str:
    """An exception as one line of at most ``limit`` characters: its message (its type where it has
    none), and its cause where the message does not already say it."""
    text = " ".join(str(err).split()) or type(err).__name__
    cause = err.__cause__ or err.__context__
    if cause is not None and str(cause) and str(cause) not in text:
        text += f" ({type(cause).__name__}: {' '.join(str(cause).split())})"
    return text if len(text) <= limit else text[: limit - 3] + "..."
