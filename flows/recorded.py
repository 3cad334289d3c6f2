"""A subflow starts once the Prefect server has recorded the task runs that ended just before it.

A subflow's start writes to the server: the task run that stands for it in its parent flow run
(``POST /task_runs/``). The task runs themselves reach the server as events, which its task-run
recorder writes as they arrive. On a server with SQLite (what ``prefect server start`` uses, and
the local server ``ablate`` starts), a request whose transaction read the database before the
recorder's commit cannot write after it (``SQLITE_BUSY_SNAPSHOT``): the server answers 503, and
Prefect's client waits 2 s (its back-off, not a setting) before it asks again. The search subflow
starts a few milliseconds after the prepare task's events are sent, so every new study's `ablate
run` paid those 2 s on the way to its first trial (4 runs of 4, 2-core machine, 2026-12-07).
Asking the server until it shows those task runs ended costs a tenth of that.

Only a server on this machine is asked (SQLite is a local server's database; a remote one or
Prefect Cloud is left alone), with one plain request at a time, each bounded by what is left of
the wait: Prefect's own client retries a refused connection or a busy server with back-offs of up
to a minute, which would turn the wait into the stall it avoids where the server went away.
"""

from __future__ import annotations

import base64
import json
import time
import urllib.request
from collections import deque
from urllib.parse import urlsplit
from uuid import UUID

from prefect.client.schemas.objects import TERMINAL_STATES
from prefect.settings import get_current_settings

WAIT_S = 1.0  # at most: past it the subflow starts, and a 503 costs what it cost before
POLL_S = 0.02
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
_FINAL = {state.value for state in TERMINAL_STATES}
# The task runs that ended last in this process. The recorder writes events in the order they
# come, so the last ones recorded means the others are too.
_ended: deque[UUID] = deque(maxlen=16)


def ended(task_run_id: UUID | None) -> None:
    """``task_run_id`` ended (its final state's event is sent, or about to be)."""
    if task_run_id is not None:
        _ended.append(task_run_id)


def wait_until_recorded(within_s: float = WAIT_S) -> None:
    """Return once a server on this machine shows the task runs that ended last in a final state,
    or after ``within_s``. A server that cannot be asked is left to the subflow's own request to
    report."""
    ids: dict[str, None] = {}  # in order, once each
    while _ended:
        ids[str(_ended.popleft())] = None
    settings = get_current_settings().api
    url = str(settings.url or "").rstrip("/")
    if not ids or urlsplit(url).hostname not in LOCAL_HOSTS:
        return
    headers = {"Content-Type": "application/json"}
    if settings.auth_string:
        auth = settings.auth_string.get_secret_value().encode()
        headers["Authorization"] = f"Basic {base64.b64encode(auth).decode()}"
    body = json.dumps({"task_runs": {"id": {"any_": list(ids)}}, "limit": len(ids)}).encode()
    deadline = time.monotonic() + within_s
    while (left := deadline - time.monotonic()) > 0:
        request = urllib.request.Request(f"{url}/task_runs/filter", data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=left) as response:
                runs = json.load(response)
        except (OSError, ValueError):  # refused, timed out, an error status, not JSON
            return
        states = [(run.get("state") or {}).get("type") for run in runs]
        if len(states) == len(ids) and all(state in _FINAL for state in states):
            return
        time.sleep(min(POLL_S, max(0.0, deadline - time.monotonic())))
