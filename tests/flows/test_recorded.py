"""A subflow starts once the server has recorded the task runs that ended before it (flows.recorded):
the wait returns when the server shows them ended, gives up after its bound, never fails or stalls
a run whose server cannot be asked, and leaves a server elsewhere alone."""

from __future__ import annotations

import time
from uuid import UUID, uuid4

from prefect import flow, task
from prefect.client.orchestration import get_client
from prefect.settings import PREFECT_API_URL, temporary_settings

from flows.recorded import ended, wait_until_recorded


@task
def quick() -> int:
    return 1


@flow
def parent() -> tuple[UUID, bool]:
    state = quick(return_state=True)
    ended(state.state_details.task_run_id)
    wait_until_recorded()
    with get_client(sync_client=True) as client:
        run = client.read_task_run(state.state_details.task_run_id)
    return run.id, run.state is not None and run.state.is_completed()


def test_the_wait_returns_once_the_server_shows_the_task_run_ended(prefect_api: str) -> None:
    _, completed = parent()
    assert completed


def test_the_wait_gives_up_after_its_bound(prefect_api: str) -> None:
    ended(uuid4())  # a task run the server never hears of
    start = time.monotonic()
    wait_until_recorded(within_s=0.3)
    assert 0.3 <= time.monotonic() - start < 5


@flow
def parent_whose_server_went_away() -> float:
    quick()  # the flow's own client has connected: Prefect's client would retry with back-offs
    ended(uuid4())
    start = time.monotonic()
    with temporary_settings(updates={PREFECT_API_URL: "http://127.0.0.1:9/api"}):  # nothing listens there
        wait_until_recorded(within_s=30)
    return time.monotonic() - start


def test_the_wait_returns_when_the_server_cannot_be_asked(prefect_api: str) -> None:
    assert parent_whose_server_went_away() < 5


def test_a_server_elsewhere_is_not_asked() -> None:
    # SQLite, whose lock the wait is for, is a local server's database; a remote server is left alone.
    ended(uuid4())
    start = time.monotonic()
    with temporary_settings(updates={PREFECT_API_URL: "http://192.0.2.1/api"}):  # TEST-NET: nothing answers
        wait_until_recorded(within_s=30)
    assert time.monotonic() - start < 0.5


def test_nothing_ended_means_no_wait() -> None:
    start = time.monotonic()
    with temporary_settings(updates={PREFECT_API_URL: "http://127.0.0.1:9/api"}):
        wait_until_recorded(within_s=30)  # nothing registered: no request at all
    assert time.monotonic() - start < 0.5
