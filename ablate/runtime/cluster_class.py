"""A Dask cluster class named by its import path (``execution.cluster``): imported, checked and
given ablate's settings, before anything is written or started.

ablate drives Dask's own cluster managers (dask-jobqueue's SLURMCluster and PBSCluster,
dask-kubernetes, dask-cuda) and never re-implements them: the class gets
``execution.cluster_options`` as its keyword arguments, plus what ablate's workers need, only
where the user did not set it (see :func:`cluster_kwargs`).
"""

from __future__ import annotations

import asyncio
import importlib
from typing import Any

from ablate.errors import ConfigError, one_line
from ablate.runtime import jobqueue
from ablate.vocab.params import ExecutionConfig

# Import names whose distribution is named otherwise (the rest: underscores become dashes).
_DISTRIBUTIONS = {"distributed": "distributed", "dask_kubernetes": "dask-kubernetes", "dask_cuda": "dask-cuda"}


def load_cluster_class(path: str, source: str = "") -> type:
    """The class at ``path`` (``package.module.Class``), checked to be a Dask cluster.

    Raises:
        ConfigError: its module does not import (naming the package to install), the module has
            no such attribute, or it is not a subclass of ``distributed.deploy.Cluster``.
    """
    from distributed.deploy import Cluster

    module_name, _, name = path.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        top = (err.name or module_name).partition(".")[0]
        package = _DISTRIBUTIONS.get(top, top.replace("_", "-"))
        raise ConfigError(
            source,
            "execution.cluster",
            f"must be the import path of an installed Dask cluster class, but {top} is not installed "
            f"(pip install {package}; got {path!r})",
        ) from None
    cls = getattr(module, name, None)
    if cls is None:
        raise ConfigError(source, "execution.cluster", f"must name a class of {module_name}, but it has no {name!r}")
    if not (isinstance(cls, type) and issubclass(cls, Cluster)):
        raise ConfigError(
            source,
            "execution.cluster",
            f"must be a Dask cluster class (a subclass of distributed.deploy.Cluster, e.g. "
            f"dask_jobqueue.SLURMCluster), but {path} is {_describe(cls)}",
        )
    return cls


def cluster_kwargs(cls: type, execution: ExecutionConfig, trial_module: str | None, source: str = "") -> dict[str, Any]:
    """``execution.cluster_options`` with ablate's settings added where the user set none."""
    kwargs = dict(execution.cluster_options)
    if jobqueue.is_jobqueue(cls):
        return jobqueue.job_kwargs(
            cls,
            kwargs,
            trial_module,
            execution.gpus_per_worker,
            source,
            trials_per_gpu=execution.trials_per_gpu,
            queue_ahead=execution.queue_ahead,
        )
    if execution.gpus_per_worker:
        raise ConfigError(
            source,
            "execution.gpus_per_worker",
            f"must be 0 unless execution.cluster is a dask_jobqueue class, but the cluster is {cls.__name__} "
            "(give its own GPU options in execution.cluster_options)",
        )
    return kwargs


def check_cluster(execution: ExecutionConfig, trial_module: str | None, source: str = "") -> None:
    """Check ``execution.cluster`` and its options without starting anything: the class imports,
    is a Dask cluster, and its constructor accepts the options.

    The constructor runs with ``asynchronous=True`` inside an event loop, where Dask's cluster
    classes build their settings (and reject unknown or missing ones) but start no scheduler
    and submit no job until awaited.

    Raises:
        ConfigError: one line; for rejected options, the class's own message.
    """
    if execution.cluster == "local":
        return
    cls = load_cluster_class(execution.cluster, source)
    kwargs = cluster_kwargs(cls, execution, trial_module, source)

    async def construct() -> None:
        await cls(asynchronous=True, **kwargs).close()

    try:
        asyncio.run(construct())
    except (TypeError, ValueError, KeyError) as err:
        raise ConfigError(
            source,
            "execution.cluster_options",
            f"must be keyword arguments {cls.__name__} accepts, but it says: {one_line(err, 300)}",
        ) from None


def _describe(obj: object) -> str:
    if isinstance(obj, type):
        bases = ", ".join(b.__name__ for b in obj.__mro__[1:-1]) or "object"
        return f"a class deriving from {bases}"
    return f"a {type(obj).__name__}, not a class"
