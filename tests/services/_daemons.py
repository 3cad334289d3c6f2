"""Daemons run as child processes of the test session: free loopback ports, bounded waits, a clean stop."""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import IO, Any


def free_port() -> int:
    """A loopback port free right now (the daemon binds it a moment later; a clash fails loudly)."""
    return free_ports(1)[0]


def free_ports(count: int) -> list[int]:
    """`count` distinct loopback ports free right now (all held open together, so none repeats)."""
    with ExitStack() as stack:
        socks = [stack.enter_context(socket.socket()) for _ in range(count)]
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]


def wait_until(ready: Callable[[], bool], timeout: float, what: str, interval: float = 0.1) -> float:
    """Poll `ready` until it holds; return the seconds waited. Raises TimeoutError naming `what`."""
    start = time.monotonic()
    while not ready():
        if time.monotonic() - start > timeout:
            raise TimeoutError(f"{what}: not within {timeout:.0f} s")
        time.sleep(interval)
    return time.monotonic() - start


def start_daemon(argv: list[str | Path], log: Path, **popen: Any) -> subprocess.Popen[bytes]:
    """Start a foreground daemon with stdout and stderr appended to `log`."""
    out: IO[bytes] = log.open("ab")
    try:
        return subprocess.Popen([str(a) for a in argv], stdout=out, stderr=subprocess.STDOUT, **popen)
    finally:
        out.close()  # the child holds its own descriptor


def stop_daemon(proc: subprocess.Popen[bytes], timeout: float = 10.0, sig: int = signal.SIGTERM) -> None:
    """Ask the daemon to stop; kill it if it has not exited within `timeout` seconds."""
    if proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=timeout)


def tail(path: Path, lines: int = 15) -> str:
    """The last lines of a log file, for an error message that says why a daemon did not come up."""
    try:
        text = path.read_text(errors="replace").splitlines()
    except FileNotFoundError:
        return f"({path} was not written)"
    return "\n".join(text[-lines:])
