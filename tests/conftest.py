from __future__ import annotations

import os
from collections.abc import Iterator

import dvc  # noqa: F401
import pytest

# `import dvc` binds DVC's log handlers to sys.stdout and sys.stderr as they are then: imported
# first inside a test that captures them (capsys), they would write to that test's closed stream
# in every later test of the process. Imported here, before any test, they keep the session's.

# Real services (Slurm, PostgreSQL) as session fixtures for every test folder.
pytest_plugins = ["tests.services.fixtures"]


@pytest.hookimpl(trylast=True)  # after -m and -k deselected theirs
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # The files with slow tests first, each file's tests in their order: with a test process per
    # file at a time (make test: --dist loadfile --no-loadscope-reorder, else pytest-xdist starts
    # the files with the most tests first), the many quick unit files then fill the end, instead of
    # a 3-minute story test running alone after the rest. Among the slow files, those that fit the
    # Stan model last (see below).
    slow_files = {item.path for item in items if item.get_closest_marker("slow")}
    stan_files = {item.path for item in items if item.get_closest_marker("stan")}
    items.sort(key=lambda item: (item.path not in slow_files, item.path in stan_files))

    # Baycomp's Stan model compiles once per Python executable (~2 minutes of a CPU on a new
    # clone): where tests fit it, the first test process begins that compile now, at a low
    # priority, and it takes CPU time the tests leave idle (they wait on servers, timeouts and
    # batch jobs) before those files run.
    if stan_files and os.environ.get("PYTEST_XDIST_WORKER", "gw0") == "gw0":
        from ablate.ablation._hierarchical import build_model_meanwhile

        build_model_meanwhile()

    # GPU tests run where a GPU is visible and skip cleanly elsewhere.
    from ablate.trial.devices import visible_gpus

    if visible_gpus():
        return
    skip = pytest.mark.skip(reason="no CUDA GPU visible")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def prefect_api() -> Iterator[str]:
    """A real, temporary Prefect server shared by this process, its Dask workers and the CLIs
    the tests start (exported as PREFECT_API_URL, so no process starts an ephemeral one)."""
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    old = os.environ.get("PREFECT_API_URL")
    with prefect_test_harness(server_startup_timeout=120):
        url = PREFECT_API_URL.value()
        os.environ["PREFECT_API_URL"] = url
        try:
            yield url
        finally:
            if old is None:
                os.environ.pop("PREFECT_API_URL", None)
            else:
                os.environ["PREFECT_API_URL"] = old
