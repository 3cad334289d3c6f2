"""Which Dask cluster runs the trials: an existing scheduler, dask-cuda's LocalCUDACluster on
GPU machines, or a LocalCluster of worker processes.

Returned as plain settings (a class path and keyword arguments) so the orchestration layer can
hand them to its task runner; nothing here starts a cluster.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from dataclasses import dataclass, field
from typing import Any

from ablate.config import ExecutionConfig


@dataclass(frozen=True)
class ClusterPlan:
    kind: str  # "address" | "cuda" | "local"
    address: str | None = None
    cluster_class: str | None = None
    cluster_kwargs: dict[str, Any] = field(default_factory=dict)
    workers: int = 1

    def describe(self) -> str:
        if self.kind == "address":
            return f"existing Dask scheduler at {self.address}"
        what = "LocalCUDACluster" if self.kind == "cuda" else "LocalCluster"
        return f"{what} of {self.workers} worker process{'es' if self.workers > 1 else ''}"


def visible_gpus() -> int:
    """How many CUDA devices this process sees (0 without an NVIDIA driver, torch or CUDA)."""
    # Importing torch costs seconds; a machine without the NVIDIA driver has no GPU to find.
    if not os.path.exists("/proc/driver/nvidia") and shutil.which("nvidia-smi") is None:
        return 0
    try:
        import torch
    except ImportError:
        return 0
    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def plan_cluster(execution: ExecutionConfig, local_directory: str, trial_module: str | None = None) -> ClusterPlan:
    """Choose the cluster for ``execution``.

    An ``address`` wins. Otherwise, when GPUs are visible, trials may use them and the ``gpu``
    extra (dask-cuda) is installed, one worker per GPU; else ``workers`` CPU processes.
    ``trial_module`` is imported by each worker as it starts.
    """
    if execution.address:
        return ClusterPlan(kind="address", address=execution.address, workers=execution.workers)
    common: dict[str, Any] = {
        # One thread runs a trial; the others do the Prefect bookkeeping (API calls) of the
        # trials queued behind it, so that cost overlaps with work. ablate.trial lets one trial
        # compute at a time per process (torch seeds and threads are per process).
        "threads_per_worker": 1 + execution.queue_ahead,
        "dashboard_address": ":0",
        "local_directory": local_directory,
        "preload": ["ablate.worker"],
        "env": {"ABLATE_TRIAL_MODULE": trial_module} if trial_module else {},
    }
    gpus = visible_gpus() if execution.device in ("auto", "cuda") else 0
    if gpus and importlib.util.find_spec("dask_cuda") is not None:
        # One worker per visible GPU (dask-cuda honours CUDA_VISIBLE_DEVICES); each worker's
        # trials see their GPU as cuda:0.
        return ClusterPlan(kind="cuda", cluster_class="dask_cuda.LocalCUDACluster", workers=gpus, cluster_kwargs=common)
    threads = max(1, (os.cpu_count() or 1) // execution.workers)
    return ClusterPlan(
        kind="local",
        cluster_class="distributed.LocalCluster",
        workers=execution.workers,
        cluster_kwargs={
            **common,
            "n_workers": execution.workers,
            "processes": True,
            "env": {**common["env"], "ABLATE_TORCH_THREADS": str(threads), "OMP_NUM_THREADS": str(threads)},
        },
    )
