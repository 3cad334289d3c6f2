"""The asynchronous loop shared by the search and the ablation: keep ``capacity`` trial task
runs in flight, and hand each finished one to ``on_done`` at once (no batch barrier: a free
worker gets the next trial as soon as one finishes).

The task runs run on the flow's ThreadPoolTaskRunner in the driver; each hands its trial to the
Dask cluster behind ``client`` and waits on it. With ``capacity`` above the number of workers the
next trial is already queued on each worker when its current one ends, so Prefect's per-task
cost (state changes, events) overlaps with trials instead of sitting between them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prefect import Task
from prefect.futures import PrefectFuture, as_completed
from prefect.task_runners import ThreadPoolTaskRunner

from ablate.trial.contract import TrialResult, TrialSpec

Outcome = TrialResult | BaseException


def trial_task_runner(capacity: int) -> ThreadPoolTaskRunner:
    """A driver thread per trial in flight: each one mostly waits on its Dask future."""
    return ThreadPoolTaskRunner(max_workers=capacity)


def run_trials(
    trial_task: Task,
    specs: Iterator[TrialSpec],
    capacity: int,
    cache_dir: str,
    scheduler: str,
    on_done: Callable[[TrialSpec, Outcome, int], None],
    resources: dict[str, float] | None = None,
) -> None:
    """Submit ``specs`` as they are drawn, at most ``capacity`` at once, each to run on the Dask
    cluster at ``scheduler``; ``on_done(spec, outcome, running)`` gets a TrialResult or the
    exception that ended the trial. ``resources``: what each trial asks of its Dask worker
    (``{"GPU": 1 / trials_per_gpu}`` where workers hold a GPU each).

    The client closes on the way out, also on an interrupt (Ctrl-C, SIGTERM) or an error: that
    cancels the trials in flight, so the task runner's threads end instead of waiting them out.
    """
    from distributed import Client

    pending: dict[PrefectFuture, TrialSpec] = {}
    exhausted = False
    with Client(scheduler, set_as_default=False) as client:
        while True:
            while not exhausted and len(pending) < capacity:
                spec = next(specs, None)
                if spec is None:
                    exhausted = True
                    break
                pending[trial_task.submit(spec, cache_dir, client, resources)] = spec
            if not pending:
                return
            future = next(as_completed(list(pending)))
            on_done(pending.pop(future), _outcome(future), len(pending))


def _outcome(future: PrefectFuture) -> Outcome:
    try:
        return future.result(raise_on_failure=False)
    except Exception as err:  # the cluster went away under it
        return err
