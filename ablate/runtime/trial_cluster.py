"""The study's Dask cluster over one run: started in the background while the data is prepared,
its dashboard and batch jobs reported, and closed once, on every way out of the run."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, ClassVar

from ablate.runtime import jobqueue
from ablate.runtime.cluster import ClusterPlan, plan_cluster, start_cluster
from ablate.vocab.params import Params

CLOSE_TIMEOUT_S = 60  # a cluster still closing after this is left to exit with the process
JOB_WATCH_S = 1.0  # how often the batch jobs are looked at, to report the ones newly submitted
# How often the batch system is asked which jobs it still holds, while a job's worker has not
# reached the scheduler (a job that ended first is replaced, see jobqueue.JobStarts).
JOB_QUEUE_CHECK_S = 5.0


class TrialCluster:
    """The study's Dask cluster: started in the background on request (so it comes up while
    the data is prepared), or when its scheduler is first asked for, and closed once.

    Use as a context manager; an external scheduler (``execution.address``) is never started
    or closed here. Closing a batch-queue cluster (dask-jobqueue) cancels every job it
    submitted, also when the run ends on Ctrl-C, SIGTERM or an error: the ``with`` block's exit.

    Args:
        plan: what to start (see :func:`ablate.runtime.cluster.plan_cluster`).
        report: gets one line for the terminal: the dashboard, each batch job submitted.
    """

    # The cluster a command began for the flow run it is about to make (see :meth:`begin`).
    _begun: ClassVar[TrialCluster | None] = None

    def __init__(self, plan: ClusterPlan, report: Callable[[str], None] = lambda line: None) -> None:
        self.plan = plan
        self._report = report
        self._pool: ThreadPoolExecutor | None = None
        self._started: Future[Any] | None = None
        self._closing = threading.Event()
        self._jobs_seen: list[str] = []

    @property
    def starting(self) -> bool:
        """Whether :meth:`start` was called (by the command, for one) and close has not been."""
        return self._started is not None

    def start(self) -> None:
        """Begin starting the cluster in a background thread (a no-op when begun already)."""
        if self._started is None and self.plan.kind != "address":
            self._pool = ThreadPoolExecutor(2, thread_name_prefix="ablate-cluster")
            self._started = self._pool.submit(self._start)

    @classmethod
    def begin(cls, plan: ClusterPlan, report: Callable[[str], None] = lambda line: None) -> TrialCluster:
        """Start a cluster for a flow run this process is about to make, which takes it over with
        :meth:`adopt`; the caller closes it when the flow run is over (a no-op once the flow did).

        ``ablate run`` begins it before it imports Prefect and makes its flow run (about 2 s
        on 2 cores, mostly one core's work), so that the workers come up on the others meanwhile."""
        cluster = cls(plan, report)
        cluster.start()
        cls._begun = cluster
        return cluster

    @classmethod
    def adopt(cls, plan: ClusterPlan) -> TrialCluster | None:
        """The cluster :meth:`begin` started for ``plan`` (once), else None."""
        begun = cls._begun
        if begun is None or begun.plan != plan:
            return None
        cls._begun = None
        return begun

    def _start(self) -> Any:
        # The processes of a cluster started here (a LocalCluster's workers, spawned by threads this
        # thread starts) inherit its blocked signals: a terminal's Ctrl-C, sent to the whole process
        # group, is the command's alone to handle (it closes the cluster), and no worker that is
        # still starting prints a KeyboardInterrupt traceback or fails its nanny's start. (The
        # workers keep it blocked, and so do the processes a trial starts: none is sent SIGINT.)
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        cluster = start_cluster(self.plan)
        self._report(f"cluster: {self.plan.describe()}; Dask dashboard {cluster.dashboard_link}")
        if jobqueue.is_jobqueue(type(cluster)):
            assert self._pool is not None
            self._pool.submit(self._watch_jobs, cluster)
        return cluster

    def _watch_jobs(self, cluster: Any) -> None:
        """Report batch jobs as they are submitted: the first ones, and any that replace a lost one.

        A job cancelled, preempted or out of walltime is dropped from the cluster once
        ``distributed.deploy.lost-worker-timeout`` passes; scaling to the same size again then
        submits its replacement (Dask's adapt does this itself, a fixed size does not).

        A job that ends before its worker reaches the scheduler is one Dask never saw: it is
        dropped here and replaced, and ``max(2, workers)`` of them in a row stop the run (see
        :class:`ablate.runtime.jobqueue.JobStarts`; Slurm's queue is asked, not other systems')."""
        starts = jobqueue.JobStarts(in_a_row=max(2, self.plan.workers))
        asked = 0.0
        said_failing = False
        while not self._closing.wait(JOB_WATCH_S):
            try:
                if not self.plan.adapt:
                    cluster.scale(self.plan.workers)
                self._report_new_jobs(cluster)
                starts.see_workers(_jobs(cluster), _worker_names(cluster))
                waiting = not set(_jobs(cluster).values()) <= starts.settled
                if waiting and time.monotonic() - asked >= JOB_QUEUE_CHECK_S:
                    asked = time.monotonic()
                    if not self._replace_jobs_ended_early(cluster, starts):
                        return
            except Exception as exc:  # noqa: BLE001  (the watch goes on; said once)
                if not said_failing:
                    said_failing = True
                    with contextlib.suppress(Exception):
                        self._report(f"cluster: watching its batch jobs failed ({type(exc).__name__}: {exc})")

    def _replace_jobs_ended_early(self, cluster: Any, starts: jobqueue.JobStarts) -> bool:
        """Ask the batch queue which jobs ended before their worker reached the scheduler, and
        submit their replacements; False once too many did with no worker left (the run's trial
        loop then says why)."""
        jobs = _jobs(cluster)
        queued = jobqueue.queued_jobs(cluster)
        if queued is None:
            return True
        starts.see_workers(jobs, _worker_names(cluster))  # after the queue: one that joined meanwhile
        # A job the cluster is closing (adapt scaling down) leaves its spec before it is cancelled.
        wanted = set(cluster.worker_spec)
        ended = starts.ended_before_joining({n: i for n, i in jobs.items() if n in wanted}, queued)
        if not ended:
            return True
        workers = len(_worker_names(cluster))
        if starts.given_up and not workers:
            jobqueue.fail_cluster(cluster.scheduler_address, starts.reason())
            return False
        ids = ", ".join(jobqueue.in_order(ended.values()))
        several = len(ended) > 1
        what = f"batch job{'s' if several else ''} {ids} ended before {'their workers' if several else 'its worker'}"
        if starts.given_up:  # the others run trials: no more jobs into what fails them
            self._report(
                f"cluster: {what} reached the scheduler, {len(starts.failed)} in a row; not replaced: "
                f"the run goes on with {workers} worker{'s' if workers > 1 else ''}"
            )
            return True
        self._report(f"cluster: {what} reached the scheduler; submitting {'replacements' if several else 'one'}")
        for name, job_id in ended.items():
            cluster.loop.add_callback(_drop_job, cluster, name, job_id)
        return True

    def _report_new_jobs(self, cluster: Any) -> None:
        new = [j for j in jobqueue.job_ids(cluster) if j not in self._jobs_seen]
        if new:
            self._jobs_seen += new
            self._report(f"cluster: batch job{'s' if len(new) > 1 else ''} {', '.join(new)} submitted")

    def address(self) -> str:
        """The scheduler's address, once the cluster is up."""
        if self.plan.kind == "address":
            return str(self.plan.address)
        self.start()
        assert self._started is not None
        return self._started.result().scheduler_address

    def job_ids(self) -> list[str]:
        """The batch jobs reported so far (dask-jobqueue clusters)."""
        return list(self._jobs_seen)

    def close(self) -> None:
        """Stop the cluster if this object started it (waiting for a start under way)."""
        started, self._started = self._started, None
        if started is None:
            return
        self._closing.set()
        try:
            cluster = started.result()
        except Exception:  # noqa: BLE001  (it never came up; the caller saw or will see why)
            cluster = None
        finally:
            assert self._pool is not None
            self._pool.shutdown()
        if cluster is not None:
            jobqueue.fail_cluster(cluster.scheduler_address, None)
            jobs = jobqueue.job_ids(cluster)
            try:
                cluster.close(timeout=CLOSE_TIMEOUT_S)  # dask-jobqueue cancels each job it submitted
            except (TimeoutError, asyncio.TimeoutError):
                # Seen once in hundreds of runs: a LocalCluster whose worker had just been restarted
                # by its nanny never finished closing. Its worker processes exit with this one
                # (ablate.runtime.worker), and the study's results are all written by now.
                self._report(f"cluster: did not close within {CLOSE_TIMEOUT_S} s; its workers exit with this process")
            if jobs:
                self._report(f"cluster: closed; batch job{'s' if len(jobs) > 1 else ''} {', '.join(jobs)} cancelled")

    def __enter__(self) -> TrialCluster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def study_cluster_plan(params: Params) -> ClusterPlan:
    """The cluster that runs a study's trials (see :func:`ablate.runtime.cluster.plan_cluster`);
    its workers import the trial's module as they start."""
    trial_module = params.trial.entrypoint.partition(":")[0]
    local_directory = str(params.study_dir.parent.parent / ".dask")
    return plan_cluster(params.execution, local_directory, trial_module, source=params.source)


async def _drop_job(cluster: Any, name: str, job_id: str) -> None:
    """On the cluster's event loop: forget a job that ended before its worker joined (what Dask
    does to a lost worker), cancel it should the queue still hold it, and submit its replacement."""
    job = cluster.workers.get(name)
    if job is None or str(getattr(job, "job_id", "")) != job_id:  # gone, or its name taken again
        return
    del cluster.workers[name]
    with contextlib.suppress(Exception):  # dask-jobqueue's own cancel; a job already gone is no error
        await job.close()
    cluster.scale(len(cluster.worker_spec))  # the spec still names it: its replacement is submitted


def _jobs(cluster: Any) -> dict[str, str]:
    """A batch-queue cluster's jobs, name -> id, as submitted so far."""
    return {name: str(job.job_id) for name, job in list(cluster.workers.items()) if getattr(job, "job_id", None)}


def _worker_names(cluster: Any) -> set[str]:
    """The names of the workers connected to the cluster's scheduler."""
    return {str(w.get("name")) for w in list(cluster.scheduler_info["workers"].values())}
