"""Thin Prefect ``@task`` wrappers around :mod:`ablate`; retries and cache policy live here."""
