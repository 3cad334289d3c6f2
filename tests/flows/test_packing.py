"""Trials packed on GPUs (``execution.trials_per_gpu``) through the real loop: Prefect task runs
handing trials to a real `dask scheduler` whose `dask worker` processes each hold one ``GPU``
resource (what `dask cuda worker` gets; no GPU is lent to this project, so CPU workers stand in)
and let two trials compute at once. A trial that runs out of GPU memory beside another runs once
more alone on its GPU; out of memory alone too, it fails with reason ``oom``, never retried."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from ablate.config.load import load_params
from ablate.errors import NoTrialCompletedError
from ablate.vocab.params import Params
from flows.pipeline import study_flow
from tests.flows.helpers import deep_update, quick_study, write_params
from tests.flows.test_scale_out import dask_processes

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_api")]
GPU_WORKERS = {"nthreads": 3, "worker_args": ("--resources", "GPU=1"), "worker_env": {"ABLATE_TRIALS_AT_ONCE": "2"}}


def packed_study(tmp_path: Path, address: str, name: str, n_trials: int, always: bool = False) -> Params:
    changes = deep_update(
        quick_study(n_trials=n_trials),
        {
            "trial": {"entrypoint": "tests.flows.trial_fns:crowded_oom", "options": {"sleep": 0.6, "always": always}},
            "execution": {"address": address, "workers": 2, "trials_per_gpu": 2, "retries": 2},
        },
    )
    return load_params(write_params(tmp_path, name, changes))


def starts(params: Params) -> Counter:
    return Counter(int(line) for line in (params.study_dir / "starts.log").read_text().split())


def test_packed_trials_out_of_gpu_memory_run_again_alone_and_complete(tmp_path: Path) -> None:
    with dask_processes(tmp_path, **GPU_WORKERS) as address:
        params = packed_study(tmp_path, address, "packed", n_trials=6)
        summary = study_flow(params).to_record()
    trials = pd.read_csv(params.report_dir / "trials.csv")
    assert list(trials["state"]) == ["COMPLETE"] * 6 and summary["complete"] == 6
    ran = starts(params)
    # Two trials computed at once on a worker (so some ran out of memory), each such trial ran
    # once more alone, and none a third time.
    assert sorted(ran) == list(range(6)) and max(ran.values()) == 2 and sum(ran.values()) > 6, ran


def test_a_trial_out_of_gpu_memory_alone_too_fails_with_reason_oom_and_is_not_retried(tmp_path: Path) -> None:
    with dask_processes(tmp_path, **GPU_WORKERS) as address:
        params = packed_study(tmp_path, address, "oom", n_trials=2, always=True)
        with pytest.raises(NoTrialCompletedError):
            study_flow(params)
    trials = pd.read_csv(params.report_dir / "trials.csv")
    assert list(trials["state"]) == ["FAIL"] * 2 and list(trials["reason"]) == ["oom"] * 2
    assert trials["error"].str.contains("alone").all()
    assert starts(params) == Counter({0: 2, 1: 2})  # beside another, then alone: execution.retries unused
