"""One run per study: an exclusive lock on the study folder, released by the OS when its holder
dies, so a killed run never blocks the next."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import NoReturn

from ablate.errors import StudyLockedError


class StudyLock:
    """An exclusive lock on a study folder, released by the OS even when the holder is killed."""

    def __init__(self, study_dir: Path) -> None:
        # Beside the study folder, not in it: the folder is a DVC output and must not change
        # because somebody looked at it.
        self.path = study_dir.parent / f".{study_dir.name}.lock"
        self.study_dir = study_dir

    def __enter__(self) -> StudyLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(self._fd, 64).decode(errors="replace").strip() or "another process"
            os.close(self._fd)
            self.refuse(holder)
        os.ftruncate(self._fd, 0)
        os.write(self._fd, f"pid {os.getpid()}".encode())
        return self

    def refuse(self, holder: str) -> NoReturn:
        raise StudyLockedError(f"{self.study_dir}: the study is being run by {holder}; wait for it or stop it first")

    def __exit__(self, *exc: object) -> None:
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)


def lock_holder(study_dir: Path) -> str | None:
    """Who runs the study now (``pid N``), or None; never waits and never writes.

    A shared lock can only be had while nobody holds the exclusive one: taken and let go at once.
    """
    path = StudyLock(study_dir).path
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return os.read(fd, 64).decode(errors="replace").strip() or "another process"
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)
