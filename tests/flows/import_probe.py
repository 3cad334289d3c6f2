"""Imported by name as the report's preload in tests/flows/test_trial_loop.py: records the thread
that imports it, and when."""

from __future__ import annotations

import threading
import time

THREAD = threading.current_thread().name
AT = time.time()
