"""The last search's facts, kept with the study in ``data/studies/<study>/last_run.json``: a
later ``ablate analyze`` (a dvc.yaml stage of its own) reports what that search did, and
``ablate status`` shows when it ended. The records themselves are :mod:`ablate.vocab.facts`."""

from __future__ import annotations

import dataclasses
import json
import os
from datetime import datetime, timezone

from ablate.vocab.facts import RunFacts
from ablate.vocab.params import Params

LAST_RUN = "last_run.json"


def write_last_run(params: Params, facts: RunFacts, now: datetime | None = None) -> RunFacts:
    """Keep what the last search did with the study, for the report of a later ``analyze`` and
    for ``ablate status``; returns ``facts`` stamped with the time the search ended (UTC)."""
    stamp = (now or datetime.now(timezone.utc)).astimezone(timezone.utc).isoformat(timespec="seconds")
    facts = facts.replace(search=dataclasses.replace(facts.search, finished_at=stamp))
    path = params.study_dir / LAST_RUN
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(facts.to_dict(), indent=2, sort_keys=True, default=str) + "\n")
    os.replace(tmp, path)
    return facts


def reported_run(params: Params, last: RunFacts) -> RunFacts:
    """The facts of the run whose report ``reports/<study>/run.json`` holds, where it reports the
    same search as ``last`` (the study's last_run.json): a report re-rendered from an unchanged
    study (``ablate report``, after a ``dvc pull``) keeps that run's ablation, sync and wall time,
    and so writes the very same bytes. Otherwise ``last``."""
    try:
        recorded = RunFacts.from_dict(json.loads((params.report_dir / "run.json").read_text()))
    except (OSError, json.JSONDecodeError, TypeError, ValueError, AttributeError):
        return last
    return recorded if recorded.search.finished_at == last.search.finished_at else last


def read_last_run(params: Params) -> RunFacts:
    """The facts the last search recorded (only its search part: a run's sync, ablation and wall
    time belong to that run), or empty facts when the study never ran."""
    try:
        recorded = RunFacts.from_dict(json.loads((params.study_dir / LAST_RUN).read_text()))
    except (FileNotFoundError, json.JSONDecodeError, TypeError, ValueError):
        return RunFacts()
    return RunFacts(search=recorded.search, provenance=recorded.provenance)
