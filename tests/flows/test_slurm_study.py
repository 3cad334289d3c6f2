"""`ablate run` on a real Slurm cluster through `execution.cluster: dask_jobqueue.SLURMCluster`: every
trial runs in a Slurm job, a cancelled job's trial moves to the other worker, a SIGKILLed driver leaves
no job behind after the death timeout, and the queue is empty at the end."""

from __future__ import annotations

import os
import re
import signal
import time
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from tests.flows.helpers import deep_update, quick_study, write_params
from tests.flows.test_faults import Run, executions, run_env
from tests.services.slurm import SlurmCluster

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_api")]
JOBS = re.compile(r"^cluster: batch jobs? ([\d, ]+) submitted$")
# Shorter than the default (ablate.runtime.jobqueue.DEATH_TIMEOUT_S, 60 s), so an orphan's exit is waited
# for briefly. It also bounds a worker's start in its job (Dask's nanny gives its worker process that
# long to start and reach the scheduler, or the job ends): 5 s once cost a job on the loaded 2-core
# CI machine, the command's prepare process, the other test worker and two worker starts sharing it.
DEATH_TIMEOUT_S = 15


def slurm_study(
    tmp_path: Path,
    slurm: SlurmCluster,
    name: str,
    n_trials: int,
    sleep: float,
    watch_jobs: Path | None = None,
    **cluster_options: object,
) -> Path:
    options = {
        "queue": slurm.partition,
        "cores": 1,
        "processes": 1,
        "memory": "1GB",
        "walltime": "00:05:00",
        "interface": "lo",
        "death_timeout": DEATH_TIMEOUT_S,
        **cluster_options,
    }
    changes = deep_update(
        quick_study(n_trials=n_trials),
        {
            "trial": {"options": {"sleep": sleep, **({"watch_jobs": str(watch_jobs)} if watch_jobs else {})}},
            "execution": {"cluster": "dask_jobqueue.SLURMCluster", "cluster_options": options, "retries": 2},
        },
    )
    return write_params(tmp_path, name, changes)


def slurm_env() -> dict[str, str]:
    # A lost job is dropped (and replaced) after this; Dask's default is 15 s.
    return run_env(DASK_DISTRIBUTED__DEPLOY__LOST_WORKER_TIMEOUT="2s")


def submitted_jobs(run: Run) -> list[str]:
    return [j.strip() for line in run.lines if (m := JOBS.match(line)) for j in m.group(1).split(",")]


def starts_in(watch: Path, job: str) -> list[int]:
    """The trials that started in Slurm job ``job``, in order (tests.flows.trial_fns.quick with
    ``watch_jobs``)."""
    log = watch / "starts.log"
    lines = log.read_text().splitlines() if log.exists() else []
    return [int(p[0]) for p in map(str.split, lines) if len(p) == 2 and p[1] == job]


def test_a_study_runs_in_slurm_jobs_and_leaves_the_queue_empty(tmp_path: Path, slurm_cluster: SlurmCluster) -> None:
    assert slurm_cluster.squeue() == []
    start = time.monotonic()
    # The first job to start fails before its worker does (a node's broken environment): Dask never
    # sees that worker, so only ablate can replace the job.
    flag = tmp_path / "first-job-failed"
    fail_once = f"mkdir {flag} 2>/dev/null && exit 3"
    # Trials long enough for the run to outlast the batch queue's second look (JOB_QUEUE_CHECK_S):
    # with 0.3 s trials the search once ended (2.3 s, its other job's one worker) before the failed
    # job was seen, and so before it needed replacing.
    params = slurm_study(tmp_path, slurm_cluster, "slurm", n_trials=6, sleep=2.0, job_script_prologue=[fail_once])
    run = Run(params, slurm_env())

    assert run.wait(timeout_s=120) == 0, run.output()
    wall = time.monotonic() - start
    assert any("Dask dashboard http" in line for line in run.lines), run.output()
    jobs = submitted_jobs(run)
    assert len(jobs) == 3, run.output()
    failed = [line for line in run.lines if "ended before its worker reached the scheduler" in line]
    assert len(failed) == 1 and failed[0].endswith("; submitting one"), run.output()
    trials = pd.read_csv(tmp_path / "reports" / "slurm" / "trials.csv", dtype={"job_id": str})
    assert list(trials["state"]) == ["COMPLETE"] * 6
    # Every trial ran inside one of the run's Slurm jobs, on a worker of its own (not the driver).
    assert set(trials["job_id"]) <= set(jobs) and trials["job_id"].notna().all(), trials
    assert trials["worker_address"].str.startswith("tcp://127.0.0.1:").all()
    assert slurm_cluster.wait_empty(30) < 30, f"run took {wall:.1f} s"


def test_a_job_cancelled_mid_run_moves_its_trial_and_all_complete_once(
    tmp_path: Path, slurm_cluster: SlurmCluster
) -> None:
    assert slurm_cluster.squeue() == []
    watch = tmp_path / "jobs"
    watch.mkdir()
    params = slurm_study(tmp_path, slurm_cluster, "preempt", n_trials=12, sleep=0.6, watch_jobs=watch)
    run = Run(params, slurm_env())
    run.wait_for_line("cluster: batch jobs ", timeout_s=120)
    victim = submitted_jobs(run)[0]
    # Its trials hold at each step from now, before its worker has started (seconds): its first
    # trial is mid-trial when its job is cancelled, whatever the machine's load.
    (watch / f"hold-{victim}").touch()
    assert starts_in(watch, victim) == []
    deadline = time.monotonic() + 120
    while not starts_in(watch, victim) and time.monotonic() < deadline:
        time.sleep(0.05)
    [started] = starts_in(watch, victim)
    slurm_cluster.scancel(victim)

    assert run.wait(timeout_s=180) == 0, run.output()
    trials = pd.read_csv(tmp_path / "reports" / "preempt" / "trials.csv", dtype={"job_id": str})
    assert list(trials["state"]) == ["COMPLETE"] * 12
    # The cancelled job's trial finished elsewhere, and says why it moved.
    moved = trials.set_index("number").loc[started]
    assert moved["reason"] == "worker_died" and moved["job_id"] != victim, trials
    ran = Counter(executions(tmp_path / "data" / "studies" / "preempt"))
    assert sorted(ran) == list(range(12)) and set(ran.values()) == {1}, ran
    slurm_cluster.wait_empty(30)


def test_a_killed_driver_leaves_no_job_after_the_death_timeout_and_the_next_run_completes(
    tmp_path: Path, slurm_cluster: SlurmCluster
) -> None:
    assert slurm_cluster.squeue() == []
    params = slurm_study(tmp_path, slurm_cluster, "killed", n_trials=4, sleep=0.6)
    run = Run(params, slurm_env())
    run.wait_for_line("] trial ", count=2, timeout_s=120)
    assert len(slurm_cluster.squeue()) == 2
    os.killpg(run.proc.pid, signal.SIGKILL)  # the driver, its scheduler and client: no cleanup at all
    run.proc.wait(timeout=30)

    waited = slurm_cluster.wait_empty(DEATH_TIMEOUT_S + 20)  # the orphans' own death timeout, and their exit

    again = Run(params, slurm_env())
    assert again.wait(timeout_s=120) == 0, again.output()
    trials = pd.read_csv(tmp_path / "reports" / "killed" / "trials.csv")
    assert list(trials["state"]) == ["COMPLETE"] * 4
    ran = Counter(executions(tmp_path / "data" / "studies" / "killed"))
    assert sorted(ran) == list(range(4)), ran
    assert sum(ran.values()) - 4 <= 2, ran  # at most the two killed mid-publication run again
    assert waited < DEATH_TIMEOUT_S + 20
    slurm_cluster.wait_empty(30)


def test_jobs_that_all_fail_as_they_start_stop_the_run_with_one_line(
    tmp_path: Path, slurm_cluster: SlurmCluster
) -> None:
    assert slurm_cluster.squeue() == []
    missing = tmp_path / "no-such-env" / "bin" / "python"  # the compute nodes' python, misspelt
    params = slurm_study(tmp_path, slurm_cluster, "broken", n_trials=4, sleep=0.3, python=str(missing))
    run = Run(params, slurm_env())

    assert run.wait(timeout_s=120) == 1, run.output()
    jobs = submitted_jobs(run)
    assert len(jobs) >= 2, run.output()
    errors = [line for line in run.output().splitlines() if line.startswith("ablate: error: ")]
    assert len(errors) == 1, run.output()
    assert errors[0].startswith("ablate: error: cluster: batch jobs ") and "ended before their workers" in errors[0]
    assert "slurm-<job id>.out" in errors[0] and "Traceback" not in run.output()
    assert not (tmp_path / "reports" / "broken" / "trials.csv").exists()
    slurm_cluster.wait_empty(30)
