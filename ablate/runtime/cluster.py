"""Which Dask cluster runs the trials: an existing scheduler, any Dask cluster class by its import
path (``execution.cluster``: dask-jobqueue's SLURMCluster, ...), dask-cuda's LocalCUDACluster on
GPU machines, or a LocalCluster of worker processes.

:func:`plan_cluster` returns plain settings (a class path and keyword arguments), and
:func:`start_cluster` starts them. :class:`ablate.runtime.trial_cluster.TrialCluster` runs
its lifecycle. The orchestration layer connects to the scheduler: trials are
Prefect task runs in the driver that hand their trial to this cluster (see flows/trials.py).
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import multiprocessing
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ablate.errors import ConfigError, one_line
from ablate.runtime.cluster_class import cluster_kwargs, load_cluster_class
from ablate.runtime.worker import PROFILER_CAN_DEADLOCK, SETUP_IMPORTS
from ablate.trial.devices import visible_gpus
from ablate.vocab.params import ExecutionConfig
from ablate.worker_env import PRELOAD, worker_env

# What a LocalCluster's forkserver imports once, for every worker it forks (see forked_workers):
# its own quick exit, Dask, and what ablate.runtime.worker's set-up imports in each worker.
FORKSERVER_PRELOAD = ("ablate.runtime.forkserver", "distributed", PRELOAD, *SETUP_IMPORTS)


@dataclass(frozen=True)
class ClusterPlan:
    kind: str  # "address" | "class" (execution.cluster by import path) | "cuda" | "local"
    address: str | None = None
    cluster_class: str | None = None
    cluster_kwargs: dict[str, Any] = field(default_factory=dict)
    workers: int = 1  # trials run at once: the fixed number of workers, or adapt's maximum
    adapt: tuple[int, int] | None = None  # (minimum, maximum) workers, scaled by Dask's adapt
    warning: str | None = None  # for the terminal: GPUs visible but not used, say
    source: str = ""  # the params file, for errors
    # What each trial asks of its worker, in Dask worker resources: {"GPU": 1 / trials_per_gpu}
    # where every worker holds one GPU (dask-cuda workers); None where trials need no resource.
    trial_resources: dict[str, float] | None = None
    trials_per_worker: int = 1  # trials computing at once on one worker (trials_per_gpu on a GPU's)

    def in_flight(self, queue_ahead: int) -> int:
        """Trials to keep submitted: each worker's computing ones and ``queue_ahead`` behind them."""
        return self.workers * (self.trials_per_worker + queue_ahead)

    def describe(self) -> str:
        if self.kind == "address":
            return f"existing Dask scheduler at {self.address}"
        what = {"cuda": "LocalCUDACluster", "local": "LocalCluster"}.get(self.kind, self.cluster_class)
        if self.adapt:
            return f"{what} of {self.adapt[0]} to {self.adapt[1]} workers (adaptive)"
        return f"{what} of {self.workers} worker{'s' if self.workers > 1 else ''}"


def plan_cluster(
    execution: ExecutionConfig,
    local_directory: str,
    trial_module: str | None = None,
    *,
    source: str = "",
    gpus: int | None = None,
    dask_cuda: bool | None = None,
) -> ClusterPlan:
    """Choose the cluster for ``execution``.

    An ``address`` wins. Otherwise, when GPUs are visible, trials may use them and the ``gpu``
    extra (dask-cuda) is installed, one worker per GPU; else ``workers`` CPU processes.

    Args:
        execution: the params file's ``execution`` section.
        local_directory: Dask's scratch folder.
        trial_module: imported by each worker as it starts.
        source: the params file, for errors.
        gpus: CUDA devices visible here (default: :func:`visible_gpus`).
        dask_cuda: whether dask-cuda is installed (default: whether it can be imported).

    Raises:
        ConfigError: ``execution.device`` is ``cuda``, but no GPU is visible or dask-cuda is
            not installed. (With ``auto`` the plan falls back to CPU workers, with a warning.)
    """
    if execution.address:
        # Workers of a running scheduler that hold GPUs carry a GPU resource (`dask cuda worker
        # --resources GPU=1`): trials_per_gpu above 1 packs trials on them as on ours.
        packed = execution.trials_per_gpu > 1
        return ClusterPlan(
            kind="address",
            address=execution.address,
            workers=execution.workers,
            **packing(execution, gpu_workers=packed),
        )
    adapt = (execution.adapt.minimum, execution.adapt.maximum) if execution.adapt else None
    workers = adapt[1] if adapt else execution.workers
    if execution.cluster != "local":
        cls = load_cluster_class(execution.cluster, source)
        return ClusterPlan(
            kind="class",
            cluster_class=execution.cluster,
            cluster_kwargs=cluster_kwargs(cls, execution, trial_module, source),
            workers=workers,
            adapt=adapt,
            source=source,
            **packing(execution, gpu_workers=bool(execution.gpus_per_worker)),
        )
    common: dict[str, Any] = {
        # One thread runs a trial; the others hold the trials queued behind it (and restore
        # cached ones), so a worker never waits for the scheduler between trials. ablate.trial.execute
        # lets one trial compute at a time per process (torch seeds and threads are per process).
        "threads_per_worker": 1 + execution.queue_ahead,
        "dashboard_address": ":0",
        "local_directory": local_directory,
        "preload": [PRELOAD],
        "env": worker_env(trial_module),
    }
    if execution.device == "cpu":
        gpus = 0
    elif gpus is None:
        gpus = visible_gpus()
    if dask_cuda is None:
        dask_cuda = importlib.util.find_spec("dask_cuda") is not None
    if gpus and dask_cuda:
        # One worker per visible GPU (dask-cuda honours CUDA_VISIBLE_DEVICES); each worker's
        # trials see their GPU as cuda:0.
        return ClusterPlan(
            kind="cuda",
            cluster_class="dask_cuda.LocalCUDACluster",
            workers=gpus,
            cluster_kwargs={**common, **gpu_worker_kwargs(execution, common["env"])},
            source=source,
            **packing(execution, gpu_workers=True),
        )
    warning = _check_gpus(execution, source, gpus)
    if warning:  # CPU workers must not all pile their trials onto the first GPU
        common["env"] = {**common["env"], "CUDA_VISIBLE_DEVICES": ""}
    threads = max(1, (os.cpu_count() or 1) // workers)
    return ClusterPlan(
        kind="local",
        cluster_class="distributed.LocalCluster",
        workers=workers,
        adapt=adapt,
        warning=warning,
        source=source,
        cluster_kwargs={
            **common,
            "n_workers": adapt[0] if adapt else workers,
            "processes": True,
            "env": {**common["env"], "ABLATE_TORCH_THREADS": str(threads), "OMP_NUM_THREADS": str(threads)},
        },
    )


def trial_resources(execution: ExecutionConfig) -> dict[str, float]:
    """A trial's share of its worker's one GPU: ``trials_per_gpu`` trials fit on a GPU at once."""
    return {"GPU": 1.0 / execution.trials_per_gpu}


def packing(execution: ExecutionConfig, gpu_workers: bool) -> dict[str, Any]:
    """The plan's trial resources and trials per worker: each worker's GPU shared by
    ``trials_per_gpu`` trials where workers hold one, else one trial a worker and no resource."""
    if not gpu_workers:
        return {"trial_resources": None, "trials_per_worker": 1}
    return {"trial_resources": trial_resources(execution), "trials_per_worker": execution.trials_per_gpu}


def gpu_worker_kwargs(execution: ExecutionConfig, env: dict[str, str]) -> dict[str, Any]:
    """Worker settings where each worker holds one GPU: a ``GPU`` resource of 1 (trials take
    :func:`trial_resources` of it), a thread for each trial sharing it plus those queued behind,
    and that many trials computing at once in the process (``ablate.trial.execute``)."""
    return {
        "resources": {"GPU": 1},
        "threads_per_worker": execution.trials_per_gpu + execution.queue_ahead,
        "env": {**env, **worker_env(trials_at_once=execution.trials_per_gpu)},
    }


def start_cluster(plan: ClusterPlan) -> Any:
    """Start the cluster ``plan`` describes and return it (a ``distributed`` cluster object with
    ``scheduler_address`` and ``close()``); None for an existing scheduler, which is not ours.

    A cluster by import path is created, then scaled to ``plan.workers`` (or adapted): a batch
    queue's workers come up while the caller goes on (dask-jobqueue submits their jobs)."""
    if plan.kind == "address":
        return None
    module, _, name = (plan.cluster_class or "").rpartition(".")
    cls = getattr(importlib.import_module(module), name)
    if PROFILER_CAN_DEADLOCK:
        import dask

        # For this process, not a block: every worker started from here takes this process's
        # Dask config, also those an adaptive cluster starts later (see ablate.runtime.worker).
        dask.config.set({"distributed.worker.profile.enabled": False})
    if plan.kind == "local":
        with forked_workers(plan.cluster_kwargs) as kwargs:
            cluster = cls(**kwargs)
    elif plan.kind != "class":
        cluster = cls(**plan.cluster_kwargs)
    else:
        try:
            cluster = cls(**plan.cluster_kwargs)
        except (TypeError, ValueError) as err:
            raise ConfigError(
                plan.source,
                "execution.cluster_options",
                f"must be accepted by {name}, but it says: {one_line(err, 300)}",
            ) from None
        if not plan.adapt:
            cluster.scale(plan.workers)
    if plan.adapt:
        cluster.adapt(minimum=plan.adapt[0], maximum=plan.adapt[1])
    return cluster


@contextlib.contextmanager
def forked_workers(kwargs: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Within the block, a LocalCluster made with the ``kwargs`` it gives forks its worker
    processes from multiprocessing's forkserver, on Linux: a process that imported, once, what
    every worker imports as it starts (Dask, ablate's worker set-up and trial runner, DVCLive). A
    worker then starts without its ~2.5 s of imports, on a core the trials would use. Elsewhere,
    or where the Dask config names another method than the default spawn, the workers start as
    Dask starts them.

    Only for the cluster's start: a worker Dask starts later (one replacing a hung trial's, an
    adaptive cluster's) and any other cluster of this process are spawned as before. The
    forkserver is started once per process, by the first such cluster, and a forked worker's
    environment is the forkserver's as it was then; ``env`` sets this process's variables as they
    are now over it, so a later study in this process that changed one (its Prefect server, say)
    is seen by its workers (one removed since stays, and what the interpreter or a preloaded module
    read at its start is the forkserver's). The study's trial module is imported by each worker,
    not by the forkserver, and each worker draws a fresh seed for numpy's global generator
    (ablate.runtime.worker): forked, they would all share the forkserver's."""
    import dask
    import distributed.utils

    method = "distributed.worker.multiprocessing-method"
    if sys.platform != "linux" or dask.config.get(method) != "spawn":
        yield kwargs
        return
    with dask.config.set({method: "forkserver"}):
        # Dask names its own preload at its first use of the forkserver, after importing, in this
        # process, every package it would name (numpy, pandas, lz4: ~0.5 s of the core that imports
        # Prefect meanwhile, on the way to the first trial). Marked as named, it leaves the preload
        # to this one. (Were the mark renamed, Dask would name its own at the first worker's start,
        # after this one, and the workers would preload Dask's list instead: slower, no different.)
        distributed.utils._forkserver_preload_set = True
        multiprocessing.get_context("forkserver").set_forkserver_preload(list(FORKSERVER_PRELOAD))
        yield {**kwargs, "env": {**os.environ, **kwargs.get("env", {})}}


def _check_gpus(execution: ExecutionConfig, source: str, gpus: int) -> str | None:
    """When GPUs are asked for or visible but cannot be used: an error for ``cuda``, a warning
    for ``auto``. Called only when no LocalCUDACluster is possible."""
    if execution.device == "cuda":
        if not gpus:
            raise ConfigError(
                source, "execution.device", "cuda needs a visible CUDA GPU, but none is visible; set it to auto or cpu"
            )
        raise ConfigError(
            source,
            "execution.device",
            f"cuda needs dask-cuda (pip install -e '.[gpu]'), but it is not installed ({gpus} GPU(s) visible); "
            "install it, or set execution.device to auto to run on CPU workers",
        )
    if gpus:
        return (
            f"warning: {gpus} GPU(s) visible, but dask-cuda is not installed (pip install -e '.[gpu]'): "
            f"trials run on {execution.workers} CPU worker process(es), without the GPUs"
        )
    return None
