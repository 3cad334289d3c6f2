"""Imported by name as the report's preload in tests/flows/test_trial_loop.py: an import that
takes ABLATE_TEST_PROBE_S seconds, and records when it began and ended."""

from __future__ import annotations

import os
import time

START = time.time()
time.sleep(float(os.environ.get("ABLATE_TEST_PROBE_S", "0")))
END = time.time()
