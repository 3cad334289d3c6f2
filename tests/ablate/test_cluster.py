from __future__ import annotations

from ablate.cluster import plan_cluster, visible_gpus
from ablate.config import ExecutionConfig


def test_an_address_means_the_existing_scheduler() -> None:
    plan = plan_cluster(ExecutionConfig(address="tcp://127.0.0.1:8786", workers=8), "/tmp/x")
    assert (plan.kind, plan.address, plan.workers) == ("address", "tcp://127.0.0.1:8786", 8)
    assert plan.cluster_class is None and "existing Dask scheduler" in plan.describe()


def test_cpu_only_means_a_local_cluster_of_processes_with_queued_trial_threads() -> None:
    plan = plan_cluster(ExecutionConfig(workers=3, queue_ahead=1, device="cpu"), "/tmp/x")
    kw = plan.cluster_kwargs
    assert plan.kind == "local" and plan.cluster_class == "distributed.LocalCluster"
    assert (kw["n_workers"], kw["processes"], kw["threads_per_worker"]) == (3, True, 2)
    assert kw["preload"] == ["ablate.worker"] and kw["local_directory"] == "/tmp/x"
    assert int(kw["env"]["ABLATE_TORCH_THREADS"]) >= 1


def test_auto_device_falls_back_to_a_local_cluster_without_gpus() -> None:
    plan = plan_cluster(ExecutionConfig(workers=2, device="auto"), "/tmp/x")
    assert plan.kind == ("cuda" if visible_gpus() else "local")
