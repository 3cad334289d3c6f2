"""The GPU path: dask-cuda's LocalCUDACluster, one worker per GPU, trials on the worker's GPU."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ablate.config.load import load_params
from ablate.runtime.cluster import plan_cluster
from flows.pipeline import study_flow
from tests.flows.helpers import write_params

pytestmark = [pytest.mark.gpu, pytest.mark.slow, pytest.mark.usefixtures("prefect_api")]


def test_mlp_trials_run_on_gpus_through_a_local_cuda_cluster(tmp_path: Path) -> None:
    pytest.importorskip("dask_cuda", reason="the gpu extra (dask-cuda) is not installed")
    changes = {
        "trial": {"options": {"epochs": 3}},
        "search": {"sampler": "random", "n_trials": 4},
        "execution": {"device": "auto"},
    }
    params = load_params(write_params(tmp_path, "gpu", changes))
    plan = plan_cluster(params.execution, str(tmp_path / ".dask"))
    assert plan.kind == "cuda" and plan.cluster_class == "dask_cuda.LocalCUDACluster"

    summary = study_flow(params).to_record()

    assert summary["complete"] == 4 and summary["executed"] == 4
    results = [json.loads(p.read_text()) for p in (tmp_path / "data/studies/gpu/trials").glob("*/result.json")]
    assert {r["provenance"]["device"] for r in results} == {"cuda"}
