"""What a trial running on a Dask worker tells the run's driver while it runs: that it started
computing, and each step it reports. Dask carries them (``Worker.log_event``, a message on the
worker's batched stream to the scheduler, which hands it to the clients subscribed to the topic);
the driver's :class:`ablate.runtime.guard.TrialGuard` times trials with them, so it can stop a
trial that hangs inside native code and flag one much slower than its peers.

Outside a Dask worker (``ablate rerun``, a trial run in-process) every function here does nothing.
"""

from __future__ import annotations

import threading
from typing import Any

TOPIC = "ablate-trials"
STARTED, STEP = "started", "step"


def _task() -> tuple[Any, Any] | None:
    """This thread's Dask worker and the key of the task it runs, or None outside one."""
    try:
        from distributed import get_worker

        worker = get_worker()
    except (ImportError, ValueError):
        return None
    key = worker.active_threads.get(threading.get_ident())
    return None if key is None else (worker, key)


def announce(kind: str, **fields: Any) -> None:
    """Tell the driver about this trial: ``started`` (it holds its worker from now on) or
    ``step`` (``step=n``)."""
    task = _task()
    if task is not None:
        worker, key = task
        worker.log_event(TOPIC, {"kind": kind, "key": key, "worker": worker.address, **fields})


def given_up() -> bool:
    """Whether the driver gave this task up while it waited for its turn on the worker (it moved
    the trial to another worker, or the run is stopping): the trial must not run here then."""
    task = _task()
    if task is None:
        return False
    worker, key = task
    ts = worker.state.tasks.get(key)  # read from this thread: a snapshot is all that is needed
    return ts is None or ts.state in ("cancelled", "released", "forgotten")
