"""Which Dask cluster runs the trials: an existing scheduler, dask-cuda's LocalCUDACluster on
GPU machines, or a LocalCluster of worker processes.

:func:`plan_cluster` returns plain settings (a class path and keyword arguments), and
:func:`start_cluster` starts them. The orchestration layer connects to the scheduler: trials are
Prefect task runs in the driver that hand their trial to this cluster (see flows/trials.py).
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import os
import shutil
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from ablate.config import ExecutionConfig
from ablate.errors import ConfigError


@dataclass(frozen=True)
class ClusterPlan:
    kind: str  # "address" | "cuda" | "local"
    address: str | None = None
    cluster_class: str | None = None
    cluster_kwargs: dict[str, Any] = field(default_factory=dict)
    workers: int = 1
    warning: str | None = None  # for the terminal: GPUs visible but not used, say

    def describe(self) -> str:
        if self.kind == "address":
            return f"existing Dask scheduler at {self.address}"
        what = "LocalCUDACluster" if self.kind == "cuda" else "LocalCluster"
        return f"{what} of {self.workers} worker process{'es' if self.workers > 1 else ''}"


@functools.cache
def nvidia_driver_present() -> bool:
    """Whether this machine has the NVIDIA driver; without it no CUDA device can be visible."""
    return os.path.exists("/proc/driver/nvidia") or shutil.which("nvidia-smi") is not None


def visible_gpus() -> int:
    """How many CUDA devices this process sees (0 without an NVIDIA driver, torch or CUDA)."""
    # Importing torch costs seconds; a machine without the NVIDIA driver has no GPU to find.
    if not nvidia_driver_present():
        return 0
    try:
        import torch
    except ImportError:
        return 0
    return torch.cuda.device_count() if torch.cuda.is_available() else 0


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
        return ClusterPlan(kind="address", address=execution.address, workers=execution.workers)
    common: dict[str, Any] = {
        # One thread runs a trial; the others hold the trials queued behind it (and restore
        # cached ones), so a worker never waits for the scheduler between trials. ablate.trial
        # lets one trial compute at a time per process (torch seeds and threads are per process).
        "threads_per_worker": 1 + execution.queue_ahead,
        "dashboard_address": ":0",
        "local_directory": local_directory,
        "preload": ["ablate.worker"],
        "env": {"ABLATE_TRIAL_MODULE": trial_module} if trial_module else {},
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
        return ClusterPlan(kind="cuda", cluster_class="dask_cuda.LocalCUDACluster", workers=gpus, cluster_kwargs=common)
    warning = _check_gpus(execution, source, gpus)
    if warning:  # CPU workers must not all pile their trials onto the first GPU
        common["env"] = {**common["env"], "CUDA_VISIBLE_DEVICES": ""}
    threads = max(1, (os.cpu_count() or 1) // execution.workers)
    return ClusterPlan(
        kind="local",
        cluster_class="distributed.LocalCluster",
        workers=execution.workers,
        warning=warning,
        cluster_kwargs={
            **common,
            "n_workers": execution.workers,
            "processes": True,
            "env": {**common["env"], "ABLATE_TORCH_THREADS": str(threads), "OMP_NUM_THREADS": str(threads)},
        },
    )


def start_cluster(plan: ClusterPlan) -> Any:
    """Start the cluster ``plan`` describes and return it (a ``distributed`` cluster object with
    ``scheduler_address`` and ``close()``); None for an existing scheduler, which is not ours."""
    if plan.kind == "address":
        return None
    module, _, name = (plan.cluster_class or "").rpartition(".")
    return getattr(importlib.import_module(module), name)(**plan.cluster_kwargs)


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


class TrialCluster:
    """The study's Dask cluster: started in the background on request (so it comes up while
    the data is prepared), or when its scheduler is first asked for, and closed once.

    Use as a context manager; an external scheduler (``execution.address``) is never started
    or closed here.
    """

    def __init__(self, plan: ClusterPlan) -> None:
        self.plan = plan
        self._pool: ThreadPoolExecutor | None = None
        self._started: Future[Any] | None = None

    def start(self) -> None:
        """Begin starting the cluster in a background thread (a no-op when begun already)."""
        if self._started is None and self.plan.kind != "address":
            self._pool = ThreadPoolExecutor(1, thread_name_prefix="ablate-cluster")
            self._started = self._pool.submit(start_cluster, self.plan)

    def address(self) -> str:
        """The scheduler's address, once the cluster is up."""
        if self.plan.kind == "address":
            return str(self.plan.address)
        self.start()
        assert self._started is not None
        return self._started.result().scheduler_address

    def close(self) -> None:
        """Stop the cluster if this object started it (waiting for a start under way)."""
        started, self._started = self._started, None
        if started is None:
            return
        try:
            cluster = started.result()
        except Exception:  # noqa: BLE001  (it never came up; the caller saw or will see why)
            cluster = None
        finally:
            assert self._pool is not None
            self._pool.shutdown()
        if cluster is not None:
            cluster.close()

    def __enter__(self) -> TrialCluster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
