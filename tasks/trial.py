"""trial: run one trial on a Dask worker, or restore it from the content-addressed cache."""

from __future__ import annotations

from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from ablate.cache import run_cached
from ablate.errors import TrialTimeoutError
from ablate.trial import TrialResult, TrialSpec


def retry_unless_timeout(task: Any, task_run: Any, state: Any) -> bool:
    """Retry exceptions (a flaky GPU, a full disk) but not a trial that ran out of time."""
    return not isinstance(state.data, TrialTimeoutError)


def retry_delays(first_s: float, retries: int) -> list[float]:
    """Exponential backoff: first_s, 2*first_s, 4*first_s, ..."""
    return [first_s * 2**i for i in range(retries)]


# Prefect's own result cache is off on purpose: a cache hit must also materialize the trial's
# output folder under its new number, which ablate.cache does (keyed by params, seed, data hash
# and code version). The timeout is enforced inside the trial (ablate.trial), not by Prefect,
# whose thread-based timeout warns on every run and cannot free a worker any better.
@task(
    name="trial",
    task_run_name="{spec.label}",
    retries=2,
    retry_delay_seconds=retry_delays(1.0, 2),
    retry_condition_fn=retry_unless_timeout,
    cache_policy=NO_CACHE,
    persist_result=False,
)
def run_trial(spec: TrialSpec, cache_dir: str | None) -> TrialResult:
    return run_cached(spec, cache_dir)
