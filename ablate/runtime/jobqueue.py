"""dask-jobqueue clusters (Slurm, PBS, ...): what ablate adds to their options, and their jobs.

Only dask-jobqueue's documented keyword arguments are used (``worker_extra_args``,
``job_script_prologue``, ``job_extra_directives``, ``resource_spec``, ``worker_command``,
``death_timeout``, ``scheduler_options``), each only where the user's ``cluster_options`` leave
it unset or as an addition to the user's list.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ablate.errors import ConfigError
from ablate.runtime.worker import PROFILER_CAN_DEADLOCK
from ablate.worker_env import PRELOAD, worker_env

# Seconds a worker waits for a scheduler that went away (the driver was killed) before it exits, and
# its batch job with it. A scheduler that is up never lets it fire. Stated in docs/scale-out.md.
DEATH_TIMEOUT_S = 60


def is_jobqueue(cls: type) -> bool:
    # A class of dask_jobqueue has imported it; importing it here could happen in a thread, where its
    # import fails (it installs a signal handler, which only the main thread may).
    module = sys.modules.get("dask_jobqueue")
    return module is not None and issubclass(cls, module.JobQueueCluster)


def job_kwargs(
    cls: type,
    options: dict[str, Any],
    trial_module: str | None,
    gpus: int,
    source: str = "",
    *,
    trials_per_gpu: int = 1,
    queue_ahead: int = 1,
) -> dict[str, Any]:
    """``options`` for a JobQueueCluster with ablate's worker settings added.

    - ``--preload ablate.runtime.worker`` (and the trial module to import, exported in the job script);
    - ``death_timeout``: orphaned workers exit on their own after a SIGKILL of the driver;
    - the dashboard on a free port (dask-jobqueue's default, 8787, is often taken on a login node);
    - with ``gpus``: the scheduler's GPU request and dask-cuda's worker, one worker per GPU, each
      with one ``GPU`` resource, a thread for each of the ``trials_per_gpu`` trials sharing it and
      each queued behind them, and ``trials_per_gpu`` trials computing at once in its process.
    """
    kw = dict(options)
    kw["scheduler_options"] = {"dashboard_address": ":0", **(kw.get("scheduler_options") or {})}
    kw.setdefault("death_timeout", DEATH_TIMEOUT_S)
    extra = list(kw.get("worker_extra_args") or [])
    if PRELOAD not in extra:
        extra += ["--preload", PRELOAD]
    # The job's shell outlives SIGTERM (a trap, which its children do not inherit) until the worker
    # exits: a batch system ends a job whose script has exited by killing what is left of it, and the
    # worker first lets a finishing trial publish its folder (ablate.runtime.worker).
    prologue = ["trap : TERM", *(kw.get("job_script_prologue") or [])]
    if PROFILER_CAN_DEADLOCK:  # the job's workers run this Python (see ablate.runtime.worker)
        prologue.append("export DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED=False")
    env = worker_env(trial_module, trials_per_gpu if gpus else None)
    if gpus:
        _request_gpus(cls, kw, gpus, source)
        kw.setdefault("worker_command", "dask cuda worker")  # run as `python -m dask cuda worker`
        # dask cuda worker parses no --death-timeout (it would be taken as a preload argument):
        # its orphans end at their job's walltime (see docs/scale-out.md).
        kw.pop("death_timeout")
        extra += ["--resources", "GPU=1", "--nthreads", str(trials_per_gpu + queue_ahead)]
    prologue += [f"export {name}={shlex.quote(value)}" for name, value in env.items()]
    kw["worker_extra_args"] = extra
    kw["job_script_prologue"] = prologue
    return kw


def _request_gpus(cls: type, kw: dict[str, Any], gpus: int, source: str) -> None:
    """Each job asks its batch system for ``gpus`` GPUs, with that system's own directive."""
    from dask_jobqueue import PBSCluster, SLURMCluster

    if issubclass(cls, SLURMCluster):
        kw["job_extra_directives"] = [*(kw.get("job_extra_directives") or []), f"--gres=gpu:{gpus}"]
    elif issubclass(cls, PBSCluster):
        spec = kw.get("resource_spec") or f"select=1:ncpus={kw.get('cores', 1)}"
        kw["resource_spec"] = f"{spec}:ngpus={gpus}"
    else:
        raise ConfigError(
            source,
            "execution.gpus_per_worker",
            f"must be 0 unless the cluster is SLURMCluster or PBSCluster, but got {gpus} for {cls.__name__} "
            "(request GPUs with its job_extra_directives in execution.cluster_options)",
        )


def job_ids(cluster: Any) -> list[str]:
    """The batch job ids of a JobQueueCluster's workers, as submitted so far (none for another kind)."""
    jobs = list(getattr(cluster, "workers", {}).values())
    return in_order(str(i) for job in jobs if (i := getattr(job, "job_id", None)))


def in_order(job_ids: Iterable[str]) -> list[str]:
    """Batch job ids in the order they were given out (numeric ones by number)."""
    return sorted(job_ids, key=lambda i: (len(i), i))


# Scheduler address -> why its cluster can run no trial (its jobs end before their workers start).
_failed: dict[str, str] = {}


def fail_cluster(scheduler_address: str, why: str | None) -> None:
    """Record why the cluster at this address can run no trial (None: forget it, as it closes)."""
    if why is None:
        _failed.pop(scheduler_address, None)
    else:
        _failed[scheduler_address] = why


def cluster_failure(scheduler_address: str) -> str | None:
    """Why the cluster ablate started at this address can run no trial, once its watch knows
    (see :class:`JobStarts`), else None. The trial loop asks while it waits."""
    return _failed.get(scheduler_address)


def queued_jobs(cluster: Any) -> set[str] | None:
    """The ids of this user's jobs the batch system still holds (pending, running, completing), or
    None where ablate cannot ask it: a batch system other than Slurm, or its command failing."""
    module = sys.modules.get("dask_jobqueue")  # imported by the cluster's class (see is_jobqueue)
    if module is None or not isinstance(cluster, module.SLURMCluster):
        return None
    # All partitions (--all: hidden ones too), this uid's jobs; squeue's SQUEUE_* variables (a
    # user's default partition or state filter) would hide some of them.
    env = {k: v for k, v in os.environ.items() if not k.startswith("SQUEUE_")}
    command = ["squeue", "--noheader", "--all", "--format=%i", f"--user={os.getuid()}"]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=10, env=env)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return set(done.stdout.split()) if done.returncode == 0 else None


@dataclass
class JobStarts:
    """Which batch jobs ended before their worker reached the scheduler, and when to stop asking
    for more: a job failing as it starts (a broken environment on the compute nodes, a ``python``
    that is not there, a worker slower to start than ``death_timeout``) never runs a trial, and
    Dask, which never saw its worker, neither drops nor replaces it: the run would wait forever.

    Each such job is replaced until ``in_a_row`` of them end with no worker reaching the scheduler
    in between (the environment, not one node, is at fault): then the run stops if no worker is
    left, and goes on with those it has otherwise.
    """

    in_a_row: int
    joined: set[str] = field(default_factory=set)  # ids of jobs whose worker reached the scheduler
    ended: set[str] = field(default_factory=set)  # ids of jobs that ended before it did
    failed: list[str] = field(default_factory=list)  # the ended ones since a worker last joined

    @property
    def settled(self) -> set[str]:
        """Jobs with nothing left to learn of: their worker joined, or they ended first."""
        return self.joined | self.ended

    def see_workers(self, jobs: dict[str, str], workers: set[str]) -> None:
        """``jobs``: name -> id of the cluster's jobs (a replacement takes its job's name);
        ``workers``: the names of the scheduler's workers (a job of several processes names them
        ``<job name>-<i>``)."""
        new = {i for name, i in jobs.items() if i not in self.settled and _has_worker(name, workers)}
        if new:
            self.joined |= new
            self.failed.clear()

    def ended_before_joining(self, jobs: dict[str, str], queued: set[str]) -> dict[str, str]:
        """The jobs (name -> id) no longer queued whose worker never reached the scheduler; each
        is counted once."""
        ended = {n: i for n, i in jobs.items() if i not in self.settled and i not in queued}
        self.ended |= set(ended.values())
        self.failed += ended.values()
        return ended

    @property
    def given_up(self) -> bool:
        return len(self.failed) >= self.in_a_row

    def reason(self) -> str:
        ids = ", ".join(in_order(self.failed))
        return (
            f"cluster: batch jobs {ids} ended before their workers reached the scheduler, "
            f"{len(self.failed)} in a row; their output says why (Slurm's slurm-<job id>.out in the folder "
            "ablate runs in, unless execution.cluster_options.log_directory names another)"
        )


def _has_worker(job_name: str, workers: set[str]) -> bool:
    return job_name in workers or any(w.startswith(f"{job_name}-") for w in workers)
