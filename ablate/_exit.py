"""The end of a process that has run its exit handlers: output flushed, then no teardown."""

from __future__ import annotations

import os
import sys
from typing import NoReturn


def exit_now(code: int) -> NoReturn:
    """Flush stdout and stderr, then end the process with ``os._exit``: without freeing its heap
    object by object, for memory the OS takes back at once. Where a flush fails (a closed pipe, a
    full disk) and ``code`` is 0, the code is 120, as Python's own exit says it."""
    failed = False
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):  # a closed pipe (ablate status | head), a full disk
            failed = True
    os._exit(120 if failed and code == 0 else code)
