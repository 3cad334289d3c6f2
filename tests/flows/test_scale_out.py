"""Scale-out: trials sent to an existing Dask cluster (a real `dask scheduler` and `dask worker`
processes), as on a Slurm or Kubernetes deployment."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from ablate.config.load import load_params
from flows.pipeline import study_flow
from tests.flows.helpers import REPO, deep_update, quick_study, write_params

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_api")]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def dask_processes(
    tmp_path: Path, nthreads: int = 2, worker_args: tuple[str, ...] = (), worker_env: dict[str, str] | None = None
) -> Iterator[str]:
    """A real `dask scheduler` and two `dask worker` processes (w1, w2); yields its address."""
    address = f"tcp://127.0.0.1:{free_port()}"
    env = {**os.environ, "PYTHONPATH": str(REPO), "DASK_LOGGING__DISTRIBUTED": "error"}
    log = (tmp_path / "dask.log").open("w")
    port = address.rsplit(":", 1)[1]
    procs = [
        subprocess.Popen(
            [BIN / "dask", "scheduler", "--host", "127.0.0.1", "--port", port, "--dashboard-address", ":0"],
            env=env,
            stdout=log,
            stderr=log,
        )
    ]
    try:
        _wait_for(address)
        for name in ("w1", "w2"):
            command = [BIN / "dask", "worker", address, "--name", name, "--nthreads", str(nthreads), "--nworkers", "1"]
            command += ["--preload", "ablate.runtime.worker", "--local-directory", str(tmp_path / name), *worker_args]
            procs.append(subprocess.Popen(command, env={**env, **(worker_env or {})}, stdout=log, stderr=log, cwd=REPO))
        _wait_for_workers(address, 2)
        yield address
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            p.wait(timeout=30)
        log.close()


@pytest.fixture
def dask_cluster(tmp_path: Path) -> Iterator[str]:
    with dask_processes(tmp_path) as address:
        yield address


def _wait_for(address: str, timeout: float = 60) -> None:
    host, port = address.removeprefix("tcp://").split(":")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex((host, int(port))) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError(f"no Dask scheduler at {address}")


def _wait_for_workers(address: str, n: int) -> None:
    from distributed import Client

    with Client(address, timeout=60) as client:
        client.wait_for_workers(n, timeout=120)


def test_a_study_runs_on_an_existing_scheduler_and_its_workers(tmp_path: Path, dask_cluster: str) -> None:
    changes = deep_update(
        quick_study(n_trials=6),
        {"trial": {"options": {"sleep": 0.5}}, "execution": {"address": dask_cluster, "workers": 2}},
    )
    summary = study_flow(load_params(write_params(tmp_path, "remote", changes))).to_record()

    assert summary["complete"] == 6 and summary["executed"] == 6
    trials = pd.read_csv(tmp_path / "reports" / "remote" / "trials.csv")
    # Both workers ran trials, and neither is this process: the cluster did the work.
    assert trials["worker"].nunique() == 2
    assert not trials["worker"].str.endswith(f":{os.getpid()}").any()


def test_an_adaptive_cluster_by_import_path_grows_to_run_the_study(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # execution.cluster names any Dask cluster class; with execution.adapt it starts with no worker
    # and Dask's adaptive scaling adds them while trials wait (as a batch queue's jobs would be).
    changes = deep_update(
        quick_study(n_trials=6),
        {
            "trial": {"options": {"sleep": 0.6}},
            "execution": {
                "cluster": "distributed.LocalCluster",
                "cluster_options": {"n_workers": 0, "processes": True, "threads_per_worker": 2},
                "adapt": {"minimum": 0, "maximum": 2},
            },
        },
    )
    summary = study_flow(load_params(write_params(tmp_path, "adaptive", changes))).to_record()

    assert summary["complete"] == 6
    assert "on a distributed.LocalCluster of 0 to 2 workers (adaptive)" in capsys.readouterr().out
    trials = pd.read_csv(tmp_path / "reports" / "adaptive" / "trials.csv")
    assert 1 <= trials["worker"].nunique() <= 2  # workers the adaptive cluster added, never more than maximum
    assert not trials["worker"].str.endswith(f":{os.getpid()}").any()
