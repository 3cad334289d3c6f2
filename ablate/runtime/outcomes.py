"""What the driver adds to a trial's outcome, and the record of a trial it stopped as hung
(see :mod:`ablate.runtime.guard`)."""

from __future__ import annotations

import ctypes
import json
import shutil
from dataclasses import replace
from typing import Any

from ablate._atomic import staged_dir
from ablate.errors import TrialStoppedError, TrialStraggledError
from ablate.trial.contract import ERROR, TIMED_OUT
from ablate.trial.live import DVCLIVE_DIR
from ablate.vocab.trial import TrialResult, TrialSpec

KEPT_FILES = ("params.json", "trial.log", "history.jsonl")  # what a hung trial's folder keeps


def annotate(outcome: Any, notes: dict[str, str]) -> Any:
    """``outcome`` with the guard's notes: fields of a TrialResult, ``trial_notes`` on an exception."""
    if not notes:
        return outcome
    if isinstance(outcome, TrialResult):
        return replace(outcome, moved=notes.get("moved", ""), straggler=notes.get("straggler", ""))
    if isinstance(outcome, BaseException):
        outcome.trial_notes = dict(notes)  # type: ignore[attr-defined]
    return outcome


def notes_of(outcome: Any) -> dict[str, str]:
    """The guard's notes on an outcome (see :func:`annotate`)."""
    if isinstance(outcome, TrialResult):
        return {k: v for k, v in (("moved", outcome.moved), ("straggler", outcome.straggler)) if v}
    return dict(getattr(outcome, "trial_notes", None) or {})


def failure_facts(outcome: BaseException) -> tuple[float | None, dict[str, Any]]:
    """What the study records of a failed trial beside its message and reason: how long it held its
    worker (a trial the run stopped as hung), and its user attributes: where it was moved, why it
    was flagged as a straggler, the worker it held."""
    notes = notes_of(outcome)
    attrs: dict[str, Any] = {"note": notes.get("moved"), "straggler": notes.get("straggler")}
    if not isinstance(outcome, TrialStoppedError):
        return None, attrs
    if outcome.worker_address:
        attrs["worker_address"] = outcome.worker_address
    return outcome.held_s, attrs


def publish_stopped(spec: TrialSpec, message: str, held_s: float | None, reason: str) -> None:
    """Put the stopped trial's folder in place: what its attempt wrote so far (its log), the
    message as ``error.txt``, and ``timeout.json`` (params, reason, seconds it held its worker)."""
    out = spec.out_dir
    staging = sorted(out.parent.glob(f".{out.name}.tmp-*"), key=lambda p: p.stat().st_mtime)
    with staged_dir(out) as tmp:
        if staging:
            for name in KEPT_FILES:
                if (staging[-1] / name).is_file():
                    shutil.copy2(staging[-1] / name, tmp / name)
            if (staging[-1] / DVCLIVE_DIR).is_dir():  # its curve up to where it hung
                shutil.copytree(staging[-1] / DVCLIVE_DIR, tmp / DVCLIVE_DIR)
        (tmp / ERROR).write_text(message + "\n")
        record = {"params": spec.params, "reason": reason, "message": message, "held_s": held_s}
        (tmp / TIMED_OUT).write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")


def interrupt_trial(key: str, dask_worker: Any = None) -> bool:
    """On the worker (``Client.run``): raise TrialStraggledError in the thread that runs task ``key``;
    delivered at its next bytecode, as the trial's own timeout is (ablate.trial.execute)."""
    for thread_id, running in list(dask_worker.active_threads.items()):
        if running == key:
            ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id), ctypes.py_object(TrialStraggledError))
            return True
    return False
