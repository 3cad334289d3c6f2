"""A study in a real PostgreSQL (study.storage): it runs, resumes after a SIGKILL of its driver,
opens in optuna-dashboard, and its password is in none of the outputs."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from ablate.config.load import load_params
from ablate.study.storage import JOURNAL, load_study
from tests.flows.dashboard import read_through_dashboard
from tests.flows.helpers import REPO, deep_update, quick_study, write_params
from tests.flows.test_cli import PROGRESS, cli
from tests.services.postgres import PostgresServer


def flow_runs_text(study: str) -> str:
    """Every flow run's parameters and logs the Prefect API holds for runs of ``study``, as text."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId

    async def read() -> str:
        async with get_client() as client:
            runs = [r for r in await client.read_flow_runs(limit=200) if study in json.dumps(r.parameters, default=str)]
            assert runs, "no flow run of the study reached the API"
            ids = [r.id for r in runs]
            logs = await client.read_logs(LogFilter(flow_run_id=LogFilterFlowRunId(any_=ids)), limit=200)
            return json.dumps([r.parameters for r in runs], default=str) + "\n".join(log.message for log in logs)

    return asyncio.run(read())


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_api")
def test_a_study_in_postgresql_runs_resumes_after_sigkill_and_never_shows_its_password(
    tmp_path: Path, postgres_server: PostgresServer
) -> None:
    url = postgres_server.new_database("study_pg").replace("postgresql+psycopg://", "postgresql://")
    changes = deep_update(quick_study(n_trials=8, pruner="median"), {"trial": {"options": {"sleep": 1.0}}})
    path = write_params(tmp_path, "pg", deep_update(changes, {"study": {"storage": url}}))
    password = postgres_server.password

    first = cli(str(path))
    finished, seen = 0, []
    for line in first.stdout:
        seen.append(line)
        finished += bool(PROGRESS.match(line))
        if finished == 3:
            first.send_signal(signal.SIGKILL)
            break
    seen.append(first.communicate(timeout=60)[0])
    assert finished == 3, "".join(seen)
    params = load_params(path)
    states = [t.state.name for t in load_study(params).trials]
    assert states.count("RUNNING") >= 1, states  # the kill left trials running in the database

    second = cli(str(path))
    out, _ = second.communicate(timeout=300)
    assert second.returncode == 0, out
    assert "resuming:" in out
    trials = pd.read_csv(tmp_path / "reports" / "pg" / "trials.csv")
    assert list(trials["number"]) == list(range(8)) and set(trials["state"]) <= {"COMPLETE", "PRUNED"}
    executions = (tmp_path / "data" / "studies" / "pg" / "executions.log").read_text().split("\n")
    complete = sorted(trials.loc[trials["state"] == "COMPLETE", "number"])
    # Each complete trial ran to its end exactly once (a pruned one stops before it logs).
    assert sorted(int(line.split()[0]) for line in executions if line) == complete
    assert [t.state.name for t in load_study(params).trials].count("RUNNING") == 0

    status = subprocess.run(
        [sys.executable, "-m", "flows.cli", "status", str(path), "--json"],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert status.returncode == 0, status.stderr
    shown = json.loads(status.stdout)
    masked = re.sub(r":[^:@/]+@", ":***@", url.replace("postgresql://", "postgresql+psycopg://"))
    assert shown["storage"] == f"database {masked}"
    assert shown["trials"]["complete"] + shown["trials"]["pruned"] == 8
    dashboard = shown["dashboard"]
    assert password not in dashboard and dashboard.startswith("optuna-dashboard postgresql+psycopg://ablate@")
    served = read_through_dashboard(dashboard, "pg", env={"PGPASSWORD": password})
    assert sorted(t["number"] for t in served) == list(range(8))
    assert {t["state"] for t in served} <= {"Complete", "Pruned"}

    # The password is in no file the study wrote, no output, and nothing the Prefect API keeps.
    written = [p for p in tmp_path.rglob("*") if p.is_file() and p != path]
    assert len(written) > 20 and any(p.name == "run.json" for p in written)
    leaks = [str(p) for p in written if password.encode() in p.read_bytes()]
    assert leaks == []
    assert password not in "".join(seen) + out + status.stdout + status.stderr
    api = flow_runs_text("pg")
    assert masked in api and password not in api  # the storage reached Prefect, masked


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_api")
def test_pruning_on_an_external_scheduler_reports_to_the_database_not_a_shared_folder(
    tmp_path: Path, postgres_server: PostgresServer
) -> None:
    """Real `dask scheduler` and `dask worker` processes prune through PostgreSQL: the study has no
    journal anywhere, and each pruned trial's steps reached the database from its worker."""
    from tests.flows.test_pruning import pruned_study
    from tests.flows.test_scale_out import dask_processes

    url = postgres_server.new_database("prune_pg").replace("postgresql+psycopg://", "postgresql://")
    with dask_processes(tmp_path) as address:
        changes = {"study": {"storage": url}, "execution": {"address": address, "workers": 2}}
        path = write_params(tmp_path, "remote-prune", deep_update(pruned_study(8, 0.5), changes))
        proc = cli(str(path))
        out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 0, out

    trials = pd.read_csv(tmp_path / "reports" / "remote-prune" / "trials.csv", keep_default_na=False)
    pruned = trials[trials["state"] == "PRUNED"]
    assert len(pruned) >= 2 and (pruned["x"] < 0.5).all(), trials[["number", "x", "state", "worker"]]
    assert set(pruned["reason"]) == {"pruned"}
    workers = trials.loc[trials["state"] == "COMPLETE", "worker"]  # host:pid of the worker process
    assert not workers.str.endswith(f":{os.getpid()}").any() and workers.str.fullmatch(r".+:\d+").all()
    study = load_study(load_params(path))
    for t in study.trials:  # every step a worker reported is in the database
        if t.state.name == "PRUNED":
            assert t.intermediate_values and set(t.intermediate_values.values()) == {0.0}
    assert not list(tmp_path.rglob(JOURNAL)), "a journal file was created"
