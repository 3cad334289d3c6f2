"""A real PostgreSQL server (Debian's `postgresql` package) for tests, on a loopback port.

`start_postgres()` initdb's a cluster in a temporary folder, runs `postgres` in the foreground as a
child process listening on 127.0.0.1 only (no Unix socket), with password (scram-sha-256)
authentication for every connection, and one role and database for the test. PostgreSQL refuses to run
as root: as root, the server runs as the `postgres` user that the Debian package creates.
"""

from __future__ import annotations

import os
import pwd
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from glob import glob
from pathlib import Path
from typing import Any

from tests.services._daemons import free_port, start_daemon, stop_daemon, tail, wait_until

SERVER_USER = "postgres"  # the account Debian's package creates; root may not run the server


def postgres_bindir() -> Path | None:
    """Where initdb and postgres are: on PATH, or Debian's versioned folder (newest version first)."""
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    found = sorted(glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]), reverse=True)
    return Path(found[0]).parent if found else None


def missing_postgres() -> str | None:
    """Why a PostgreSQL server cannot be started here, or None if it can."""
    if postgres_bindir() is None:
        return "PostgreSQL needs initdb and postgres (apt-get install postgresql)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(SERVER_USER)
        except KeyError:
            return f"PostgreSQL refuses to run as root, and there is no {SERVER_USER!r} user to run it as"
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "the tests reach PostgreSQL through psycopg (pip install 'psycopg[binary]')"
    return None


@dataclass(frozen=True)
class PostgresServer:
    """A running server with one password-authenticated role owning one database."""

    host: str
    port: int
    user: str
    password: str = field(repr=False)
    database: str

    @property
    def url(self) -> str:
        """For SQLAlchemy and Optuna's RDB storage."""
        return f"postgresql+psycopg://{self.user}:{self.password}@{self.host}:{self.port}/{self.database}"

    def new_database(self, name: str) -> str:
        """Create an empty database owned by this role, for a test that needs one; its URL."""
        if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
            raise ValueError(f"a database name must be a lower-case SQL identifier, but got {name!r}")
        with _connect(self, self.database) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return replace(self, database=name).url


def _as_server_user() -> dict[str, Any]:
    """Popen arguments that drop root to the server's account (and root's supplementary groups)."""
    if os.geteuid() != 0:
        return {}
    account = pwd.getpwnam(SERVER_USER)
    return {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}


def _init_cluster(bindir: Path, folder: Path, admin_password: str) -> Path:
    data = folder / "data"
    (folder / "pwfile").write_text(admin_password + "\n")
    argv = [bindir / "initdb", "--pgdata", data, "--username", SERVER_USER, "--pwfile", folder / "pwfile",
            "--auth", "scram-sha-256", "--encoding", "UTF8", "--no-locale", "--no-sync"]  # fmt: skip
    log = folder / "initdb.log"
    with log.open("wb") as out:
        done = subprocess.run([str(a) for a in argv], stdout=out, stderr=subprocess.STDOUT, cwd=folder, timeout=120,
                              **_as_server_user())  # fmt: skip
    (folder / "pwfile").unlink()
    if done.returncode != 0:
        raise RuntimeError(f"initdb exited with {done.returncode}:\n{tail(log)}")
    return data


def _connect(server: PostgresServer, database: str = "postgres") -> Any:
    import psycopg

    return psycopg.connect(host=server.host, port=server.port, user=server.user, password=server.password,
                           dbname=database, connect_timeout=2, autocommit=True)  # fmt: skip


def _accepts(admin: PostgresServer, proc: subprocess.Popen[bytes]) -> bool:
    import psycopg

    if proc.poll() is not None:
        raise RuntimeError(f"postgres exited with {proc.returncode}")
    try:
        _connect(admin).close()
    except psycopg.OperationalError:
        return False  # still starting
    return True


@contextmanager
def start_postgres(timeout: float = 60.0) -> Iterator[PostgresServer]:
    """Start a server with a role and database named `ablate`; stop it (fast shutdown) on exit."""
    why = missing_postgres()
    if why:
        raise RuntimeError(why)
    bindir = postgres_bindir()
    assert bindir is not None
    with tempfile.TemporaryDirectory(prefix="ablate-postgres-") as tmp, ExitStack() as stack:
        folder = Path(tmp)
        if os.geteuid() == 0:
            account = pwd.getpwnam(SERVER_USER)
            os.chown(folder, account.pw_uid, account.pw_gid)
        admin = PostgresServer("127.0.0.1", free_port(), SERVER_USER, secrets.token_urlsafe(16), "postgres")
        data = _init_cluster(bindir, folder, admin.password)
        # TCP on loopback only, no Unix socket; fsync off: a test database trades durability for speed.
        argv = [bindir / "postgres", "-D", data, "-p", str(admin.port), "-c", "listen_addresses=127.0.0.1",
                "-c", "unix_socket_directories=", "-c", "fsync=off"]  # fmt: skip
        proc = start_daemon(argv, folder / "postgres.log", cwd=folder, **_as_server_user())
        stack.callback(stop_daemon, proc, 30, signal.SIGINT)  # SIGINT: fast shutdown, clients disconnected
        try:
            wait_until(lambda: _accepts(admin, proc), timeout, "PostgreSQL accepting connections", 0.1)
        except (TimeoutError, RuntimeError) as e:
            raise RuntimeError(f"{e}; its log ends:\n{tail(folder / 'postgres.log')}") from None
        server = PostgresServer(admin.host, admin.port, "ablate", secrets.token_urlsafe(16), "ablate")
        with _connect(admin) as conn:
            conn.execute(f"CREATE ROLE {server.user} LOGIN CREATEDB PASSWORD '{server.password}'")
            conn.execute(f"CREATE DATABASE {server.database} OWNER {server.user}")
        yield server
