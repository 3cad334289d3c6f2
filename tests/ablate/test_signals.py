"""Ctrl-C and SIGTERM held over a block: delivered at its end, in the code's own path, to the
handler each had (tests run in the main thread, where Python runs signal handlers)."""

from __future__ import annotations

import os
import signal

import pytest

from ablate._signals import signals_held


def test_ctrl_c_inside_the_block_is_a_keyboard_interrupt_at_its_end_not_inside() -> None:
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    reached_end = False
    try:
        with pytest.raises(KeyboardInterrupt):
            with signals_held():
                os.kill(os.getpid(), signal.SIGINT)
                for _ in range(100_000):  # bytecodes enough for Python to have run a handler
                    pass
                reached_end = True
        assert reached_end
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        signal.signal(signal.SIGINT, previous)


def test_an_ignored_signal_stays_ignored_and_a_handler_of_ones_own_runs_once() -> None:
    calls: list[int] = []
    before = signal.signal(signal.SIGINT, signal.SIG_IGN), signal.signal(signal.SIGTERM, lambda n, f: calls.append(n))
    try:
        with signals_held():
            os.kill(os.getpid(), signal.SIGINT)
            os.kill(os.getpid(), signal.SIGTERM)
            os.kill(os.getpid(), signal.SIGTERM)
            for _ in range(100_000):
                pass
            assert calls == []
        assert calls == [signal.SIGTERM]
        assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, before[0])
        signal.signal(signal.SIGTERM, before[1])
