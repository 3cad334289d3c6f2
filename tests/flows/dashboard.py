"""optuna-dashboard as a user starts it, on a free loopback port, read back through its HTTP API."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from tests.services._daemons import free_port

STARTUP_TIMEOUT_S = 60


def read_through_dashboard(command: str, study: str, env: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Start ``command`` (what ``ablate status`` prints), return the named study's trials as the
    dashboard's API serves them, and stop it."""
    argv = shlex.split(command)
    assert argv[0] == "optuna-dashboard", command
    port = free_port()
    exe = Path(sys.executable).with_name("optuna-dashboard")
    proc = subprocess.Popen(
        [str(exe), *argv[1:], "--host", "127.0.0.1", "--port", str(port), "--server", "wsgiref"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ, **(env or {})},
    )  # fmt: skip
    try:
        studies = _get(proc, f"http://127.0.0.1:{port}/api/studies")["study_summaries"]
        found = [s for s in studies if s["study_name"] == study]
        assert found, f"{study} not among {[s['study_name'] for s in studies]}"
        return _get(proc, f"http://127.0.0.1:{port}/api/studies/{found[0]['study_id']}")["trials"]
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _get(proc: subprocess.Popen[bytes], url: str) -> Any:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while True:
        try:
            with urllib.request.urlopen(url, timeout=10) as r:
                return json.loads(r.read())
        except OSError:
            if proc.poll() is not None:
                why = proc.stderr.read()[-2000:] if proc.stderr else b""
                raise RuntimeError(f"optuna-dashboard exited with {proc.returncode}: {why!r}") from None
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)
