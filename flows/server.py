"""The Prefect API every process of a run shares: the flow and every Dask worker.

Without one, each Dask worker process would start its own temporary Prefect server (seconds
each) and the UI would show nothing. ``ensure_api`` uses the API that Prefect's settings name
(``PREFECT_API_URL`` in the environment, else ``prefect.toml`` in the folder ablate runs in, else
the active profile), starting a server on 127.0.0.1:4200 in the background when that is the
address and none answers there. The checkout's ``prefect.toml`` names that address, so the bare
``prefect`` CLI, run from the checkout, talks to the same server.

The server (and ``make deploy``'s worker) record their pid with the checkout that started them
(see :func:`write_pid_file`): ``make server-stop`` stops only what its own checkout started.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ablate.errors import AblateError

HOST, PORT = "127.0.0.1", 4200
STARTUP_TIMEOUT_S = 120
# A server whose port refuses connections is gone (killed, crashed): give up on it after a few
# seconds, before Prefect's client starts printing its own retries. One that accepts but does not
# answer may only be busy (2 cores, a burst of task-run events): wait much longer for it; the run's
# own calls wait on it meanwhile anyway. (Seen once in CI, late in the test suite on a loaded
# 2-core machine: the shared test server gave no answer for 60 s, which was then this limit, and
# the run stopped; why it was silent is not known.)
REFUSED_GRACE_S = 3.0
SILENT_GRACE_S = 180.0


def default_api_url() -> str:
    return f"http://{HOST}:{PORT}/api"


def ui_url(api_url: str) -> str:
    return api_url[: -len("/api")] if api_url.endswith("/api") else api_url


def is_healthy(api_url: str, timeout_s: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(f"{api_url}/health", timeout=timeout_s) as r:
            return r.status == 200
    except OSError:
        return False


def probe_api(api_url: str, timeout_s: float = 2.0) -> str:
    """``"up"`` if anything answers HTTP at ``api_url`` (even an error status: a server is there),
    ``"refused"`` if nothing listens on its port, else ``"silent"`` (no answer in time)."""
    try:
        with urllib.request.urlopen(f"{api_url}/health", timeout=timeout_s):
            return "up"
    except urllib.error.HTTPError:
        return "up"
    except urllib.error.URLError as err:
        return "refused" if isinstance(err.reason, ConnectionRefusedError) else "silent"
    except ConnectionRefusedError:
        return "refused"
    except OSError:  # a timeout while reading, a reset connection
        return "silent"


def watch_api(api_url: str, on_lost: Callable[[str], None], interval_s: float = 1.0) -> threading.Event:
    """Call ``on_lost(reason)`` from a daemon thread once the API stops answering; set the
    returned event to stop watching.

    Prefect's client retries a lost server for minutes per request (and a run makes many), so a
    run whose server died would hang rather than fail.
    """
    stop = threading.Event()

    def watch() -> None:
        last_up = time.monotonic()
        while not stop.wait(interval_s):
            state = probe_api(api_url)
            down_s = time.monotonic() - last_up
            if state == "up":
                last_up = time.monotonic()
            elif down_s >= (REFUSED_GRACE_S if state == "refused" else SILENT_GRACE_S):
                what = "refuses connections" if state == "refused" else "does not answer"
                on_lost(f"the Prefect server at {api_url} {what} (for {down_s:.0f} s)")
                return

    threading.Thread(target=watch, name="ablate-api-watch", daemon=True).start()
    return stop


def prefect_home() -> Path:
    return Path(os.environ.get("PREFECT_HOME", Path.home() / ".prefect"))


def server_log() -> Path:
    return prefect_home() / f"server-{PORT}.log"


def server_pid_file() -> Path:
    return prefect_home() / f"server-{PORT}.pid"


def write_pid_file(path: Path, pid: int, checkout: Path | None = None) -> None:
    """Record a background process ablate started: its pid, its start time (a pid reused by
    another process is not it) and the checkout it was started from."""
    record = {"pid": pid, "started": _start_time(pid), "checkout": str((checkout or Path.cwd()).resolve())}
    path.write_text(json.dumps(record) + "\n")


def read_pid_file(path: Path) -> dict | None:
    """The record of :func:`write_pid_file`, where its process still runs; None otherwise.
    (A file of a plain pid, as older versions wrote, has no checkout.)"""
    try:
        text = path.read_text().strip()
        record: dict[str, Any] = (
            json.loads(text) if text.startswith("{") else {"pid": int(text), "started": None, "checkout": None}
        )
        pid = int(record["pid"])
        os.kill(pid, 0)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if record.get("started") is not None and record["started"] != _start_time(pid):
        return None  # the pid now names another process
    return record


def stop_owned(path: Path, what: str, checkout: Path) -> str | None:
    """Stop the process ``path`` records when ``checkout`` started it; say what was done."""
    record = read_pid_file(path)
    if record is None:
        path.unlink(missing_ok=True)
        return None
    pid, owner = int(record["pid"]), record.get("checkout")
    if owner != str(checkout.resolve()):
        by = f"another checkout ({owner})" if owner else "an unknown checkout"
        return f"left {what} (pid {pid}) running: {by} started it"
    try:
        os.killpg(pid, signal.SIGTERM)  # started in a session of its own: its children go with it
    except OSError:
        os.kill(pid, signal.SIGTERM)
    path.unlink(missing_ok=True)
    return f"stopped {what} (pid {pid})"


def _start_time(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (Linux), or None where unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[19])  # field 22; the name before it may hold spaces


def configured_api_url() -> tuple[str | None, str]:
    """The API URL Prefect's settings give in this folder, and where it comes from."""
    if os.environ.get("PREFECT_API_URL"):
        return os.environ["PREFECT_API_URL"], "PREFECT_API_URL"
    from prefect.settings import get_current_settings

    url = get_current_settings().api.url
    return (str(url).rstrip("/") if url else None), "Prefect's settings (prefect.toml or the active profile)"


def ensure_api(quiet: bool = False) -> str:
    """Return the API URL for this run, starting the local server first when it is the one the
    settings name (or they name none) and it does not answer."""
    url, where = configured_api_url()
    if url and url != default_api_url():
        if probe_api(url, timeout_s=10.0) != "up":
            raise AblateError(
                f"{where} gives the Prefect API {url}, but no Prefect server answers there; start it, or "
                f"set the API to {default_api_url()} and ablate starts one"
            )
    else:
        url = default_api_url()
        if not is_healthy(url):
            start_server(url, quiet)
    os.environ["PREFECT_API_URL"] = url  # the Dask workers and the flow's own client
    return url


def start_server(url: str, quiet: bool = False) -> None:
    """Start ``prefect server start`` in its own session, so it outlives this command."""
    log = server_log()
    log.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_UI_API_URL": url}
    env.pop("PREFECT_API_URL", None)
    prefect = Path(sys.executable).with_name("prefect")
    cmd = [str(prefect), "server", "start", "--host", HOST, "--port", str(PORT)]
    if not quiet:
        print(
            f"starting a Prefect server on {ui_url(url)} in the background (log: {log}); "
            "the first start creates its database, which takes up to a minute",
            file=sys.stderr,
            flush=True,
        )
    with log.open("ab") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=out, stdin=subprocess.DEVNULL, env=env, start_new_session=True)
    write_pid_file(server_pid_file(), proc.pid)
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if is_healthy(url):
            return
        if proc.poll() is not None:
            raise AblateError(f"the Prefect server exited with code {proc.returncode} while starting; see {log}")
        time.sleep(0.5)
    raise AblateError(f"the Prefect server did not answer on {url} within {STARTUP_TIMEOUT_S} s; see {log}")
