"""Which journal file a path holds now: what a process that keeps an Optuna journal storage open
checks before it reads through it again.

An open ``JournalStorage`` reads a file from where it last stopped, by byte offset. A file
replaced at the same path (a study set aside by ``--restart`` and a new one begun; a backup
restored) would be read at the old one's offsets: old trials, or lines cut in the middle. A
journal's first line is its study's creation, stamped with the random id of the storage that
wrote it, so the device, inode and first line tell one journal from another; a file that shrank
was rewritten in place.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class JournalIdentity:
    device: int
    inode: int
    first_line: bytes

    @classmethod
    def of(cls, path: str | os.PathLike[str]) -> JournalIdentity | None:
        """The journal at ``path``, or None while it has no whole line (or does not exist)."""
        try:
            with open(path, "rb") as f:
                stat = os.fstat(f.fileno())
                line = f.readline(4096)
        except FileNotFoundError:
            return None
        if not line.endswith(b"\n"):
            return None
        return cls(stat.st_dev, stat.st_ino, line)


def journal_size(path: str | os.PathLike[str]) -> int:
    try:
        return os.stat(path).st_size
    except FileNotFoundError:
        return 0
