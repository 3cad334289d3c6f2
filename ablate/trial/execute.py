"""Running one trial on a worker: its log, its timeout, its metrics checked, its folder published
atomically (result, pruned marker or error)."""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import json
import logging
import os
import shutil
import socket
import threading
import time
import traceback
from collections.abc import Iterator
from pathlib import Path

from ablate._atomic import replace_dir, staging_dir
from ablate.errors import InvalidMetricError, TrialGivenUpError, TrialPruned, TrialTimeoutError
from ablate.trial.context import TrialContext, _torch_threads
from ablate.trial.contract import ERROR, PRUNED, RESULT, TIMED_OUT, check_metrics, read_result
from ablate.trial.entrypoint import load_entrypoint
from ablate.trial.events import STARTED, announce, given_up
from ablate.trial.live import TrialLive
from ablate.vocab.provenance import TrialProvenance
from ablate.vocab.trial import TrialResult, TrialSpec, hash_json
from ablate.worker_env import job_id, trials_at_once


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def placement() -> dict[str, str]:
    """Where this process runs trials: its host, its Dask worker's address ("" outside a worker),
    and the batch job it runs in ("" outside one)."""
    try:
        from distributed import get_worker

        address = get_worker().address
    except (ImportError, ValueError):
        address = ""
    job = job_id()
    return {"host": socket.gethostname(), "worker_address": address, "job_id": job}


def clear_interrupted(out_dir: Path) -> int:
    """Remove the staging folders of earlier attempts at ``out_dir`` and count them: a staging
    folder outlives its attempt only when the attempt's process died under it (its worker's job
    was cancelled, preempted, or ran out of walltime), since every other way out removes it."""
    # A listing compared by prefix, not Path.glob: glob compiles its pattern on every call, and
    # this runs before every trial (0.4 ms of the worker's 4.4 ms per no-op trial went to it).
    prefix = f".{out_dir.name}.tmp-"
    try:
        with os.scandir(out_dir.parent) as entries:
            stale = [Path(e.path) for e in entries if e.name.startswith(prefix)]
    except FileNotFoundError:
        return 0
    for path in stale:
        shutil.rmtree(path, ignore_errors=True)
    return len(stale)


def execute_trial(spec: TrialSpec) -> TrialResult:
    """Run the trial function and publish its outputs at ``spec.out_dir`` atomically.

    A trial already published there, by this same spec, is returned as it is: its function ran to
    the end on a worker that was lost before the result came back (a batch job cancelled, which
    lets it publish first: ablate.runtime.worker), and Dask gave its task to this worker. Its
    worker died under it all the same, and its record says so (``interrupted``)."""
    published = read_result(spec.out_dir)
    if published is not None and published.number == spec.number and published.cache_key == spec.cache_key:
        try:
            check_metrics(published.metrics, spec.number, spec.entrypoint, spec.metric)
        except InvalidMetricError:
            pass  # the study asks for a metric this result lacks: run it
        else:
            return dataclasses.replace(published, interrupted=published.interrupted + 1)
    with _computing():
        if given_up():  # moved to another worker while it waited here behind a hung trial
            raise TrialGivenUpError(f"{spec.label}: given up by the run while it waited for its worker")
        announce(STARTED)
        return _execute(spec)


# A worker process holds trials queued in more threads than compute (a queued trial starts the
# moment one ends), but only one trial computes at a time: torch's seed and thread pool are
# process-wide. A GPU worker shared by execution.trials_per_gpu trials lets that many compute at
# once (its cluster sets ablate.worker_env.TRIALS_AT_ONCE); they then share the GPU's random generator, so
# such trials are not bit-for-bit reproducible (docs/scale-out.md says so).
# Read at the worker's first trial, not at import: a LocalCluster's worker is forked from a server
# that imported this module before the worker's own environment was set (ablate.runtime.cluster).
_computing_lock = threading.Lock()
_computing_now: threading.BoundedSemaphore | None = None


def _computing() -> threading.BoundedSemaphore:
    """The places for trials computing at once in this process, made once."""
    global _computing_now
    with _computing_lock:
        if _computing_now is None:
            _computing_now = threading.BoundedSemaphore(trials_at_once())
        return _computing_now


class _Finishing:
    """The trials between the end of their function and their published folder. A worker whose
    driver died (``ablate.runtime.worker``) waits for them before it exits: a trial that ran its
    function to the end is published, and the resumed run does not run it again."""

    def __init__(self) -> None:
        self._idle = threading.Condition()
        self._count = 0

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        with self._idle:
            self._count += 1
        try:
            yield
        finally:
            with self._idle:
                self._count -= 1
                self._idle.notify_all()

    def wait(self, timeout_s: float) -> bool:
        """Wait until no trial is finishing (at most ``timeout_s``); False if one still is."""
        with self._idle:
            return self._idle.wait_for(lambda: self._count == 0, timeout_s)


FINISHING = _Finishing()


def _execute(spec: TrialSpec) -> TrialResult:
    interrupted = clear_interrupted(spec.out_dir)
    tmp = staging_dir(spec.out_dir)
    finishing = contextlib.ExitStack()  # holds FINISHING from the function's return to the publish
    try:
        start = time.monotonic()
        deadline = start + spec.timeout_s if spec.timeout_s else None
        ctx = TrialContext(spec, tmp, deadline)
        (tmp / "params.json").write_text(json.dumps(spec.params, indent=2, sort_keys=True) + "\n")
        with _trial_log(tmp / "trial.log", ctx.log), _interrupt_after(deadline, spec), _closing(ctx.live):
            ctx.log.info("trial %d of study %s: params %s, seed %d", spec.number, spec.study, spec.params, spec.seed)
            metrics = load_entrypoint(spec.entrypoint)(dict(spec.params), ctx)
            finishing.enter_context(FINISHING.held())
            metrics = check_metrics(metrics, spec.number, spec.entrypoint, spec.metric)
            ctx.log.info("metrics %s", metrics)
            ctx.live.finish(metrics)
        result = TrialResult(
            number=spec.number,
            metrics=metrics,
            duration_s=round(time.monotonic() - start, 4),
            worker=worker_name(),
            **placement(),
            interrupted=interrupted,
            cached=False,
            cache_key=spec.cache_key,
            params=spec.params,
            provenance=TrialProvenance(
                run=spec.provenance,
                torch_threads=_torch_threads(),
                params_hash=hash_json(spec.params)[:16],
                data_hash=spec.data.data_hash,
                code_version=spec.code_version,
                seed=spec.seed,
                device=ctx.device,
            ),
        )
        (tmp / RESULT).write_text(result.to_json())
        if given_up() and (spec.out_dir / TIMED_OUT).exists():
            # The run stopped this trial as hung and replaced its worker: its record says so.
            raise TrialGivenUpError(f"{spec.label}: returned after the run had stopped it as hung")
        replace_dir(tmp, spec.out_dir)
        return result
    except TrialPruned as err:
        # Published like a finished trial (params, log, history.jsonl), marked pruned: a resumed
        # run finds it and tells it PRUNED instead of running it again.
        pruned = {"step": err.step, "metrics": err.metrics, "params": spec.params}
        (tmp / PRUNED).write_text(json.dumps(pruned, indent=2, sort_keys=True) + "\n")
        replace_dir(tmp, spec.out_dir)
        raise
    except TrialGivenUpError:
        raise
    except Exception:
        # Publish the failed attempt too (params, log, traceback): a FAIL trial keeps its evidence,
        # and a successful retry replaces it whole.
        (tmp / ERROR).write_text(traceback.format_exc())
        replace_dir(tmp, spec.out_dir)
        raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        finishing.close()


@contextlib.contextmanager
def _closing(live: TrialLive):
    """A trial that is pruned or fails keeps its DVCLive curve up to where it stopped."""
    try:
        yield
    finally:
        live.close()


@contextlib.contextmanager
def _trial_log(path: Path, logger: logging.Logger):
    """Send the trial's log records, and what it prints, to its own ``trial.log``."""
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger.addHandler(handler)
    if logger.level != logging.INFO:  # setLevel clears the cache of every logger in the process
        logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        with contextlib.redirect_stdout(handler.stream), contextlib.redirect_stderr(handler.stream):
            yield
    except TrialPruned as err:
        logger.info("%s", err)
        raise
    except BaseException:
        logger.exception("trial failed")
        raise
    finally:
        logger.removeHandler(handler)
        handler.close()


@contextlib.contextmanager
def _interrupt_after(deadline: float | None, spec: TrialSpec):
    """Raise TrialTimeoutError in this thread once ``deadline`` passes.

    ``ctx.report`` checks the deadline at every step; this also stops a trial that never
    reports. The exception is delivered between Python bytecodes (a long C call finishes first),
    the same mechanism Prefect's own task timeouts use in worker threads.
    """
    if deadline is None:
        yield
        return
    token = _WATCHDOG.arm(deadline, threading.get_ident())
    try:
        try:
            yield
        finally:
            _WATCHDOG.disarm(token)  # a timeout firing this very moment is raised here, caught below
    except TrialTimeoutError:
        raise TrialTimeoutError(
            f"trial {spec.number}: timeout: ran past execution.trial_timeout_s={spec.timeout_s:g}"
        ) from None


class _Watchdog:
    """One thread per process that interrupts the trials past their deadline.

    A thread per trial (a ``threading.Timer``) would start and end a thread for every trial: on
    CPython before 3.12 that races Dask's worker profiler and can deadlock the whole worker
    process (python/cpython#106883; seen here as a study stalled for minutes, once in a few
    thousand no-op trials). One long-lived thread never creates or deletes a thread state.
    """

    # Longest wait between looks at the deadlines: Condition.wait refuses a timeout past
    # threading.TIMEOUT_MAX (a trial_timeout_s of 1e10 would end the watchdog).
    MAX_WAIT_S = 3600.0

    def __init__(self) -> None:
        # A plain lock, taken with ``with self._lock``: a timeout delivered to a trial thread as it
        # takes the lock then surfaces inside the block, which releases it. (Condition's own
        # __enter__ is Python code: delivered there, the lock would stay taken for good.)
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._armed: dict[int, tuple[float, int]] = {}  # token -> (deadline, thread id)
        self._next_token = 0
        self._thread: threading.Thread | None = None

    def arm(self, deadline: float, thread_id: int) -> int:
        with self._lock:
            self._next_token += 1
            self._armed[self._next_token] = (deadline, thread_id)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="ablate-trial-timeouts", daemon=True)
                self._thread.start()
            self._wake.notify()
            return self._next_token

    def disarm(self, token: int) -> None:
        """After this returns, ``token`` never fires."""
        with self._lock:
            self._armed.pop(token, None)

    def _run(self) -> None:
        with self._lock:
            while True:
                now = time.monotonic()
                for token, (deadline, thread_id) in list(self._armed.items()):
                    if deadline <= now:
                        del self._armed[token]
                        ctypes.pythonapi.PyThreadState_SetAsyncExc(
                            ctypes.c_ulong(thread_id), ctypes.py_object(TrialTimeoutError)
                        )
                earliest = min((d for d, _ in self._armed.values()), default=now + self.MAX_WAIT_S)
                self._wake.wait(min(max(0.0, earliest - now), self.MAX_WAIT_S))


_WATCHDOG = _Watchdog()
# A forked child has none of the parent's threads: both start afresh there (these exact classes).
os.register_at_fork(after_in_child=_WATCHDOG.__init__)  # type: ignore[misc]
os.register_at_fork(after_in_child=FINISHING.__init__)  # type: ignore[misc]
