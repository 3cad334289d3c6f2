"""Prefect flows: orchestration only. The work is in :mod:`ablate`, wrapped by :mod:`tasks`."""
