"""``study.storage``: a database URL for Optuna's RDB storage, whose password is never shown.

:func:`mask_url` is the one place a password is taken out of text: every message, record and
report that may name the storage goes through it. :class:`StorageURL` carries the URL through the
params: its only dataclass field is the masked URL, so whatever serializes the params the usual
way (``dataclasses.asdict``, Prefect's flow-run parameters, ``run.json``) sees no password; the
real URL rides along as a plain attribute, which pickling (to a Dask worker) keeps.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import optuna

MASK = "***"
# scheme://user:password@ : the password is whatever lies between the user's colon and the last
# "@" before the host (a password may itself hold "@" or ":" when the user did not escape them).
_USERINFO = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://[^:/@\s]*:)(?P<password>[^\s/]*)(?=@)")
SCHEMES = {"postgresql": "postgresql+psycopg", "postgresql+psycopg": "postgresql+psycopg", "sqlite": "sqlite"}
EXAMPLE = "postgresql://USER@HOST:5432/DATABASE or sqlite:///data/optuna.db"
CONNECT_TIMEOUT_S = 5  # an unreachable database fails the command after this, not minutes later


def mask_url(text: str) -> str:
    """``text`` with the password of every URL in it replaced by ``***``."""
    return _USERINFO.sub(lambda m: m["head"] + MASK, text)


@dataclass(frozen=True)
class StorageURL:
    """A database URL; ``url`` is masked, :meth:`secret` is what connects."""

    url: str

    @classmethod
    def parse(cls, text: str) -> StorageURL:
        """Check and normalize a URL: ``postgresql://`` goes through psycopg (3), not SQLAlchemy's
        default psycopg2, which is not installed.

        Raises:
            ValueError: the URL is malformed or names another database; the message is masked.
        """
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            parsed = make_url(text)
        except (ArgumentError, ValueError):
            raise ValueError(f"must be a database URL such as {EXAMPLE}, but got {mask_url(text)!r}") from None
        driver = SCHEMES.get(parsed.drivername)
        if driver is None:
            raise ValueError(f"must be a postgresql:// or sqlite:/// URL, but got {mask_url(text)!r}")
        if driver != "sqlite" and not (parsed.host and parsed.database):
            raise ValueError(f"must name a host and a database, e.g. {EXAMPLE}, but got {mask_url(text)!r}")
        if driver == "sqlite" and not parsed.database:
            raise ValueError(f"must name the database file, e.g. sqlite:///data/optuna.db, but got {text!r}")
        real = parsed.set(drivername=driver).render_as_string(hide_password=False)
        out = cls(mask_url(real))
        object.__setattr__(out, "_secret", real)
        return out

    def secret(self) -> str:
        """The URL with its password: for connecting only, never for showing."""
        return getattr(self, "_secret", self.url)

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")

    def without_password(self) -> str:
        """The URL with no password at all: what a user may paste beside PGPASSWORD or ~/.pgpass."""
        from sqlalchemy.engine import URL, make_url

        u = make_url(self.secret())  # (URL.set(password=None) would keep the password)
        bare = URL.create(u.drivername, u.username, None, u.host, u.port, u.database, u.query)
        return bare.render_as_string(hide_password=False)

    def where(self) -> str:
        """``host:port`` (PostgreSQL) or the file (SQLite), for messages."""
        from sqlalchemy.engine import make_url

        u = make_url(self.secret())
        return str(u.database) if self.is_sqlite else f"{u.host}:{u.port or 5432}"

    def __repr__(self) -> str:
        return f"StorageURL({self.url!r})"

    def connect_args(self) -> dict[str, int]:
        """The driver's connection arguments: a PostgreSQL connection attempt gives up after
        CONNECT_TIMEOUT_S; SQLite waits up to 30 s for a lock."""
        return {"timeout": 30} if self.is_sqlite else {"connect_timeout": CONNECT_TIMEOUT_S}


def open_database(url: StorageURL, create_tables: bool = True) -> optuna.storages.RDBStorage:
    """Optuna's RDB storage at ``url``; a connection attempt gives up after CONNECT_TIMEOUT_S."""
    import optuna  # not at import: the vocabulary is read by commands that never open a study

    return optuna.storages.RDBStorage(
        url.secret(),
        engine_kwargs={"connect_args": url.connect_args()},
        skip_table_creation=not create_tables,
        skip_compatibility_check=not create_tables,
    )
