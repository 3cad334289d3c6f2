"""Trial timeouts (ablate.trial.execute): each trial interrupted at its own deadline by one
watchdog thread per process, never after it ended, and the watchdog never left stuck.

The trial functions below are module-level so execute_trial can import them by entrypoint.
"""

from __future__ import annotations

import ctypes
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from ablate.errors import TrialTimeoutError
from ablate.trial.context import TrialContext
from ablate.trial.contract import ERROR, RESULT
from ablate.trial.execute import _WATCHDOG, _interrupt_after, _Watchdog, execute_trial
from tests.ablate.trial.test_trial import leftovers, make_spec, ok_trial


def reporting_forever(params: dict[str, Any], ctx: TrialContext) -> Any:
    step = 0
    while True:
        step += 1
        ctx.report(step, {"step": step})


def busy_forever(params: dict[str, Any], ctx: TrialContext) -> Any:
    x = 0
    while True:
        x += 1


@pytest.mark.timeout(30)
@pytest.mark.parametrize("func", [reporting_forever, busy_forever], ids=["reports", "never-reports"])
def test_timeout_interrupts_a_trial(tmp_path: Path, func: Any) -> None:
    spec = make_spec(tmp_path, func, number=5, timeout_s=1)
    start = time.monotonic()
    with pytest.raises(TrialTimeoutError, match="timeout: ran past execution.trial_timeout_s=1"):
        execute_trial(spec)
    elapsed = time.monotonic() - start
    assert 0.9 <= elapsed < 5.0
    out = tmp_path / "trials" / "5"
    assert "TrialTimeoutError" in (out / ERROR).read_text()
    assert not (out / RESULT).exists()
    assert leftovers(tmp_path / "trials") == []


def test_timeout_does_not_fire_after_the_trial_finished(tmp_path: Path) -> None:
    result = execute_trial(make_spec(tmp_path, ok_trial, timeout_s=0.3))
    assert result.metrics["val_accuracy"] == 0.75
    # Spin in Python past the deadline: a timer left armed would raise into this thread.
    x, end = 0, time.monotonic() + 0.6
    while time.monotonic() < end:
        x += 1
    assert x > 0


@pytest.mark.timeout(30)
def test_timeouts_of_trials_running_at_once_fire_each_at_its_own_deadline(tmp_path: Path) -> None:
    # Trials packed on one GPU run at once in threads of one worker process: one watchdog thread
    # serves them all (no thread started per trial), each interrupted at its own deadline.
    ended: dict[str, float] = {}

    def spin(name: str, timeout_s: float) -> None:
        spec = make_spec(tmp_path, busy_forever, number=len(name), timeout_s=timeout_s)
        start = time.monotonic()
        with pytest.raises(TrialTimeoutError), _interrupt_after(start + timeout_s, spec):
            while True:
                pass
        ended[name] = time.monotonic() - start

    threads = [threading.Thread(target=spin, args=(name, t)) for name, t in (("a", 0.5), ("bb", 1.5))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert 0.45 <= ended["a"] < 1.3 and 1.45 <= ended["bb"] < 3.0, ended
    assert [t.name for t in threading.enumerate()].count("ablate-trial-timeouts") == 1


def test_a_timeout_delivered_while_a_trial_disarms_leaves_the_watchdog_working() -> None:
    # The trial ends as its deadline passes: the watchdog holds its lock (it is firing) while the
    # trial's thread waits for it in disarm, and the timeout lands as that thread takes the lock.
    watchdog = _Watchdog()
    token = watchdog.arm(time.monotonic() + 60, threading.get_ident())
    raised = []

    def trial_ends() -> None:
        try:
            watchdog.disarm(token)
        except TrialTimeoutError:
            raised.append(True)

    watchdog._lock.acquire()
    thread = threading.Thread(target=trial_ends)
    thread.start()
    time.sleep(0.2)  # the thread now waits for the lock
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread.ident), ctypes.py_object(TrialTimeoutError))
    watchdog._lock.release()
    thread.join()
    assert raised == [True]
    assert watchdog._lock.acquire(timeout=1), "the lock was left taken: no timeout would fire again"


@pytest.mark.timeout(30)
def test_a_timeout_beyond_what_a_wait_accepts_does_not_stop_the_others(tmp_path: Path) -> None:
    far = _WATCHDOG.arm(time.monotonic() + 1e10, 0)  # past threading.TIMEOUT_MAX from now
    try:
        time.sleep(0.1)
        spec = make_spec(tmp_path, busy_forever, timeout_s=0.5)
        with pytest.raises(TrialTimeoutError), _interrupt_after(time.monotonic() + 0.5, spec):
            while True:
                pass
    finally:
        _WATCHDOG.disarm(far)


def test_no_timeout_when_timeout_s_is_none(tmp_path: Path) -> None:
    result = execute_trial(make_spec(tmp_path, ok_trial, timeout_s=None))
    assert result.metrics["loss"] == 0.25
