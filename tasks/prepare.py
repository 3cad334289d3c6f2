"""prepare: load, split and standardize the study's data (no work when inputs are unchanged)."""

from __future__ import annotations

from pathlib import Path

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from ablate.data import prepare_data
from ablate.runtime.prepare_ahead import PrepareAhead
from ablate.vocab.params import DataConfig
from ablate.vocab.trial import PreparedData


# No Prefect cache: the prepared folder's manifest is the cache (it also serves `dvc repro`).
@task(name="prepare", cache_policy=NO_CACHE, persist_result=False)
def prepare(data: DataConfig, seed: int, out_dir: str) -> PreparedData:
    # Begun in a process of its own by the command, while it imported Prefect (ablate.runtime.prepare_ahead).
    prepared, worked = PrepareAhead.adopt(data, seed, out_dir) or prepare_data(data, seed, Path(out_dir))
    verb = "prepared" if worked else "up to date:"
    get_run_logger().info(
        "%s %s -> %s (%s, shapes %s, hash %s)",
        verb,
        data.source,
        out_dir,
        prepared.task,
        prepared.shapes,
        prepared.data_hash[:12],
    )
    return prepared
