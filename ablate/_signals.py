"""Ctrl-C and SIGTERM held over a block that must not be cut in two."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator


@contextlib.contextmanager
def signals_held() -> Iterator[None]:
    """Hold SIGINT and SIGTERM until the block ends, then deliver them to the handlers they had
    (in the main thread, the only one Python runs signal handlers in; elsewhere a no-op): an
    ignored one stays ignored, a handled one is handled once the block is whole.

    A held signal's handler is called here, in the code's own path (Ctrl-C's raises
    KeyboardInterrupt at the block's end), not raised again as a signal: Python would run the
    handler at whatever bytecode comes next, and in a garbage collector's callback (Dask
    registers one) the KeyboardInterrupt is printed and dropped, and the run goes on."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held: list[int] = []
    previous = {s: signal.signal(s, lambda signum, _: held.append(signum)) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        for number in dict.fromkeys(held):
            handler = previous[signal.Signals(number)]
            if callable(handler):  # Python's own for SIGINT raises KeyboardInterrupt
                handler(number, None)
            elif handler == signal.SIG_DFL:
                signal.raise_signal(number)
