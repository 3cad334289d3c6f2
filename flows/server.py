"""The Prefect API every process of a run shares: the flow and every Dask worker.

Without one, each Dask worker process would start its own temporary Prefect server (seconds
each) and the UI would show nothing. ``ensure_api`` uses ``PREFECT_API_URL`` when it is set,
else a server on 127.0.0.1:4200, starting one in the background when none answers.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from ablate.errors import AblateError

HOST, PORT = "127.0.0.1", 4200
STARTUP_TIMEOUT_S = 120


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


def prefect_home() -> Path:
    return Path(os.environ.get("PREFECT_HOME", Path.home() / ".prefect"))


def server_log() -> Path:
    return prefect_home() / f"server-{PORT}.log"


def ensure_api(quiet: bool = False) -> str:
    """Return the API URL for this run, starting a local server first when none answers."""
    url = os.environ.get("PREFECT_API_URL")
    if url:
        return url
    url = default_api_url()
    if not is_healthy(url):
        start_server(url, quiet)
    os.environ["PREFECT_API_URL"] = url
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
        print(f"starting a Prefect server on {ui_url(url)} (log: {log})", file=sys.stderr, flush=True)
    with log.open("ab") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=out, stdin=subprocess.DEVNULL, env=env, start_new_session=True)
    (prefect_home() / f"server-{PORT}.pid").write_text(f"{proc.pid}\n")
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if is_healthy(url):
            return
        if proc.poll() is not None:
            raise AblateError(f"the Prefect server exited with code {proc.returncode} while starting; see {log}")
        time.sleep(0.5)
    raise AblateError(f"the Prefect server did not answer on {url} within {STARTUP_TIMEOUT_S} s; see {log}")
