"""Scheduled studies, as `make deploy` brings them up: a real `prefect server` on a loopback port,
the deployments of prefect.yaml, and a real process worker that runs them in subprocesses."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from flows.server import default_api_url, probe_api, read_pid_file, write_pid_file
from tests.flows.helpers import REPO, deep_update, quick_study, write_params
from tests.flows.test_faults import PrefectServer, run_env

pytestmark = pytest.mark.slow
PREFECT = str(Path(sys.executable).with_name("prefect"))
RUN_NAME = r"\d{4}-\d\d-\d\d \d\d:\d\d UTC"
FINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


@dataclass
class Deployed:
    server: PrefectServer
    env: dict[str, str]
    root: Path
    deploy_output: str
    every_minute_since: float  # when the every-minute deployment was registered (monotonic)


def quick(root: Path, name: str, seed: int) -> Path:
    """A study of seconds: 4 fast stand-in trials on one worker, outputs under ``root``. The studies
    share the trial cache under ``root``: each gets its own seed, so none is served another's trials."""
    changes = {"study": {"seed": seed}, "execution": {"workers": 1}}
    return write_params(root, name, deep_update(quick_study(n_trials=4), changes))


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployed]:
    root = tmp_path_factory.mktemp("deployments")
    server = PrefectServer(root / "prefect-home")
    server.start()
    env = run_env(server.url, PREFECT_HOME=str(server.home), PREFECT_WORKER_QUERY_SECONDS="2")
    try:
        # What `make deploy` runs: the pool, prefect.yaml's deployments, a worker.
        up = subprocess.run(
            [sys.executable, "-m", "flows.worker"], cwd=REPO, env=env, capture_output=True, text=True, timeout=180
        )
        assert up.returncode == 0, up.stdout + up.stderr
        # A deployment of prefect.yaml's kind whose cron fires every minute.
        spec = yaml.safe_load((REPO / "prefect.yaml").read_text())
        every = deep_update(spec["deployments"][0], {"name": "every-minute", "schedules": [{"cron": "* * * * *"}]})
        every["parameters"] = {"params_file": str(quick(root, "minutely", seed=1)), "overrides": []}
        every["tags"] = ["minutely", "search"]
        extra = root / "every-minute.yaml"
        extra.write_text(yaml.safe_dump({**spec, "deployments": [every]}, sort_keys=False))
        prefect(env, "deploy", "--all", "--prefect-file", str(extra))
        yield Deployed(server, env, root, up.stdout, time.monotonic())
    finally:
        for pid in started_by(server.home):  # the worker, its flow runs (own sessions), their Dask workers
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        server.kill()


def started_by(home: Path) -> list[int]:
    """Every process with this PREFECT_HOME in its environment: all the test started, and only that
    (the process worker starts each flow run in a session of its own, so no process group holds them)."""
    mine = f"PREFECT_HOME={home}".encode()
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            with contextlib.suppress(OSError):
                if mine in (entry / "environ").read_bytes().split(b"\0"):
                    pids.append(int(entry.name))
    return pids


def prefect(env: dict[str, str], *args: str) -> str:
    proc = subprocess.run(
        [PREFECT, "--no-prompt", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def run_deployment(d: Deployed, name: str, parameters: dict) -> uuid.UUID:
    """`prefect deployment run NAME --params JSON`: the id of the flow run it created."""
    out = prefect(d.env, "deployment", "run", name, "--params", json.dumps(parameters))
    return uuid.UUID(re.search(r"UUID: ([0-9a-f-]{36})", out)[1])


def client(d: Deployed):  # noqa: ANN201
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings({PREFECT_API_URL: d.server.url}):
        return get_client(sync_client=True)


def wait_final(d: Deployed, run_id: uuid.UUID, timeout_s: float = 90):  # noqa: ANN201
    with client(d) as c:
        deadline = time.monotonic() + timeout_s
        while (run := c.read_flow_run(run_id)).state_type.value not in FINAL:
            assert time.monotonic() < deadline, f"flow run {run.name} still {run.state_name} after {timeout_s} s"
            time.sleep(1)
        return run


def worker_log(d: Deployed) -> str:
    return (d.server.home / "worker-ablate.log").read_text()[-3000:]


def test_make_deploy_registers_prefect_yaml_and_starts_a_worker(deployed: Deployed) -> None:
    with client(deployed) as c:
        deployments = {x.name: x for x in c.read_deployments()}
    assert {"digits-nightly", "digits-ablation"} <= set(deployments)
    nightly, ablation = deployments["digits-nightly"], deployments["digits-ablation"]
    assert [s.schedule.cron for s in nightly.schedules] == ["0 2 * * *"]
    assert [s.schedule.cron for s in ablation.schedules] == ["0 3 * * *"]
    assert nightly.parameters == {
        "params_file": "params/digits.yaml",
        "overrides": ["study.name=digits-nightly"],
        "grow_by": 8,
        "max_trials": 200,
    }
    assert nightly.tags == ["digits-nightly", "search"] and ablation.tags == ["digits-ablation", "ablation"]
    assert nightly.work_pool_name == "ablate"
    assert nightly.pull_steps == [{"prefect.deployments.steps.set_working_directory": {"directory": str(REPO)}}]
    record = read_pid_file(deployed.server.home / "worker-ablate.pid")
    assert record is not None and record["checkout"] == str(REPO)  # the worker runs in the background
    pid = record["pid"]
    assert f"started a worker on pool 'ablate' (pid {pid}" in deployed.deploy_output


def test_deployment_run_completes_with_its_artifacts_then_finds_nothing_to_do(deployed: Deployed) -> None:
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterFlowRunId,
        FlowRunFilter,
        FlowRunFilterParentFlowRunId,
        LogFilter,
        LogFilterFlowRunId,
    )
    from prefect.client.schemas.sorting import LogSort

    path = quick(deployed.root, "nightly", seed=2)
    parameters = {"params_file": str(path), "overrides": [], "grow_by": 3, "max_trials": 3}
    run = wait_final(deployed, run_deployment(deployed, "study/digits-nightly", parameters))
    assert run.state_name == "Completed", f"{run.state.message}\n{worker_log(deployed)}"
    assert re.fullmatch(f"nightly {RUN_NAME}", run.name), run.name
    assert {"digits-nightly", "search"} <= set(run.tags)
    with client(deployed) as c:
        keys = {
            a.key
            for a in c.read_artifacts(
                artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run.id]))
            )
        }
    assert {"nightly-report", "nightly-trials"} <= keys
    with client(deployed) as c:
        subflows = c.read_flow_runs(
            flow_run_filter=FlowRunFilter(parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=[run.id]))
        )
        # Its outputs lie outside this checkout's DVC repository: no experiment of it in this repo.
        # (Logs reach the server after the run's state, in batches: wait for the line.)
        deadline, skipped = time.monotonic() + 30, []
        while not skipped and time.monotonic() < deadline:
            time.sleep(1)
            newest = LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run.id]))
            logs = c.read_logs(newest, limit=50, sort=LogSort.TIMESTAMP_DESC)
            skipped = [log.message for log in logs if log.message.startswith("dvc experiment: ")]
    assert [r.name for r in subflows] == ["nightly search (3 trials)"]
    assert len(skipped) == 1 and skipped[0].startswith("dvc experiment: skipped (the study's outputs are outside")
    record = json.loads((deployed.root / "reports" / "nightly" / "run.json").read_text())
    assert (record["complete"], record["executed"]) == (3, 3)  # grown from 0 by 3

    again = wait_final(deployed, run_deployment(deployed, "study/digits-nightly", parameters))
    assert again.state_name == "Completed", again.state.message
    assert again.total_run_time.total_seconds() < 20, again.total_run_time
    record = json.loads((deployed.root / "reports" / "nightly" / "run.json").read_text())
    assert (record["complete"], record["executed"]) == (3, 0)  # at max_trials: nothing run


def test_a_deployment_run_with_an_unknown_params_file_fails_with_one_line(deployed: Deployed) -> None:
    run = wait_final(deployed, run_deployment(deployed, "study/digits-nightly", {"params_file": "params/nope.yaml"}))
    assert run.state_name == "Failed"
    assert run.state.message == "params/nope.yaml: the params file must exist, but it was not found"


def test_a_deployment_whose_cron_fires_every_minute_completes_a_scheduled_run(deployed: Deployed) -> None:
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterName, FlowRunFilter

    deadline = deployed.every_minute_since + 100  # the next minute, the worker's poll, the run
    with client(deployed) as c:
        while True:
            runs = c.read_flow_runs(
                deployment_filter=DeploymentFilter(name=DeploymentFilterName(any_=["every-minute"])),
                flow_run_filter=FlowRunFilter(),
            )
            done = [r for r in runs if r.state_type.value in FINAL]
            if done:
                break
            assert time.monotonic() < deadline, f"no scheduled run finished: {[(r.name, r.state_name) for r in runs]}"
            time.sleep(2)
    run = done[0]
    assert run.state_name == "Completed", f"{run.state.message}\n{worker_log(deployed)}"
    assert re.fullmatch(f"minutely {RUN_NAME}", run.name) and run.auto_scheduled


def test_the_bare_prefect_cli_talks_to_the_server_the_checkouts_prefect_toml_names(
    deployed: Deployed, tmp_path: Path
) -> None:
    # The checkout's prefect.toml names ablate's own server, which is what `make run` starts.
    import tomllib

    settings = tomllib.loads((REPO / "prefect.toml").read_text())
    assert settings["api"]["url"] == default_api_url()
    # The same file, naming this test's server, read by `prefect` as `make deploy` prints it:
    # without PREFECT_API_URL in the environment, from the folder that holds the file.
    (tmp_path / "prefect.toml").write_text(
        (REPO / "prefect.toml").read_text().replace(default_api_url(), deployed.server.url)
    )
    env = {k: v for k, v in deployed.env.items() if k != "PREFECT_API_URL"}
    hint = re.search(r"run one now: (\S+) deployment run 'study/digits-nightly'", deployed.deploy_output)
    assert hint and hint[1] == ".venv/bin/prefect" and (REPO / hint[1]).exists()
    proc = subprocess.run(
        [str(REPO / hint[1]), "deployment", "inspect", "study/digits-nightly"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "'name': 'digits-nightly'" in proc.stdout  # found on the server: no temporary one was started
    assert "temporary server" not in proc.stdout + proc.stderr


def test_make_server_stop_stops_only_a_server_this_checkout_started(tmp_path: Path) -> None:
    server = PrefectServer(tmp_path / "home")
    server.start()
    try:
        assert server.proc is not None
        pid_file = server.home / "server-4200.pid"
        env = {**os.environ, "PREFECT_HOME": str(server.home)}

        def server_stop() -> str:
            proc = subprocess.run(["make", "-s", "server-stop"], cwd=REPO, env=env, capture_output=True, text=True)
            assert proc.returncode == 0, proc.stdout + proc.stderr
            return proc.stdout

        # Another checkout started it (the two share ~/.prefect and port 4200): left running.
        other = tmp_path / "other-checkout"
        write_pid_file(pid_file, server.proc.pid, checkout=other)
        out = server_stop()
        assert (
            out == f"left the Prefect server (pid {server.proc.pid}) running: another checkout ({other}) started it\n"
        )
        assert probe_api(server.url) == "up" and pid_file.exists()
        # This checkout started it: stopped, with its children (uvicorn), and its record gone.
        write_pid_file(pid_file, server.proc.pid, checkout=REPO)
        assert server_stop() == f"stopped the Prefect server (pid {server.proc.pid})\n"
        server.proc.wait(timeout=30)
        deadline = time.monotonic() + 30
        while probe_api(server.url) != "refused":
            assert time.monotonic() < deadline, "the server still answers"
            time.sleep(0.3)
        assert not pid_file.exists()
    finally:
        server.kill()
