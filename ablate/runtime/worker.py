"""Set-up of a Dask worker process that runs trials (loaded with ``--preload ablate.runtime.worker``).

- Exits when the process that started it dies: a ``kill -9`` of ``ablate run`` must not leave
  orphan workers finishing trials behind the back of the next run. A trial whose function has
  returned is let publish its folder first (a few ms), so the next run finds it done. (A worker
  under a local nanny usually exits first by Dask's own pipe from the nanny; this watch covers the
  others. A LocalCluster's worker, forked from a forkserver, has that server as its parent.)
- On SIGTERM (a batch job cancelled, preempted or at its walltime: Slurm signals every process of
  the job, the worker too, before it kills them), lets a trial whose function has returned publish
  its folder before the worker exits: the trial's task, rerun on another worker, finds it published
  and does not run it again (ablate.trial.execute).
- Draws a fresh seed for numpy's global generator: the workers of a LocalCluster fork from one
  preloaded forkserver and would otherwise all draw the same numbers (ablate.runtime.cluster).
- One thread for torch per worker: workers are processes, one per core (or GPU).
- No Dask thread profiler on CPython before 3.12: it samples every thread's frames 100 times a
  second, and with threads starting or ending (a trial's data loader, its logging) that can
  deadlock the worker process (python/cpython#106883). Dask turns its event-loop profiler off on
  3.11 for that reason but keeps this one. The clusters ablate starts get
  ``distributed.worker.profile.enabled: False`` (which also keeps the event-loop profiler off on
  3.10); this preload stops the thread profiler of any other worker that runs trials.
- Imports ablate's trial runner, DVCLive, and the study's trial module (``ABLATE_TRIAL_MODULE``) up
  front, torch with it when it uses torch, so the first trial starts at once and its duration is
  its own.
- Then freezes what those imports made (~300,000 objects with torch) out of the cyclic
  collector's reach: each full collection traversed them, stopping the trial running for 0.17 s.
  (Garbage is collected first: frozen, it would stay for the worker's life.)
"""

from __future__ import annotations

import gc
import importlib
import os
import signal
import sys
import threading
import time
from types import FrameType

from ablate.trial.execute import FINISHING
from ablate.worker_env import trial_module

PROFILER_CAN_DEADLOCK = sys.version_info < (3, 12)
FINISHING_WAIT_S = 10.0  # longest an orphaned worker waits for a trial publishing its folder
# What every trial task unpickles and runs (pandas, the trial contract, the cache) and a trial's
# DVCLive logger (ablate.trial.live): imported as the worker starts, while the driver prepares the
# data, not by the first trial (0.4-0.8 s and 0.4 s on 2 cores); a LocalCluster's forkserver
# imports them once for all its workers (ablate.runtime.cluster).
SETUP_IMPORTS = ("ablate.trial.cache", "dvclive")


def dask_setup(worker: object) -> None:
    _exit_with_parent(os.getppid())
    fresh_numpy_seed()
    if PROFILER_CAN_DEADLOCK:  # the preload runs before the worker starts its periodic callbacks
        for name in ("profile", "profile-cycle"):
            worker.periodic_callbacks.pop(name, None)  # type: ignore[attr-defined]
    for name in SETUP_IMPORTS:
        importlib.import_module(name)
    module = trial_module()
    if module:
        try:
            importlib.import_module(module)
        except Exception:  # noqa: BLE001  (the trial itself reports a broken module, with context)
            pass
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(int(os.environ.get("ABLATE_TORCH_THREADS", "1")))
    publish_before_sigterm()  # after the trial module's import, which could set a handler of its own
    gc.collect()
    gc.freeze()


def publish_before_sigterm() -> None:
    """On SIGTERM, wait for trials between their function's return and their published folder (a
    few ms; at most FINISHING_WAIT_S, and a nanny kills its worker 8 s after it is told to close),
    then end as the signal's previous handler would."""
    if threading.current_thread() is not threading.main_thread():
        return  # signal handlers are set from the main thread only
    previous = signal.getsignal(signal.SIGTERM)
    if previous is signal.SIG_IGN:
        return

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        FINISHING.wait(FINISHING_WAIT_S)
        if callable(previous):  # a worker without a nanny: Dask's CLI closes it gracefully
            previous(signum, frame)
            return
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)

    signal.signal(signal.SIGTERM, on_sigterm)


def fresh_numpy_seed() -> None:
    """Seed numpy's global generator from fresh entropy, as a spawned worker's import of numpy
    does: a worker forked from a preloaded forkserver has the forkserver's, the same in every worker."""
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        numpy.random.seed()


def _exit_with_parent(parent: int) -> None:
    def watch() -> None:
        while True:
            if os.getppid() != parent:
                # A trial whose function has just returned publishes its folder first (a few ms):
                # the resumed run then finds it done instead of running it again.
                FINISHING.wait(FINISHING_WAIT_S)
                os._exit(1)
            time.sleep(0.5)

    threading.Thread(target=watch, name="ablate-parent-watch", daemon=True).start()
