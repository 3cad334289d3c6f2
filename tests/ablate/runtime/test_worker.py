"""ablate.runtime.worker's set-up, in processes of their own: a worker sent SIGTERM (its batch job
cancelled) lets a finishing trial publish its folder before it exits."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

# A worker process: the SIGTERM guard set, and a trial whose function has returned, publishing for 1 s.
WORKER = """
import sys, threading, time
from ablate.runtime.worker import publish_before_sigterm
from ablate.trial.execute import FINISHING

publish_before_sigterm()

def publish():
    with FINISHING.held():
        print("finishing", flush=True)
        time.sleep(1.0)
        open(sys.argv[1], "w").write("published")

threading.Thread(target=publish).start()
time.sleep(60)
"""


def test_sigterm_waits_for_a_finishing_trial_then_ends_the_worker_as_sigterm_does(tmp_path: Path) -> None:
    published = tmp_path / "published"
    proc = subprocess.Popen([sys.executable, "-c", WORKER, str(published)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline() == "finishing\n"
    start = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=15) == -signal.SIGTERM  # ended by the signal, as without the guard
    assert published.read_text() == "published"
    assert time.monotonic() - start < 5  # not the whole 60 s sleep: only the publishing trial waited for
