"""The Slurm fixture is a real cluster: dask-jobqueue's workers run as Slurm jobs, a cancelled job loses
its worker and its task moves, and nothing is left in the queue afterwards."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest

from tests.services.slurm import SlurmCluster

pytestmark = pytest.mark.slow


def job_id_after(seconds: float) -> str:
    """The Slurm job this task ran in, after `seconds` of work."""
    time.sleep(seconds)
    return os.environ.get("SLURM_JOB_ID", "")


@pytest.fixture
def jobqueue(slurm_cluster: SlurmCluster) -> Iterator[tuple[object, object]]:
    """A SLURMCluster with two one-core workers, each its own job, and a client connected to it."""
    from dask_jobqueue import SLURMCluster
    from distributed import Client

    cluster = SLURMCluster(
        queue=slurm_cluster.partition,
        cores=1,
        processes=1,
        memory="1GB",
        walltime="00:05:00",
        interface="lo",
        scheduler_options={"dashboard_address": None},
    )
    client = Client(cluster)
    try:
        cluster.scale(jobs=2)
        client.wait_for_workers(2, timeout=60)
        yield cluster, client
    finally:
        client.close()
        cluster.close()
    slurm_cluster.wait_empty(timeout=30)


def test_tasks_run_inside_two_slurm_jobs_and_close_empties_the_queue(slurm_cluster, jobqueue):
    cluster, client = jobqueue
    submitted = {job.job_id for job in cluster.workers.values()}
    assert set(slurm_cluster.squeue()) == submitted

    ran_in = client.gather(client.map(job_id_after, [0.2] * 10, pure=False))

    assert len(ran_in) == 10
    assert set(ran_in) == submitted and len(submitted) == 2, ran_in
    client.close()
    cluster.close()
    slurm_cluster.wait_empty(timeout=30)  # raises TimeoutError naming the jobs left


def test_a_task_on_a_cancelled_job_moves_to_the_other_worker(slurm_cluster, jobqueue):
    _, client = jobqueue
    job_of_worker = client.run(lambda: os.environ["SLURM_JOB_ID"])  # worker address -> job id
    long = client.submit(job_id_after, 2.0, pure=False)

    def running_on() -> str | None:
        return next((w for w, keys in client.processing().items() if long.key in keys), None)

    deadline = time.monotonic() + 30
    while (worker := running_on()) is None:
        assert time.monotonic() < deadline, "the task never started"
        time.sleep(0.05)
    cancelled = job_of_worker[worker]
    slurm_cluster.scancel(cancelled)

    finished_in = long.result(timeout=60)

    assert finished_in != cancelled
    assert finished_in in job_of_worker.values()
    assert cancelled not in slurm_cluster.squeue()
