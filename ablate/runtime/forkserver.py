"""Imported first by a LocalCluster's forkserver, as its preload (ablate.runtime.cluster): when
the command that started it exits, the forkserver exits without freeing its heap object by object
(Dask, DVCLive, ablate's trial runner, imported once for every worker it forks), as the command
itself does (flows.cli.command). Whoever reads the command's output through a pipe (a script, a
CI job, ``ablate run | tee run.log``) waits for the forkserver too, which holds the same stdout."""

from __future__ import annotations

import atexit
import os

_SERVER = os.getpid()


def _exit_now() -> None:
    # Registered first, so it runs last, once the server's other exit handlers have run. A worker
    # forked from the server inherits the handler and has its own pid: it exits as Dask has it.
    if os.getpid() == _SERVER:
        os._exit(0)


atexit.register(_exit_now)
