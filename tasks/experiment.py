"""experiment: keep a scheduled run as a DVC experiment (see ablate.runtime.experiments)."""

from __future__ import annotations

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from ablate.runtime.experiments import ExperimentRecord, save_experiment
from ablate.vocab.params import Params


@task(name="experiment", retries=3, retry_delay_seconds=[1, 2, 4], cache_policy=NO_CACHE, persist_result=False)
def record_experiment(params: Params, name: str, message: str) -> ExperimentRecord:
    # Retried: DVC's repository lock can be held for a moment by another study's sync.
    record = save_experiment(params, name, message)
    get_run_logger().info("dvc experiment: %s", record.describe())
    return record
