"""What the driver tells the Dask workers that run trials, and how a worker reads it: the names
both sides spell, in one place.

The driver loads :data:`PRELOAD` in every worker and puts :func:`worker_env` in its environment (a
LocalCluster's ``env``, a batch job's script), so a worker knows both from its start, before any
trial module is imported.
"""

from __future__ import annotations

import os

PRELOAD = "ablate.runtime.worker"  # the set-up of a worker process (dask's --preload)
TRIAL_MODULE = "ABLATE_TRIAL_MODULE"  # the study's trial module, imported by the preload
TRIALS_AT_ONCE = "ABLATE_TRIALS_AT_ONCE"  # trials computing at once in one worker process (a shared GPU)
# Where a batch system names the job a worker runs in (Slurm, PBS, LSF, SGE): a trial records it.
JOB_ID_VARIABLES = ("SLURM_JOB_ID", "PBS_JOBID", "LSB_JOBID", "JOB_ID")


def worker_env(trial_module: str | None = None, trials_at_once: int | None = None) -> dict[str, str]:
    """The variables a worker needs: the trial module to import ahead of the first trial, and how
    many trials may compute at once in it (where more than one share a GPU)."""
    env = {TRIAL_MODULE: trial_module} if trial_module else {}
    return env | ({TRIALS_AT_ONCE: str(trials_at_once)} if trials_at_once is not None else {})


def trial_module() -> str | None:
    """In a worker: the study's trial module, where the driver named one."""
    return os.environ.get(TRIAL_MODULE) or None


def job_id() -> str:
    """In a worker: the batch job it runs in, "" outside one."""
    return next((os.environ[v] for v in JOB_ID_VARIABLES if os.environ.get(v)), "")


def trials_at_once() -> int:
    """In a worker: how many trials may compute at once in this process (1 unless the driver said)."""
    return max(1, int(os.environ.get(TRIALS_AT_ONCE) or 1))
