"""sync: commit the study's outputs to DVC and push them to the default remote."""

from __future__ import annotations

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from ablate.errors import SyncError
from ablate.runtime.dvc import sync_study
from ablate.vocab.facts import SyncResult
from ablate.vocab.params import Params


def _retry_unless_push_failed(task, task_run, state) -> bool:  # noqa: ANN001
    # DVC's repository lock can be held for a moment by another study's sync: retry that.
    # An unreachable or read-only remote will not fix itself in seconds: fail at once.
    return not isinstance(state.data, SyncError)


@task(
    name="sync",
    retries=3,
    retry_delay_seconds=[1, 2, 4],
    retry_condition_fn=_retry_unless_push_failed,
    cache_policy=NO_CACHE,
    persist_result=False,
)
def sync(params: Params, steps: tuple[str, ...], push: bool = True) -> SyncResult:
    result = sync_study(params, steps, push=push)
    get_run_logger().info(
        "sync %s: %s%s", "+".join(steps), result.status, f" ({result.reason})" if result.reason else ""
    )
    return result
