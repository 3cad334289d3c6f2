"""``execution.trials_per_gpu``: several trials share one GPU worker. No GPU is lent to this
project, so the packing logic runs here on CPU worker processes that carry the plan's own worker
settings (a ``GPU`` resource of 1, the threads, the trials-at-once limit), in a real Dask
LocalCluster, with trials submitted with the plan's resources: what dask-cuda's workers get."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from ablate.runtime.cluster import plan_cluster
from ablate.runtime.jobqueue import job_kwargs
from ablate.trial.context import TrialContext
from ablate.trial.execute import execute_trial
from ablate.vocab.params import ExecutionConfig
from ablate.vocab.trial import PreparedData, TrialSpec

DUMMY = PreparedData(
    path="/nonexistent", data_hash="d" * 64, task="classification", n_features=2, n_classes=2, shapes={}
)


def probe(params: dict[str, Any], ctx: TrialContext) -> dict[str, float]:
    """Sleeps, and records when it computed and in which process."""
    start = time.time()
    time.sleep(float(params["sleep"]))
    (ctx.out_dir / "span.json").write_text(json.dumps({"pid": os.getpid(), "start": start, "end": time.time()}))
    return {"val_accuracy": 1.0}


def test_a_gpu_plan_gives_each_worker_one_gpu_and_each_trial_its_share() -> None:
    ex = ExecutionConfig(trials_per_gpu=3, queue_ahead=1)
    plan = plan_cluster(ex, "/tmp/x", gpus=2, dask_cuda=True)
    kw = plan.cluster_kwargs
    assert (plan.kind, plan.workers) == ("cuda", 2)
    assert kw["resources"] == {"GPU": 1} and kw["threads_per_worker"] == 4  # 3 computing + 1 queued
    assert kw["env"]["ABLATE_TRIALS_AT_ONCE"] == "3"
    assert plan.trial_resources == pytest.approx({"GPU": 1 / 3})
    cpu = plan_cluster(ExecutionConfig(trials_per_gpu=3), "/tmp/x", gpus=0, dask_cuda=True)
    assert cpu.trial_resources is None and "resources" not in cpu.cluster_kwargs  # no GPU, no packing


def test_a_slurm_job_asks_for_its_gpus_and_starts_dask_cuda_workers_that_pack_trials() -> None:
    dask_jobqueue = pytest.importorskip("dask_jobqueue")
    options = {"queue": "gpu", "cores": 4, "processes": 1, "memory": "8GB", "walltime": "01:00:00"}
    kw = job_kwargs(dask_jobqueue.SLURMCluster, options, "mytrials", 2, trials_per_gpu=2, queue_ahead=1)
    cluster = dask_jobqueue.SLURMCluster(**kw)
    try:
        script = cluster.job_script()
    finally:
        cluster.close()
    assert "#SBATCH --gres=gpu:2" in script
    assert "dask cuda worker" in script and "--resources GPU=1" in script and "--nthreads 3" in script
    assert "--preload ablate.runtime.worker" in script
    assert "export ABLATE_TRIALS_AT_ONCE=2" in script and "export ABLATE_TRIAL_MODULE=mytrials" in script
    # Dask's profilers off where they can deadlock a worker (python/cpython#106883)
    assert ("export DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED=False" in script) == (sys.version_info < (3, 12))


def _spans(tmp_path: Path, trials_per_gpu: int, n_trials: int = 8) -> list[dict[str, float]]:
    from distributed import Client, LocalCluster

    plan = plan_cluster(
        ExecutionConfig(trials_per_gpu=trials_per_gpu, queue_ahead=1), str(tmp_path / "dask"), gpus=2, dask_cuda=True
    )
    settings = {k: plan.cluster_kwargs[k] for k in ("resources", "threads_per_worker", "env", "preload")}
    specs = [
        TrialSpec(
            study="pack",
            number=n,
            params={"sleep": 0.6},
            seed=n,
            entrypoint=f"{__name__}:probe",
            code_version="v1",
            data=DUMMY,
            trials_dir=str(tmp_path / "trials"),
            device="cpu",
        )
        for n in range(n_trials)
    ]
    with LocalCluster(n_workers=2, processes=True, dashboard_address=":0", **settings) as cluster, Client(cluster) as c:
        futures = [c.submit(execute_trial, s, pure=False, resources=plan.trial_resources) for s in specs]
        c.gather(futures)
    return [json.loads((Path(s.out_dir) / "span.json").read_text()) for s in specs]


def _most_at_once(spans: list[dict[str, float]]) -> dict[int, int]:
    """Per worker process, the most trials that computed at the same moment."""
    out: dict[int, int] = {}
    for s in spans:
        mine = [t for t in spans if t["pid"] == s["pid"]]
        out[s["pid"]] = max(out.get(s["pid"], 0), sum(t["start"] <= s["start"] < t["end"] for t in mine))
    return out


@pytest.mark.slow
def test_trials_per_gpu_packs_that_many_trials_on_each_gpu_worker_and_no_more(tmp_path: Path) -> None:
    packed = _most_at_once(_spans(tmp_path / "two", trials_per_gpu=2))
    assert sorted(packed.values()) == [2, 2], packed  # both GPUs used, two trials on each at once
    alone = _most_at_once(_spans(tmp_path / "one", trials_per_gpu=1))
    assert sorted(alone.values()) == [1, 1], alone  # the default: a GPU each
