"""``make deploy``: the local Prefect server, a process work pool, the deployments of
``prefect.yaml``, and a worker in the background (its pid and log beside the server's).

    python -m flows.worker          # what `make deploy` runs, from the project folder

Each step keeps what is already there: a running server or worker, an existing pool; the
deployments are registered again (``prefect deploy`` updates them in place).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from ablate.errors import AblateError
from flows.server import ensure_api, prefect_home, read_pid_file, ui_url, write_pid_file

POOL = "ablate"
WORKER_STARTUP_S = 60


def prefect_cli() -> str:
    return str(Path(sys.executable).with_name("prefect"))


def worker_files(pool: str = POOL) -> tuple[Path, Path]:
    """(pid file, log file) of the pool's background worker."""
    return prefect_home() / f"worker-{pool}.pid", prefect_home() / f"worker-{pool}.log"


def _prefect(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([prefect_cli(), "--no-prompt", *args], capture_output=True, text=True, timeout=300)
    if check and proc.returncode != 0:
        lines = (proc.stderr or proc.stdout).strip().splitlines() or ["(no output)"]
        raise AblateError(f"`prefect {' '.join(args)}` failed with exit code {proc.returncode}: {lines[-1]}")
    return proc


def ensure_pool(pool: str = POOL) -> bool:
    """Create the process work pool unless it exists; True when created."""
    if _prefect("work-pool", "inspect", pool, check=False).returncode == 0:
        return False
    _prefect("work-pool", "create", pool, "--type", "process")
    return True


def register_deployments(prefect_file: str = "prefect.yaml") -> None:
    """``prefect deploy --all`` from the project folder (the deployments' working directory)."""
    _prefect("deploy", "--all", "--prefect-file", prefect_file)


def worker_pid(pool: str = POOL) -> int | None:
    """The pid of the pool's background worker, if it still runs."""
    record = read_pid_file(worker_files(pool)[0])
    return None if record is None else int(record["pid"])


def start_worker(api_url: str, pool: str = POOL) -> int:
    """``prefect worker start --pool`` in its own session, so it outlives this command.

    The project folder goes first on the flow runs' PYTHONPATH, so they import this checkout's
    ``ablate`` and ``flows`` (and a trial module next to the params) whatever is installed.
    """
    pid_file, log = worker_files(pool)
    log.parent.mkdir(parents=True, exist_ok=True)
    path = os.pathsep.join(p for p in (os.getcwd(), os.environ.get("PYTHONPATH", "")) if p)
    env = {**os.environ, "PREFECT_API_URL": api_url, "PYTHONPATH": path, "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    cmd = [prefect_cli(), "worker", "start", "--pool", pool, "--name", f"{pool}-{os.uname().nodename}"]
    with log.open("ab") as out:
        start = out.tell()  # earlier workers' lines stay in the log
        proc = subprocess.Popen(cmd, stdout=out, stderr=out, stdin=subprocess.DEVNULL, env=env, start_new_session=True)
    write_pid_file(pid_file, proc.pid)
    deadline = time.monotonic() + WORKER_STARTUP_S
    while b"started!" not in log.read_bytes()[start:]:  # "Worker '...' started!"
        if proc.poll() is not None:
            raise AblateError(f"the Prefect worker exited with code {proc.returncode} while starting; see {log}")
        if time.monotonic() > deadline:
            raise AblateError(f"the Prefect worker did not start within {WORKER_STARTUP_S} s; see {log}")
        time.sleep(0.5)
    return proc.pid


def deploy() -> None:
    api = ensure_api()
    if ensure_pool():
        print(f"created the process work pool {POOL!r}", flush=True)
    register_deployments()
    print("registered the deployments of prefect.yaml", flush=True)
    pid = worker_pid()
    if pid is None:
        pid = start_worker(api)
        print(f"started a worker on pool {POOL!r} (pid {pid}, log: {worker_files()[1]})", flush=True)
    else:
        print(f"a worker on pool {POOL!r} runs already (pid {pid})", flush=True)
    print(f"deployments: {ui_url(api)}/deployments", flush=True)
    # As the user types it, from this folder: its prefect.toml points the CLI at this server.
    prefect = os.path.relpath(prefect_cli()) if prefect_cli().startswith(os.getcwd() + os.sep) else prefect_cli()
    print(f"run one now: {prefect} deployment run 'study/digits-nightly'; stop all: make server-stop", flush=True)


def main() -> int:
    try:
        deploy()
    except AblateError as err:
        print(f"ablate: error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
