"""The asynchronous loop shared by the search and the ablation: keep ``capacity`` trial task
runs in flight, and hand each finished one to ``on_done`` at once (no batch barrier: a free
worker gets the next trial as soon as one finishes).

The task runs run on the flow's ThreadPoolTaskRunner in the driver; each hands its trial to the
Dask cluster behind ``client`` and waits on it. With ``capacity`` above the number of workers the
next trial is already queued on each worker when its current one ends, so Prefect's per-task
cost (state changes, events) overlaps with trials instead of sitting between them.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import importlib
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from prefect import Task
from prefect.futures import PrefectFuture
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner

from ablate.errors import ClusterError
from ablate.runtime.guard import TrialGuard
from ablate.runtime.jobqueue import cluster_failure
from ablate.vocab.params import ExecutionConfig, StragglerRule
from ablate.vocab.trial import TrialResult, TrialSpec
from flows.recorded import ended

Outcome = TrialResult | BaseException
CLUSTER_CHECK_S = 1.0  # while no trial ends: how often the loop asks whether its cluster failed
# The report's imports are made while the trials run once a trial has taken this long: trials that
# short leave the driver idle between their ends. Shorter ones keep it busy (Prefect's task runs,
# the Dask client): importing beside 200 no-op trials (~1.7 s of one core) slowed each by a quarter
# (68 -> 52 ms per trial per worker without it, 3 alternating pairs, 2 cores), and the whole
# command was faster with the imports after the loop.
PRELOAD_MIN_TRIAL_S = 0.25
_preload: list[str] = []  # what this process's next trials have imported once the first one ends


def trial_task_runner(capacity: int) -> TaskRunner[Any]:
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
    watch: Watch | None = None,
) -> None:
    """Submit ``specs`` as they are drawn, at most ``capacity`` at once, each to run on the Dask
    cluster at ``scheduler``; ``on_done(spec, outcome, running)`` gets a TrialResult or the
    exception that ended the trial. ``resources``: what each trial asks of its Dask worker
    (``{"GPU": 1 / trials_per_gpu}`` where workers hold a GPU each). ``watch``: the grace after a
    trial's timeout before its worker is replaced, and the straggler rule (see
    :class:`ablate.runtime.guard.TrialGuard`).

    When a trial finishes, the next one is drawn and submitted before ``on_done`` records the
    finished one: its worker waits for a trial, nobody waits for the record. (A spec drawn from
    a study still counts the finished trial as in flight, so the budget is never overdrawn.)

    The client closes on the way out, also on an interrupt (Ctrl-C, SIGTERM) or an error: that
    cancels the trials in flight, so the task runner's threads end instead of waiting them out.
    """
    from distributed import Client

    # Each task run reports its end here, with its outcome read in its own thread: Prefect 3.8
    # reads a state's result through its event-loop thread, a round trip that took a third of
    # the loop's time with 16 trials in flight. (Prefect's as_completed would also register a
    # callback on every pending future again for every trial that ends.)
    finished: queue.SimpleQueue[tuple[PrefectFuture, Outcome]] = queue.SimpleQueue()
    pending: dict[PrefectFuture, TrialSpec] = {}
    watch = watch or Watch.of(ExecutionConfig())  # the defaults of the execution section
    preload: threading.Thread | None = None
    with (
        _waited_for(lambda: preload),
        _heap_frozen(),
        Client(scheduler, set_as_default=False) as client,
        TrialGuard(client, watch.grace_s, watch.stragglers, say=_say) as guard,
    ):

        def fill() -> None:
            while len(pending) < capacity and (spec := next(specs, None)) is not None:
                future = trial_task.submit(spec, cache_dir, guard, resources)
                pending[future] = spec
                future.add_done_callback(lambda done: finished.put((done, _outcome(done))))

        fill()
        while pending:
            try:
                future, outcome = finished.get(timeout=CLUSTER_CHECK_S)
            except queue.Empty:
                if (why := cluster_failure(scheduler)) is not None:
                    raise ClusterError(why) from None
                continue
            spec = pending.pop(future)
            ended(future.task_run_id)  # a subflow after this one starts once the server has it
            fill()
            on_done(spec, outcome, len(pending))
            if _preload and preload is None and _long_enough(outcome):
                preload = _start_preload()


@contextlib.contextmanager
def preloading(modules: Sequence[str]) -> Iterator[None]:
    """Within the block, the first trial of a search or ablation to end after running for at least
    ``PRELOAD_MIN_TRIAL_S`` has ``modules`` imported in a background thread (once), when the driver
    mostly waits on its trials; the loop waits for that thread before it returns. Where no trial
    runs that long, the report imports them itself after the loop.

    The study flow names what its report imports when the report follows: the report after the
    last trial then no longer begins with 0.5 s of imports (matplotlib, scipy.stats; 2 cores).
    Any earlier, they would take the driver's core from the start-up's own imports. By name, as a
    preload: the trials' outputs do not depend on that code (a dvc.yaml stage's deps are the
    modules its step imports). Nothing is left armed for a later flow run in the same process
    (a served deployment's).

    The wait: two threads importing one package (matplotlib) at once, in different orders, can
    deadlock on Python's import locks, which Python breaks by handing one of them the half-made
    module. A 4-trial search once ended while the preload still imported matplotlib, and its
    report, importing it too, failed: "module 'matplotlib' has no attribute 'get_data_path'".
    After the loop, the flow imports what it needs (the report, an ablation's statistics) alone.
    (Imported by the loop itself instead, between trials, the recording of ended trials and the
    progress lines waited an import each.)"""
    _preload[:] = modules
    try:
        yield
    finally:
        _preload.clear()


def _long_enough(outcome: Outcome) -> bool:
    # A cached trial returns at once, whatever its first run took.
    return isinstance(outcome, TrialResult) and not outcome.cached and outcome.duration_s >= PRELOAD_MIN_TRIAL_S


def _start_preload() -> threading.Thread:
    modules = list(_preload)
    _preload.clear()
    thread = threading.Thread(target=_import_all, args=(modules,), name="ablate-preload", daemon=True)
    thread.start()
    return thread


def _import_all(modules: list[str]) -> None:
    for module in modules:
        try:
            importlib.import_module(module)
        except Exception:  # noqa: BLE001  (whoever needs it imports it again and says what is wrong)
            pass


@contextlib.contextmanager
def _waited_for(thread: Callable[[], threading.Thread | None]) -> Iterator[None]:
    """On the way out, however it is left, wait for the thread ``thread()`` names, if any."""
    try:
        yield
    finally:
        started = thread()
        if started is not None:
            started.join()


@dataclass(frozen=True)
class Watch:
    """What the driver watches the trials for: ``execution.timeout_grace_s`` and
    ``execution.stragglers``."""

    grace_s: float
    stragglers: StragglerRule | None

    @classmethod
    def of(cls, execution: ExecutionConfig) -> Watch:
        return cls(execution.timeout_grace_s, execution.stragglers)


def _say(line: str) -> None:
    print(line, flush=True)


@contextlib.contextmanager
def _heap_frozen() -> Iterator[None]:
    """Keep what the driver holds before the loop (Prefect, Optuna, pandas, scipy: ~330,000
    objects) out of the cyclic collector's reach while the loop runs: a full collection traversed
    them all, stopping every driver thread for 0.23-0.27 s (0.013 s frozen). The young generations
    are collected first (the garbage of the steps just run, prepare's; a full collection would
    take as long as the ones avoided, 0.7 s in a process that has run many flows, and delay the
    first trials), and what was frozen is given back when the loop ends: a process that runs flow
    after flow (a deployment's) collects it then. A heap frozen already (by whatever hosts the
    flow) is left as it is."""
    if gc.get_freeze_count():
        yield
        return
    gc.collect(1)
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _outcome(future: PrefectFuture) -> Outcome:
    try:
        return future.result(raise_on_failure=False)
    except Exception as err:  # the cluster went away under it
        return err
    except asyncio.CancelledError as err:  # the task runner cancelled it: the loop stopped on an error
        return err
