"""A study's Optuna storage: a journal file under ``data/studies/<study>/``, appended without an
fsync per write, or a database (``study.storage``: PostgreSQL, SQLite) through Optuna's RDB
storage; and reading a persisted study back."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import optuna
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend
from optuna.trial import TrialState

from ablate._signals import signals_held
from ablate.errors import ConfigError
from ablate.vocab import states
from ablate.vocab.journal import JournalIdentity, journal_size
from ablate.vocab.params import Params
from ablate.vocab.url import CONNECT_TIMEOUT_S, StorageURL, mask_url, open_database

JOURNAL = "optuna.journal"


FINISHED = tuple(TrialState[name] for name in states.FINISHED)  # Optuna's, for its queries


def open_storage(params: Params) -> optuna.storages.BaseStorage:
    """The study's storage, for the process that drives it (within :func:`one_storage_per_run`,
    the one it already opened)."""
    if params.study.storage is not None:
        url = params.study.storage
        return _shared(("database", url.secret()), None, lambda: open_database(url))
    params.study_dir.mkdir(parents=True, exist_ok=True)
    path = params.study_dir / JOURNAL
    return _shared(
        (str(path.resolve()), JournalIdentity.of(path)), path, lambda: JournalStorage(_JournalFile(str(path)))
    )


# Within one_storage_per_run: the storages opened so far, by what they opened, with the size of a
# journal when it was last handed out. None outside it.
_RUN_STORAGES: dict[tuple[str, Any], tuple[optuna.storages.BaseStorage, int]] | None = None
_RUN_DEPTH = 0
_RUN_LOCK = threading.Lock()


@contextlib.contextmanager
def one_storage_per_run() -> Iterator[None]:
    """Within it, every :func:`open_storage` (and :func:`load_study`, not read-only) in this
    process shares one storage per journal file or database.

    A run reads its study six times or more (is it finished, its fingerprint, the search, the
    ablation's baseline, the report), and Optuna replays a journal from its first line each time
    a storage opens it: about 1 ms a trial on a 2-core machine, 0.6 s a read for 500 trials. A
    storage already open reads only the lines appended since, by this process or any other. A
    journal set aside by ``--restart`` moves with its folder, and the one then made at its path
    is a new file: told apart by its :class:`~ablate.vocab.journal.JournalIdentity` (a file with
    no line yet is opened afresh each time, and one that shrank is opened afresh). Nested uses share the
    outermost's storages; they are dropped when it ends, so a long-lived process (a served
    deployment) keeps none between runs.
    """
    global _RUN_STORAGES, _RUN_DEPTH
    with _RUN_LOCK:
        _RUN_DEPTH += 1
        if _RUN_STORAGES is None:
            _RUN_STORAGES = {}
    try:
        yield
    finally:
        with _RUN_LOCK:
            _RUN_DEPTH -= 1
            if _RUN_DEPTH == 0:
                _RUN_STORAGES = None


def _shared(
    key: tuple[str, Any], journal: Path | None, open_: Callable[[], optuna.storages.BaseStorage]
) -> optuna.storages.BaseStorage:
    """The storage of ``key`` opened in this run; ``journal``: its file (None: a database)."""
    with _RUN_LOCK:
        if _RUN_STORAGES is None or key[1] is None:
            return open_()
        size = journal_size(journal) if journal is not None else 0
        known = _RUN_STORAGES.get(key)
        if known is None or size < known[1]:
            known = (open_(), size)
        _RUN_STORAGES[key] = (known[0], size)
        return known[0]


def check_database(params: Params) -> None:
    """At the edge: the database of ``study.storage`` answers (within CONNECT_TIMEOUT_S).

    Raises:
        ConfigError: naming where it was sought, and the driver's reason, password masked.
    """
    url = params.study.storage
    if url is None:
        return
    import sqlalchemy
    from sqlalchemy.exc import SQLAlchemyError

    engine = sqlalchemy.create_engine(url.secret(), connect_args=url.connect_args(), poolclass=sqlalchemy.pool.NullPool)
    try:
        with engine.connect() as conn:
            conn.execute(sqlalchemy.text("SELECT 1"))
    except SQLAlchemyError as err:
        reason = " ".join(str(getattr(err, "orig", None) or err).split())
        raise ConfigError(
            params.source,
            "study.storage",
            f"must reach the database at {url.where()} within {CONNECT_TIMEOUT_S} s, but got "
            f"{mask_url(reason)[:300]} ({url.url})",
        ) from None
    finally:
        engine.dispose()


class _JournalFile(JournalFileBackend):
    """Optuna's journal file, appended under its lock but without an fsync per append.

    Optuna fsyncs every append (each ask, param, attribute and tell): five or more per trial,
    about half the driver's time per trial with short trials on a busy disk. Without the fsync
    an append still reaches the page cache before it returns, so a killed run (SIGKILL, the OOM
    killer) loses nothing. A crash of the machine can lose the last appends (as it can lose the
    trial folders written just before it): the trials the journal still holds as running are
    then told from their result folders on resume (StudySession.recover), later ones run again.
    Optuna's reader skips a torn last line.

    Ctrl-C (or SIGTERM) waits for an append of the driver to end: Optuna's lock, interrupted in
    its release, raises FileNotFoundError in place of the interrupt (and leaves its lock file).
    """

    def append_logs(self, logs: list[dict[str, Any]]) -> None:
        from optuna.storages.journal._file import get_lock_file

        text = "\n".join(json.dumps(log, separators=(",", ":")) for log in logs) + "\n"
        with signals_held(), get_lock_file(self._lock), open(self._file_path, "ab") as f:
            f.write(text.encode("utf-8"))


def clear_stale_journal_lock(study_dir: Path) -> bool:
    """Remove the journal's lock file left by a process killed while appending to it.

    Only call this holding the :class:`StudyLock`: then no other process writes this study, and
    a lock file can only be stale. (Optuna itself would wait out a 30 s grace period first.)
    """
    lock = study_dir / (JOURNAL + ".lock")
    if lock.is_symlink() or lock.exists():
        lock.unlink()
        return True
    return False


def constraint_attr(name: str) -> str:
    """The system attribute holding a trial's value of constraint ``name``: what Optuna 5.0's
    ``Trial.set_constraint`` writes and ``FrozenTrial.constraints`` (so every sampler) reads."""
    return f"constraints:{name}"


def _append_user_attrs(
    storage: JournalStorage, trial_id: int, attrs: dict[str, Any], system_attrs: dict[str, Any] | None = None
) -> None:
    """Set a trial's user attributes (and system attributes: its constraint values) with one
    append to the journal.

    Optuna's ``set_trial_user_attr`` appends (takes the file lock, writes, fsyncs) once per
    attribute: seven per finished trial, most of the driver's time per trial with no-op trials.
    The same operations (one per attribute, as Optuna's replay expects) go in one append here.
    Private API of optuna.storages.JournalStorage (5.0), kept to this function.
    """
    from optuna.storages.journal._storage import JournalOperation

    with storage._thread_lock:
        worker_id = storage._replay_result.worker_id
        logs = [
            {
                "op_code": JournalOperation.SET_TRIAL_USER_ATTR,
                "worker_id": worker_id,
                "trial_id": trial_id,
                "user_attr": {key: value},
            }
            for key, value in attrs.items()
        ]
        logs += [
            {
                "op_code": JournalOperation.SET_TRIAL_SYSTEM_ATTR,
                "worker_id": worker_id,
                "trial_id": trial_id,
                "system_attr": {key: value},
            }
            for key, value in (system_attrs or {}).items()
        ]
        storage._backend.append_logs(logs)
        storage._sync_with_backend()


class _ReadOnlyJournal(JournalFileBackend):
    """The journal as a reader sees it (``ablate status``, beside a running study): Optuna's own
    reader, which never takes the file's lock; appending is refused."""

    def append_logs(self, logs: list[dict[str, Any]]) -> None:
        raise PermissionError(f"{self._file_path}: opened read-only")


def load_study(params: Params, read_only: bool = False) -> optuna.Study | None:
    """The persisted study, or None when it was never run.

    ``read_only``: for a reader beside a run (it takes no lock and writes nothing).
    """
    if params.study.storage is not None:
        return _load_from_database(params, read_only)
    path = params.study_dir / JOURNAL
    if not path.exists():
        return None
    storage = JournalStorage(_ReadOnlyJournal(str(path))) if read_only else open_storage(params)
    try:
        return optuna.load_study(study_name=params.study.name, storage=storage)
    except KeyError:
        return None


def _load_from_database(params: Params, read_only: bool) -> optuna.Study | None:
    import sqlalchemy

    url = params.study.storage
    assert url is not None  # a study in a database
    storage: optuna.storages.BaseStorage
    if read_only:
        storage = reader = open_database(url, create_tables=False)
        if not sqlalchemy.inspect(reader.engine).has_table("studies"):
            return None  # no study was ever run in this database
    else:
        storage = open_storage(params)
    try:
        return optuna.load_study(study_name=params.study.name, storage=storage)
    except KeyError:
        return None


def describe_storage(params: Params) -> str:
    """Where the study's trials are, for people: the journal's path, or the database (masked)."""
    if params.study.storage is not None:
        return f"database {params.study.storage.url}"
    return f"journal {params.study_dir / JOURNAL}"


def dashboard_target(params: Params) -> str:
    """What optuna-dashboard opens the study's storage from: a journal file by its path; a
    database by its URL, shown without its password (libpq then reads PGPASSWORD or ~/.pgpass)."""
    if params.study.storage is not None:
        return params.study.storage.without_password()
    return str(params.study_dir / JOURNAL)


def worker_storage(params: Params) -> str | StorageURL:
    """How a worker reaches the study to report a trial's steps: the journal's absolute path, or
    the database URL (a StorageURL: it pickles with its password and shows without it)."""
    return params.study.storage or str((params.study_dir / JOURNAL).resolve())


def set_aside_in_database(params: Params, new_name: str) -> bool:
    """Keep a database study under ``new_name`` and free its name (``--restart``); a journal
    moves with its folder instead. Returns whether there was a study to set aside."""
    if params.study.storage is None or load_study(params) is None:
        return False
    url = params.study.storage.secret()
    optuna.copy_study(from_study_name=params.study.name, from_storage=url, to_storage=url, to_study_name=new_name)
    optuna.delete_study(study_name=params.study.name, storage=url)
    return True


def needs_trials(params: Params) -> bool:
    """Whether the study lacks finished trials (so a cluster must be started)."""
    study = load_study(params)
    if study is None:
        return True
    finished = study.get_trials(deepcopy=False, states=FINISHED)
    return len(finished) < params.search_section.n_trials
