"""Imported first by a LocalCluster's forkserver, as its preload (ablate.runtime.cluster): when
the command that started it exits, the forkserver exits without freeing its heap object by object
(Dask, DVCLive, ablate's trial runner, imported once for every worker it forks), as the command
itself does (flows.cli.command). Whoever reads the command's output through a pipe (a script, a
CI job, ``ablate run | tee run.log``) waits for the forkserver too, which holds the same stdout:
0.25 s after the command had exited (2 cores).

Imported by any other process, it does nothing."""

from __future__ import annotations

import atexit
import os
import sys

from ablate._exit import exit_now

# How multiprocessing starts its forkserver (CPython 3.10-3.13): python -c 'from
# multiprocessing.forkserver import main; main(...)'.
_SERVER_COMMAND = "from multiprocessing.forkserver import main"


def exit_without_teardown() -> None:
    """Once the exit handlers registered after this one have run (those of the modules imported
    after it: Dask, DVCLive, logging), this process flushes its output and ends with ``os._exit``.
    A process forked from it (a Dask worker) exits as it would have: Dask's workers end with
    ``os._exit`` of their own, and the handler checks the pid besides. (multiprocessing's own exit
    handler, registered before the preload, is skipped: the server has no child ``Process`` and no
    finalizer of its own to run.)"""
    server = os.getpid()

    def exit_in_the_server() -> None:
        if os.getpid() == server:
            exit_now(0)

    atexit.register(exit_in_the_server)


if any(_SERVER_COMMAND in arg for arg in sys.orig_argv):
    exit_without_teardown()
