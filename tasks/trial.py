"""trial: one trial as a Prefect task run in the driver, computed on a Dask worker (or restored
from the content-addressed cache there).

The task run's engine (states, retries with backoff, logs) runs in a driver thread; its body hands
the trial to the cluster through distributed's client and waits. So Prefect's per-task cost is
paid in the driver, where it overlaps the trials queued on the workers, and a worker that dies
under a trial is an exception the task's retry condition sees (KilledWorker).
"""

from __future__ import annotations

import threading
from concurrent.futures import CancelledError
from typing import Any
from uuid import uuid4

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from ablate.errors import OutOfGpuMemoryError
from ablate.runtime.guard import TrialGuard
from ablate.trial.failures import classify, signature
from ablate.vocab import reasons
from ablate.vocab.params import ExecutionConfig
from ablate.vocab.trial import TrialResult, TrialSpec

# The exceptions each trial's earlier attempts raised, by task run. Prefect runs a task run's
# retries in one engine call, in one driver thread: a module-level record sees them all.
_SEEN: dict[Any, list[str]] = {}
_SEEN_MAX = 1000  # task runs remembered per worker process
_SEEN_LOCK = threading.Lock()  # task runs finish in several driver threads


def retry_if_transient(task: Any, task_run: Any, state: Any) -> bool:
    """Retry transient faults (a flaky GPU, a lost connection); fail deterministic ones at once
    (a timeout, a broken metric, the same exception twice). See ablate.trial.failures."""
    exc = state.data
    if not isinstance(exc, BaseException):
        return True
    if isinstance(exc, CancelledError):  # the run is stopping (Ctrl-C): its client was closed
        return False
    with _SEEN_LOCK:
        seen = _SEEN.setdefault(task_run.id, [])
        verdict = classify(exc, seen)
        seen.append(signature(exc))
        if not verdict.retry:
            del _SEEN[task_run.id]
        while len(_SEEN) > _SEEN_MAX:  # forget the oldest (its retries are long over)
            del _SEEN[next(iter(_SEEN))]
    return verdict.retry


def retry_delays(first_s: float, retries: int) -> list[float]:
    """Exponential backoff: first_s, 2*first_s, 4*first_s, ..."""
    return [first_s * 2**i for i in range(retries)]


# Prefect's own result cache is off on purpose: a cache hit must also materialize the trial's
# output folder under its new number, which ablate.trial.cache does (keyed by params, seed, data hash
# and code version). The timeout is enforced inside the trial (ablate.trial.execute), not by Prefect,
# whose thread-based timeout warns on every run and cannot free a worker any better.
@task(
    name="trial",
    task_run_name="{spec.label}",
    # The params' defaults; a run sets its own (execution.retries, retry_delay_s) with_options.
    retries=ExecutionConfig.retries,
    retry_delay_seconds=retry_delays(ExecutionConfig.retry_delay_s, ExecutionConfig.retries),
    retry_condition_fn=retry_if_transient,
    cache_policy=NO_CACHE,
    persist_result=False,
)
def run_trial(
    spec: TrialSpec, cache_dir: str | None, guard: TrialGuard, resources: dict[str, float] | None = None
) -> TrialResult:
    """Run ``spec`` on the cluster through ``guard`` (which stops it if it hangs past its timeout,
    and moves it if its worker is replaced) and wait for it, asking ``resources`` of its worker (a
    share of a GPU where trials are packed on GPUs).

    A packed trial that runs out of GPU memory beside the others is run once more at once, alone
    on a GPU (the whole ``GPU`` resource: it starts when the trials ahead of it have left one); out
    of memory again, it fails with reason ``oom`` and is not retried.
    """
    key = f"{spec.label}-{uuid4().hex[:8]}"

    def attempt(key: str, resources: dict[str, float] | None) -> Any:
        return guard.run(spec, cache_dir, key, resources)

    outcome = attempt(key, resources)
    if resources and resources.get("GPU", 1.0) < 1.0 and _out_of_memory(outcome):
        get_run_logger().warning("%s ran out of GPU memory beside other trials; once more, alone on a GPU", spec.label)
        outcome = attempt(f"{key}-alone", {**resources, "GPU": 1.0})
        if _out_of_memory(outcome):
            raise OutOfGpuMemoryError(f"{spec.label}: out of GPU memory beside other trials and alone: {outcome}")
    if isinstance(outcome, Exception):
        raise outcome
    return outcome


def _out_of_memory(outcome: Any) -> bool:
    return isinstance(outcome, BaseException) and classify(outcome).reason == reasons.OOM
