"""The asynchronous loop shared by the search and the ablation: keep ``capacity`` trial task
runs in flight on the Dask cluster, and hand each finished one to ``on_done`` at once (no
batch barrier: a free worker gets the next trial as soon as one finishes)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prefect import Task
from prefect.futures import PrefectFuture, as_completed

from ablate.trial import TrialResult, TrialSpec

Outcome = TrialResult | BaseException


def run_trials(
    trial_task: Task,
    specs: Iterator[TrialSpec],
    capacity: int,
    cache_dir: str,
    on_done: Callable[[TrialSpec, Outcome, int], None],
) -> None:
    """Submit ``specs`` as they are drawn, at most ``capacity`` at once; ``on_done(spec,
    outcome, running)`` gets a TrialResult or the exception that ended the trial."""
    pending: dict[PrefectFuture, TrialSpec] = {}
    exhausted = False
    while True:
        while not exhausted and len(pending) < capacity:
            spec = next(specs, None)
            if spec is None:
                exhausted = True
                break
            pending[trial_task.submit(spec, cache_dir)] = spec
        if not pending:
            return
        future = next(as_completed(list(pending)))
        on_done(pending.pop(future), _outcome(future), len(pending))


def _outcome(future: PrefectFuture) -> Outcome:
    try:
        return future.result(raise_on_failure=False)
    except Exception as err:  # the worker died under it (KilledWorker) or the cluster went away
        return err
