"""Session fixtures for real services, registered for every test folder by tests/conftest.py.

- `slurm_cluster`: a one-node Slurm cluster. While it runs, os.environ carries SLURM_CONF (so sbatch,
  squeue and scancel, and dask-jobqueue which calls them, reach it), SBATCH_OUTPUT (job logs go to the
  cluster's folder, not the working directory) and DASK_CONFIG (importing dask_jobqueue writes its
  jobqueue.yaml there, not into ~/.config/dask).
- `postgres_server`: a PostgreSQL server; `.url` for SQLAlchemy/Optuna, `.new_database(name)` for a
  test that needs an empty database.

Both skip, with the reason, where the packages (or root, for Slurm) are missing.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.services.postgres import PostgresServer, missing_postgres, start_postgres
from tests.services.slurm import SlurmCluster, missing_slurm, start_slurm


@contextmanager
def _environ(changes: dict[str, str]) -> Iterator[None]:
    old = {name: os.environ.get(name) for name in changes}
    os.environ.update(changes)
    try:
        yield
    finally:
        for name, value in old.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextmanager
def _dask_config_folder() -> Iterator[None]:
    """DASK_CONFIG for this process and its children; dask read the variable when it was imported, so its
    module-level PATH (where dask_jobqueue's import writes jobqueue.yaml) is pointed there too."""
    import dask.config

    with tempfile.TemporaryDirectory(prefix="ablate-dask-config-") as folder, _environ({"DASK_CONFIG": folder}):
        old_path = dask.config.PATH
        dask.config.PATH = folder
        try:
            yield
        finally:
            dask.config.PATH = old_path


@pytest.fixture(scope="session")
def slurm_cluster() -> Iterator[SlurmCluster]:
    why = missing_slurm()
    if why:
        pytest.skip(why)
    with _dask_config_folder(), start_slurm() as cluster, _environ(cluster.env):
        yield cluster


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    why = missing_postgres()
    if why:
        pytest.skip(why)
    with start_postgres() as server:
        yield server
