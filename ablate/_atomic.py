"""Folders written whole or not at all: build in a hidden sibling, then rename into place.

A rename is atomic within one file system, hence the sibling. Readers (and DVC) never see a
half-written folder, and a crash leaves at most a hidden ``.<name>.tmp-*`` folder behind.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def replace_dir(new: Path, dest: Path) -> None:
    """Put folder ``new`` at ``dest``: the old one is moved aside, the new renamed in, the old
    deleted; if the new one cannot be renamed in, the old one is put back."""
    old = dest.with_name(f".{dest.name}.old-{uuid.uuid4().hex[:8]}")
    had_old = dest.exists()
    if had_old:
        os.replace(dest, old)
    try:
        os.replace(new, dest)
    except OSError:
        if had_old:
            os.replace(old, dest)
        raise
    if had_old:
        shutil.rmtree(old, ignore_errors=True)


def staging_dir(dest: Path) -> Path:
    """A new hidden folder beside ``dest`` to build it in."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{dest.name}.tmp-", dir=dest.parent))


@contextmanager
def staged_dir(dest: Path) -> Iterator[Path]:
    """Yield a staging folder for ``dest``; on success it replaces ``dest``, else it is removed."""
    tmp = staging_dir(dest)
    try:
        yield tmp
        replace_dir(tmp, dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
