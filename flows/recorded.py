"""A subflow starts once the Prefect server has recorded the task runs that ended just before it.

A subflow's start writes to the server: the task run that stands for it in its parent flow run
(``POST /task_runs/``). The task runs themselves reach the server as events, which its task-run
recorder writes as they arrive. On a server with SQLite (the local one ``ablate`` starts), a
request whose transaction read the database before the recorder's commit cannot write after it
(``SQLITE_BUSY_SNAPSHOT``): the server answers 503, and Prefect's client waits 2 s (its back-off,
not a setting) before it asks again. The search subflow starts a few milliseconds after the
prepare task's events are sent, so every new study's `ablate run` paid those 2 s on the way to
its first trial (4 runs of 4, 2-core machine, 2026-12-07). Asking the server until it shows those
task runs ended costs a tenth of that.
"""

from __future__ import annotations

import time
from collections import deque
from uuid import UUID

from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import TaskRunFilter, TaskRunFilterId

WAIT_S = 1.0  # at most: past it the subflow starts, and a 503 costs what it cost before
POLL_S = 0.02
# The task runs that ended last in this process. The recorder writes events in the order they
# come, so the last ones recorded means the others are too.
_ended: deque[UUID] = deque(maxlen=16)


def ended(task_run_id: UUID | None) -> None:
    """``task_run_id`` ended (its final state's event is sent, or about to be)."""
    if task_run_id is not None:
        _ended.append(task_run_id)


def wait_until_recorded(within_s: float = WAIT_S) -> None:
    """Return once the server shows the task runs that ended last in a final state, or after
    ``within_s``. A server that cannot be asked is left to the subflow's own request to report."""
    ids = list(_ended)
    _ended.clear()
    if not ids:
        return
    deadline = time.monotonic() + within_s
    try:
        with get_client(sync_client=True) as client:
            while True:
                runs = client.read_task_runs(task_run_filter=TaskRunFilter(id=TaskRunFilterId(any_=ids)))
                if len(runs) == len(set(ids)) and all(r.state is not None and r.state.is_final() for r in runs):
                    return
                if time.monotonic() >= deadline:
                    return
                time.sleep(POLL_S)
    except Exception:  # noqa: BLE001  (the subflow's start meets the same server and says what is wrong)
        return
