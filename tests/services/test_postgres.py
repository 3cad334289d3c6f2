"""The PostgreSQL fixture is a real server: Optuna's RDB storage keeps a study there that a second
storage reads back, and a wrong password or a closed port fails fast, saying what failed."""

from __future__ import annotations

import time
from dataclasses import replace

import optuna
import pytest
import sqlalchemy

from tests.services._daemons import free_port
from tests.services.postgres import PostgresServer

pytestmark = pytest.mark.slow
CONNECT_TIMEOUT = {"connect_args": {"connect_timeout": 3}}  # seconds, passed to libpq


def quadratic(trial: optuna.Trial) -> float:
    return trial.suggest_float("x", -1.0, 1.0) ** 2


def test_a_study_in_postgres_is_read_back_by_a_second_storage(postgres_server: PostgresServer):
    url = postgres_server.new_database("study_read_back")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(study_name="quadratic", storage=url)
    study.optimize(quadratic, n_trials=5)

    again = optuna.load_study(study_name="quadratic", storage=optuna.storages.RDBStorage(url))

    states = [t.state for t in again.get_trials(deepcopy=False)]
    assert states == [optuna.trial.TrialState.COMPLETE] * 5
    assert again.best_value == study.best_value
    engine = sqlalchemy.create_engine(url)  # the rows are in PostgreSQL itself, not in a cache
    with engine.connect() as conn:
        dialect = conn.dialect.name
        rows = conn.execute(sqlalchemy.text("SELECT count(*) FROM trials WHERE state = 'COMPLETE'")).scalar_one()
    engine.dispose()
    assert (dialect, rows) == ("postgresql", 5)


def test_a_wrong_password_fails_fast_naming_the_user_not_the_password(postgres_server: PostgresServer):
    wrong = replace(postgres_server, password="not-the-password")
    start = time.monotonic()

    with pytest.raises(sqlalchemy.exc.OperationalError) as raised:
        optuna.storages.RDBStorage(wrong.url, engine_kwargs=CONNECT_TIMEOUT)

    assert time.monotonic() - start < 5
    message = str(raised.value)
    assert f'password authentication failed for user "{wrong.user}"' in message
    assert "not-the-password" not in message


def test_a_closed_port_fails_fast_naming_host_and_port(postgres_server: PostgresServer):
    closed = replace(postgres_server, port=free_port())
    start = time.monotonic()

    with pytest.raises(sqlalchemy.exc.OperationalError) as raised:
        optuna.storages.RDBStorage(closed.url, engine_kwargs=CONNECT_TIMEOUT)

    assert time.monotonic() - start < 5
    assert f'connection to server at "127.0.0.1", port {closed.port} failed' in str(raised.value)
