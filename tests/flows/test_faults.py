"""Faults with real processes, as they happen to a user's run: the Prefect server killed, a Dask
worker killed, `ablate run` killed while DVC syncs, the study folder unwritable. Each ends with a
clear line (or carries on), never hangs, loses nothing, and the next run completes the study."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import yaml

from tests.flows.helpers import REPO, deep_update, quick_study, write_params

pytestmark = pytest.mark.slow
ONE_LINE_ERROR = "ablate: error: "


class Run:
    """``ablate run PARAMS`` in a subprocess, its stdout read line by line without blocking the
    test (a run that hangs must fail the test, not hang it), its stderr kept in a file."""

    def __init__(self, params: Path, env: dict[str, str], cwd: Path = REPO, *args: str) -> None:
        self.err_path = params.with_suffix(f".{time.monotonic_ns()}.stderr")
        with self.err_path.open("w") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "flows.cli", "run", str(params), *args],
                cwd=cwd,
                env=env,
                stdout=subprocess.PIPE,
                stderr=err,
                text=True,
                start_new_session=True,  # its process group: the Dask workers too, for cleanup
            )
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for_line(self, pattern: str, count: int = 1, timeout_s: float = 120) -> None:
        deadline = time.monotonic() + timeout_s
        while sum(pattern in line for line in self.lines) < count:
            try:
                line = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no {count} x {pattern!r} within {timeout_s} s:\n{self.output()}") from None
            if line is None:
                raise AssertionError(f"the run ended before {count} x {pattern!r}:\n{self.output()}")
            self.lines.append(line)

    def wait(self, timeout_s: float) -> int:
        try:
            code = self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"the run did not end within {timeout_s} s:\n{self.output()}") from None
        while (line := self._queue.get(timeout=10)) is not None:
            self.lines.append(line)
        return code

    def stderr(self) -> str:
        return self.err_path.read_text()

    def output(self) -> str:
        return "\n".join(self.lines) + "\n--- stderr ---\n" + self.stderr()

    def kill(self) -> None:
        with _no_such_process():
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)


class _no_such_process:
    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type | None, *_: object) -> bool:
        return kind is ProcessLookupError


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrefectServer:
    """A real ``prefect server start`` of the test's own, with its database in ``home``."""

    def __init__(self, home: Path) -> None:
        self.home, self.port = home, free_port()
        self.url = f"http://127.0.0.1:{self.port}/api"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        from flows.server import probe_api

        env = {
            **os.environ,
            "PREFECT_HOME": str(self.home),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_UI_API_URL": self.url,
        }
        env.pop("PREFECT_API_URL", None)
        self.home.mkdir(parents=True, exist_ok=True)
        prefect = Path(sys.executable).with_name("prefect")
        cmd = [str(prefect), "server", "start", "--host", "127.0.0.1", "--port", str(self.port)]
        with (self.home / "server.log").open("ab") as log:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=log, env=env, start_new_session=True)
        deadline = time.monotonic() + 120
        while probe_api(self.url) != "up":
            assert self.proc.poll() is None, (self.home / "server.log").read_text()[-2000:]
            assert time.monotonic() < deadline, "the Prefect server did not start within 120 s"
            time.sleep(0.3)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            with _no_such_process():
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)


@pytest.fixture
def prefect_server(tmp_path: Path):
    server = PrefectServer(tmp_path / "prefect-home")
    server.start()
    yield server
    server.kill()


def run_env(api_url: str | None = None, **extra: str) -> dict[str, str]:
    """A user's environment, with the API to use."""
    env = {**os.environ, "PREFECT_API_URL": api_url or os.environ["PREFECT_API_URL"], **extra}
    # The trial functions live in this repo's tests package: importable from any project folder.
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)
    return env


def executions(study_dir: Path) -> list[int]:
    """Trial numbers of every finished execution (tests.flows.trial_fns.quick logs each)."""
    log = study_dir / "executions.log"
    return sorted(int(line.split()[0]) for line in log.read_text().splitlines()) if log.exists() else []


def assert_one_error_line(run: Run, starts: str) -> None:
    err = run.stderr()
    assert "Traceback" not in err + "\n".join(run.lines), run.output()
    assert err.count("\n") == 1 and err.startswith(ONE_LINE_ERROR + starts), run.output()


# ---------------------------------------------------------------------------------------------
# The Prefect server killed mid-run


def test_a_run_whose_prefect_server_is_killed_stops_with_one_line_and_resumes(
    tmp_path: Path, prefect_server: PrefectServer
) -> None:
    # 12 trials of 3 s: 3 done and 4 in flight when the server dies; the run sees it gone within
    # REFUSED_GRACE_S + 1 s (3 + 1; 6 on a busy machine), while about 4 more end and are replaced,
    # and the workers finish what they hold: some trials are never run (8 trials of 1.5 s were not
    # enough on a busy 2-core machine).
    changes = deep_update(quick_study(n_trials=12), {"trial": {"options": {"sleep": 3.0}}})
    path = write_params(tmp_path, "server", changes)
    study_dir = tmp_path / "data" / "studies" / "server"
    env = run_env(prefect_server.url, PREFECT_HOME=str(prefect_server.home))

    run = Run(path, env)
    run.wait_for_line("] trial ", count=3)
    prefect_server.kill()
    start = time.monotonic()
    code = run.wait(timeout_s=60)

    assert code == 1 and time.monotonic() - start < 30, run.output()
    assert_one_error_line(run, f"the Prefect server at {prefect_server.url} refuses connections")
    assert "once a server answers, run the same command to resume" in run.stderr()
    assert len(executions(study_dir)) < 12

    prefect_server.start()  # the same database
    rerun = Run(path, env)
    assert rerun.wait(timeout_s=180) == 0, rerun.output()
    assert "resuming:" in "\n".join(rerun.lines)
    assert executions(study_dir) == list(range(12))  # each trial finished exactly once
    trials = pd.read_csv(tmp_path / "reports" / "server" / "trials.csv")
    assert list(trials["state"]) == ["COMPLETE"] * 12


def test_a_run_pointed_at_a_prefect_server_that_is_not_there_says_so_at_once(tmp_path: Path) -> None:
    path = write_params(tmp_path, "noserver", quick_study(n_trials=2))
    url = f"http://127.0.0.1:{free_port()}/api"
    run = Run(path, run_env(url))
    assert run.wait(timeout_s=60) == 1, run.output()
    assert_one_error_line(run, f"PREFECT_API_URL gives the Prefect API {url}, but no Prefect server answers there")
    assert not (tmp_path / "data" / "studies" / "noserver").exists()


# ---------------------------------------------------------------------------------------------
# The study folder becomes unwritable mid-run


@contextlib.contextmanager
def immutable(folder: Path) -> Iterator[None]:
    """No entry of ``folder`` can be created, renamed or removed, even by root (tests run as root,
    where a chmod stops nothing): ext4's immutable attribute. Files already in it stay writable."""
    if shutil.which("chattr") is None:
        pytest.skip("chattr is not installed")
    made = subprocess.run(["chattr", "+i", str(folder)], capture_output=True, text=True, timeout=30)
    if made.returncode != 0:
        pytest.skip(f"this filesystem has no immutable attribute: {made.stderr.strip()}")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(folder)], check=True, timeout=30)


def digests(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.mark.usefixtures("prefect_api")
def test_a_study_folder_that_becomes_unwritable_stops_the_run_with_one_line_and_loses_nothing(
    tmp_path: Path,
) -> None:
    changes = deep_update(quick_study(n_trials=6), {"trial": {"options": {"sleep": 0.9}}})
    path = write_params(tmp_path, "frozen", changes)
    study_dir = tmp_path / "data" / "studies" / "frozen"

    run = Run(path, run_env())
    run.wait_for_line("] trial ", count=2)
    with immutable(study_dir):
        code = run.wait(timeout_s=120)
        trials_before = digests(study_dir / "trials")
        journal = (study_dir / "optuna.journal").read_bytes()
    assert code == 1, run.output()
    assert_one_error_line(run, f"the study flow failed: {study_dir}/")
    assert "Operation not permitted (PermissionError); once it can be written, run the same command again" in (
        run.stderr()
    )
    # Nothing written before is lost or half-written: every published trial is whole.
    done = [p.parent for p in (study_dir / "trials").glob("*/result.json")]
    assert len(done) >= 2
    assert all(json.loads((d / "result.json").read_text()) for d in done)
    assert not list(study_dir.rglob("*.tmp*"))

    rerun = Run(path, run_env())
    assert rerun.wait(timeout_s=180) == 0, rerun.output()
    assert (study_dir / "optuna.journal").read_bytes().startswith(journal)  # appended to, never rewritten
    assert executions(study_dir) == list(range(6))
    trials = pd.read_csv(tmp_path / "reports" / "frozen" / "trials.csv")
    assert list(trials["state"]) == ["COMPLETE"] * 6
    assert {k: v for k, v in digests(study_dir / "trials").items() if k in trials_before} == trials_before


# ---------------------------------------------------------------------------------------------
# `ablate run` SIGKILLed while DVC syncs the study


def dvc_repo_locked(proj: Path) -> bool:
    """Whether a process holds DVC's repository lock (zc.lockfile: an flock on .dvc/tmp/lock),
    which DVC takes exactly while it changes the repository: commit, dvc.lock, push."""
    lock = proj / ".dvc" / "tmp" / "lock"
    try:
        fd = os.open(lock, os.O_RDWR)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)  # at once: DVC retries a lock it could not take
        return False
    finally:
        os.close(fd)


@pytest.mark.usefixtures("prefect_api")
def test_a_run_killed_while_dvc_syncs_is_repaired_by_the_next_run(tmp_path: Path) -> None:
    from tests.flows.test_dvc import make_project, sh

    proj = make_project(tmp_path, tmp_path / "remote")
    params = yaml.safe_load((proj / "params/digits.yaml").read_text())
    (proj / "params/digits.yaml").write_text(yaml.safe_dump(deep_update(params, quick_study()), sort_keys=False))

    run = Run(proj / "params/digits.yaml", run_env(), proj)
    deadline = time.monotonic() + 120
    while not dvc_repo_locked(proj):
        assert run.proc.poll() is None, f"the run ended before it synced:\n{run.output()}"
        assert time.monotonic() < deadline, f"no sync within 120 s:\n{run.output()}"
        time.sleep(0.01)
    run.proc.send_signal(signal.SIGKILL)
    assert run.wait(timeout_s=30) == -signal.SIGKILL
    assert any(line.startswith("search:") for line in run.lines)  # killed after its trials, in sync

    rerun = Run(proj / "params/digits.yaml", run_env(), proj)
    assert rerun.wait(timeout_s=180) == 0, rerun.output()
    assert "pushed to remote 'local'" in "\n".join(rerun.lines)
    assert "up to date" in sh(proj, "dvc", "status").stdout
    assert "in sync" in sh(proj, "dvc", "status", "-c").stdout
    assert executions(proj / "data/studies/digits") == list(range(4))


# ---------------------------------------------------------------------------------------------
# A Dask worker process SIGKILLed mid-trial (tests/flows/test_failures.py covers a trial that
# kills its own worker every time; here the death is outside the trial's doing, and once)


def worker_pids(run: Run) -> list[int]:
    """The run's Dask worker processes: forked by the command's multiprocessing forkserver (see
    ablate.runtime.cluster.forked_workers)."""
    import psutil

    servers = [c for c in psutil.Process(run.proc.pid).children() if "forkserver" in " ".join(c.cmdline())]
    assert len(servers) == 1, [" ".join(c.cmdline()) for c in psutil.Process(run.proc.pid).children()]
    return [c.pid for c in servers[0].children()]


@pytest.mark.usefixtures("prefect_api")
def test_a_worker_process_killed_mid_trial_is_replaced_and_the_study_completes_none_twice(tmp_path: Path) -> None:
    changes = deep_update(quick_study(n_trials=6), {"trial": {"options": {"sleep": 0.9}}})
    path = write_params(tmp_path, "worker", changes)
    study_dir = tmp_path / "data" / "studies" / "worker"

    run = Run(path, run_env())
    run.wait_for_line("] trial ", count=1)
    # Trials 0 and 1 started together and end within milliseconds of each other: wait until both
    # workers are a third into their next trial, so the kill lands mid-trial, not at its end.
    time.sleep(0.3)
    pids = worker_pids(run)
    assert len(pids) == 2, pids
    os.kill(pids[0], signal.SIGKILL)  # busy: each worker runs a trial and has one queued

    assert run.wait(timeout_s=120) == 0, run.output()
    trials = pd.read_csv(tmp_path / "reports" / "worker" / "trials.csv")
    assert list(trials["state"]) == ["COMPLETE"] * 6
    # Every trial ran to the end of its function once, except the killed worker's: a kill on a
    # loaded machine may still land after its function returned but before its result was
    # published, and then it rightly runs again. No published trial ever runs twice.
    ran = Counter(executions(study_dir))
    assert sorted(ran) == list(range(6)), ran
    assert sum(ran.values()) - 6 <= 1, ran
