"""The driver's watch over the trials it sends to the Dask cluster: a hard timeout, no trial left
waiting behind a hung one, and stragglers.

A trial's own timeout (``execution.trial_timeout_s``) is an exception raised in its thread on
the worker (:mod:`ablate.trial.execute`). Python delivers it at the next bytecode, so a trial
blocked in one native call (a deadlocked collective, a stuck data loader, a blocked read) never
sees it, and keeps its worker, and the trials queued behind it there, for as long as the call
lasts. :class:`TrialGuard` times each trial from the moment it starts computing (the worker says
so, :mod:`ablate.trial.events`) and acts from outside the worker process:

- past its timeout by a second, the trials queued behind it on its worker are moved to other
  workers (their tasks cancelled and submitted again elsewhere; one that was cancelled while it
  waited never runs there);
- past its timeout by ``execution.timeout_grace_s``, it is stopped as hung: its record is written
  first (``timeout.json`` and ``error.txt`` in its folder: a run killed from here on does not run
  it again), its task is cancelled (Dask would otherwise run it again on another worker), and
  its worker process is replaced through its nanny (``Client.restart_workers``: a fresh one, with
  the preload); Dask runs the other trials that worker held elsewhere. It fails with reason
  ``timeout``, not retried.
- a straggler (see :class:`ablate.vocab.params.StragglerRule`) is flagged once, in a line and in
  its record; under ``stop`` it is interrupted (in its thread, then as hung after the grace) and
  fails with reason ``straggler``.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from concurrent.futures import CancelledError
from dataclasses import dataclass, field
from typing import Any

from ablate.errors import TrialStraggledError, TrialTimeoutError
from ablate.runtime.outcomes import annotate, interrupt_trial, publish_stopped
from ablate.runtime.stragglers import StepClock
from ablate.trial.cache import run_cached_or_error
from ablate.trial.events import STARTED, STEP, TOPIC
from ablate.trial.execute import clear_interrupted
from ablate.vocab import reasons
from ablate.vocab.params import StragglerRule
from ablate.vocab.trial import TrialSpec

POLL_S = 0.5  # how often the running trials are looked at
MOVE_AFTER_S = 1.0  # past its timeout by this, the trials queued behind a trial leave its worker
RESTART_TIMEOUT_S = 60.0  # for a nanny to bring its worker back


@dataclass
class _Attempt:
    """One submission of a trial to the cluster (a trial moved off a worker has several)."""

    spec: TrialSpec
    key: str
    future: Any
    started: float | None = None  # time.monotonic() here when its worker said it started
    worker: str = ""
    last_step: int | None = None
    fate: str = ""  # "" (running or done), "moved", "timeout" or "straggler": the guard acted on it
    message: str = ""
    held_s: float | None = None
    queue_moved: bool = False  # the trials queued behind it were moved already
    interrupted_at: float | None = None  # a straggler interrupted in its thread, under stop
    notes: dict[str, str] = field(default_factory=dict)  # shared by the attempts of one trial


class TrialGuard:
    """Sends trials to the cluster behind ``client`` and watches them (a context manager).

    Args:
        client: a ``distributed.Client``.
        grace_s: ``execution.timeout_grace_s``.
        stragglers: ``execution.stragglers`` (None: no straggler rule).
        say: gets one line for the terminal for each thing the guard did.
    """

    def __init__(
        self,
        client: Any,
        grace_s: float,
        stragglers: StragglerRule | None = None,
        say: Callable[[str], None] = lambda line: None,
    ) -> None:
        self.client = client
        self.grace_s = grace_s
        self.stragglers = stragglers
        self._say = say
        self._lock = threading.Lock()
        self._attempts: dict[str, _Attempt] = {}  # by Dask key
        self._replaced: dict[str, str] = {}  # worker address -> why the guard replaced it
        self._clock = StepClock(stragglers or StragglerRule())  # steps are timed only under a rule
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._restarts: list[threading.Thread] = []

    def __enter__(self) -> TrialGuard:
        self.client.subscribe_topic(TOPIC, self._on_event)
        self._thread = threading.Thread(target=self._watch, name="ablate-trial-guard", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        for restart in self._restarts:  # a worker being replaced: let the nanny finish first
            restart.join(RESTART_TIMEOUT_S)
        with contextlib.suppress(Exception):  # the client may be closing
            self.client.unsubscribe_topic(TOPIC)

    # -- a trial, from submission to outcome -------------------------------------------------------

    def run(self, spec: TrialSpec, cache_dir: str | None, key: str, resources: dict[str, float] | None = None) -> Any:
        """Run ``spec`` on the cluster and wait: its TrialResult, or the exception that ended it
        (returned, not raised), with the guard's notes on it (moved, straggler).

        Raises:
            TrialTimeoutError: stopped as hung (reason ``timeout``; ``held_s`` on it).
            TrialStraggledError: a straggler stopped under ``stragglers.stop`` that did not end
                when interrupted.
            CancelledError: the run is stopping (its client closed).
        """
        notes: dict[str, str] = {}
        avoid, moves = None, 0
        while True:
            attempt = self._submit(spec, cache_dir, f"{key}-moved{moves}" if moves else key, resources, avoid, notes)
            try:
                outcome = attempt.future.result()
            except CancelledError:
                with self._lock:
                    fate, message = attempt.fate, attempt.message
                    self._attempts.pop(attempt.key, None)
                if fate == "moved":
                    notes["moved"], avoid, moves = message, attempt.worker or None, moves + 1
                    continue
                if fate in reasons.STOPPED:
                    error_type = TrialTimeoutError if fate == reasons.TIMEOUT else TrialStraggledError
                    err = error_type(message)
                    err.held_s, err.worker_address, err.trial_notes = attempt.held_s, attempt.worker, dict(notes)
                    raise err from None
                raise
            with self._lock:
                self._attempts.pop(attempt.key, None)
            if attempt.interrupted_at is not None and isinstance(outcome, TrialStraggledError):
                outcome = TrialStraggledError(attempt.message)  # interrupted: the class alone came back
            return annotate(outcome, notes)

    def _submit(
        self, spec: TrialSpec, cache_dir: str | None, key: str, resources: Any, avoid: Any, notes: dict
    ) -> _Attempt:
        workers = None
        if avoid is not None:  # another worker, where there is one (else it waits for the new one)
            workers = [w for w in self.client.scheduler_info(n_workers=-1)["workers"] if w != avoid] or None
        with self._lock:  # registered before its worker can say it started
            run = (run_cached_or_error, spec, cache_dir)
            future = self.client.submit(*run, pure=False, key=key, resources=resources, workers=workers)
            attempt = _Attempt(spec, key, future, notes=notes)
            self._attempts[key] = attempt
        return attempt

    # -- what the workers say ---------------------------------------------------------------------

    def _on_event(self, event: tuple[float, dict[str, Any]]) -> None:
        """Called in the client's event-loop thread for each message of the trials' topic."""
        _, msg = event
        now = time.monotonic()
        with self._lock:
            attempt = self._attempts.get(msg.get("key", ""))
            if attempt is None:
                return
            if msg.get("kind") == STARTED:
                worker = str(msg.get("worker", ""))
                if attempt.worker in self._replaced and worker != attempt.worker:  # Dask ran it again
                    attempt.notes["moved"] = f"moved: {self._replaced[attempt.worker]}"
                attempt.started, attempt.worker, attempt.last_step = now, worker, None
            elif msg.get("kind") == STEP and attempt.started is not None and self.stragglers is not None:
                attempt.last_step = int(msg["step"])
                self._clock.reached(attempt.last_step, now - attempt.started)

    # -- the watch --------------------------------------------------------------------------------

    def _watch(self) -> None:
        while not self._stop.wait(POLL_S):
            try:
                self._look()
            except Exception as err:  # noqa: BLE001  (the client is closing: the run is ending)
                if not self._stop.is_set():
                    self._say(f"guard: {type(err).__name__}: {err}")

    def _look(self) -> None:
        now = time.monotonic()
        with self._lock:
            running = [a for a in self._attempts.values() if a.started is not None and not a.fate]
        for a in running:
            if a.future.done():
                continue
            timeout = a.spec.timeout_s
            over = now - a.started - timeout if timeout is not None else None  # type: ignore[operator]
            if over is not None and over > self.grace_s:
                message = (
                    f"{_label(a.spec)}: timeout: still running {self.grace_s:g} s past execution.trial_timeout_s="
                    f"{timeout:g} (stuck in native code?); its worker {a.worker} was replaced "
                    "(execution.timeout_grace_s)"
                )
                self._stop_hung(a, reasons.TIMEOUT, message, now)
                continue
            if over is not None and over > MOVE_AFTER_S and not a.queue_moved:
                a.queue_moved = True
                self._move_queued_behind(a)
            if self.stragglers is not None:
                self._check_straggler(a, now)

    def _check_straggler(self, a: _Attempt, now: float) -> None:
        assert a.started is not None and self.stragglers is not None
        if a.interrupted_at is not None:  # stopped under stragglers.stop: did it end?
            if now - a.interrupted_at > self.grace_s:
                also = f"; it did not stop when interrupted, so its worker {a.worker} was replaced"
                self._stop_hung(a, reasons.STRAGGLER, a.message + also, now)
            return
        if "straggler" in a.notes:
            return
        with self._lock:
            note = self._clock.judge(a.last_step, now - a.started)
        if note is None:
            return
        a.notes["straggler"] = note
        self._say(f"{_label(a.spec)}: straggler: {note}" + ("; stopping it" if self.stragglers.stop else ""))
        if self.stragglers.stop:
            a.message = f"{_label(a.spec)}: straggler: {note} (execution.stragglers.stop)"
            a.interrupted_at = now  # it ends as a straggler, or is stopped as hung after the grace
            self.client.run(interrupt_trial, a.key, workers=[a.worker], wait=False)

    # -- acting -----------------------------------------------------------------------------------

    def _on_worker(self, worker: str) -> list[_Attempt]:
        keys = self.client.processing(workers=[worker]).get(worker, ())
        with self._lock:
            return [self._attempts[k] for k in keys if k in self._attempts]

    def _move_queued_behind(self, hung: _Attempt) -> None:
        """Move the trials waiting on ``hung``'s worker to other workers, where there are any."""
        others = [w for w in self.client.scheduler_info(n_workers=-1)["workers"] if w != hung.worker]
        if not others:
            return
        why = f"moved off worker {hung.worker}, where it waited behind {_label(hung.spec)} past its timeout"
        queued = [a for a in self._on_worker(hung.worker) if a is not hung and a.started is None]
        for a in queued:
            with self._lock:  # run() submits it again, elsewhere; it never starts here (given_up)
                if a.fate or a.future.done():
                    continue
                a.fate, a.message, a.worker = "moved", why, hung.worker
            a.future.cancel()
        if queued:
            self._say(f"{_label(hung.spec)}: past its timeout; {len(queued)} trial(s) queued behind it move elsewhere")

    def _stop_hung(self, a: _Attempt, fate: str, message: str, now: float) -> None:
        """Stop ``a`` by replacing its worker. Only its own task is cancelled: Dask runs the others
        that worker held again elsewhere, as for any lost worker (a cancelled task's thread would
        go on, and could finish while the worker closes, as the trial ran again elsewhere)."""
        held = round(now - a.started, 3) if a.started is not None else None
        publish_stopped(a.spec, message, held, fate)  # first: a run killed from here on keeps it
        neighbours = [n for n in self._on_worker(a.worker) if n is not a]
        with self._lock:
            a.fate, a.message, a.held_s = fate, message, held
            self._replaced[a.worker] = f"its worker {a.worker} was replaced when {_label(a.spec)} hung"
        a.future.cancel()
        self._say(message + (f"; the {len(neighbours)} other trial(s) there move" if neighbours else ""))
        restart = threading.Thread(target=self._replace_worker, args=(a.worker, a.spec), name="ablate-worker-replace")
        self._restarts.append(restart)
        restart.start()

    def _replace_worker(self, worker: str, hung: TrialSpec) -> None:
        start = time.monotonic()
        try:
            out = self.client.restart_workers([worker], timeout=RESTART_TIMEOUT_S, raise_for_error=False)
        except Exception as err:  # noqa: BLE001  (the run is ending; its cluster closes anyway)
            out = {worker: f"{type(err).__name__}: {err}"}
        status = out.get(worker, "gone")
        if status == "OK":
            self._say(f"cluster: worker {worker} replaced in {time.monotonic() - start:.1f} s")
        else:
            self._say(f"cluster: worker {worker} not replaced ({status}); the others go on")
        clear_interrupted(hung.out_dir)  # the folder its attempt was writing when its process was killed


def _label(spec: TrialSpec) -> str:
    """How the progress lines name a trial: "trial 7", "-batchnorm seed 3"."""
    return spec.name or f"trial {spec.number}"
