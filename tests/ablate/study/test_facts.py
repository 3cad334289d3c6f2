"""Unit tests for ablate.vocab.facts and ablate.study.last_run: a run's facts, their record, and the last
search kept with the study."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from ablate.config.load import load_params
from ablate.study.last_run import LAST_RUN, read_last_run, reported_run, write_last_run
from ablate.vocab.facts import AblationFacts, RunFacts, SearchFacts, SyncResult
from ablate.vocab.provenance import Provenance

ROOT = Path(__file__).resolve().parents[3]


def full_facts() -> RunFacts:
    return RunFacts(
        search=SearchFacts(executed=7, cached=2, recovered=1, requeued=3, wall_s=4.5),
        provenance=Provenance(git_commit="abc", versions={"optuna": "5.0"}),
        ablation=AblationFacts(executed=10, cached=5, failed=1, arms=4, wall_s=9.0, seeds=5),
        sync=SyncResult("pushed", remote="local"),
        wall_s=20.0,
    )


def test_facts_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        full_facts().wall_s = 1.0  # type: ignore[misc]


def test_the_record_has_the_flat_keys_scripts_read_and_round_trips() -> None:
    facts = full_facts()
    record = facts.to_dict()
    assert record["executed"] == 7 and record["search_wall_s"] == 4.5 and record["wall_s"] == 20.0
    ablation = {"executed": 10, "cached": 5, "failed": 1, "arms": 4, "seeds": 5, "ablation_wall_s": 9.0}
    assert record["ablation"] == ablation
    assert record["sync"]["status"] == "pushed"
    assert RunFacts.from_dict(json.loads(json.dumps(record))) == facts


def test_empty_facts_leave_out_what_did_not_happen() -> None:
    record = RunFacts().to_dict()
    assert record == {"executed": 0, "cached": 0, "recovered": 0, "requeued": 0, "provenance": {}}


def test_the_last_search_is_kept_without_the_runs_own_sync_ablation_and_wall(tmp_path: Path) -> None:
    params = load_params(ROOT / "params" / "digits.yaml", [f"paths.data={tmp_path}"])
    assert read_last_run(params) == RunFacts()  # never ran
    ended = datetime(2026, 11, 30, 23, 5, 7, tzinfo=timezone(timedelta(hours=1)))
    written = write_last_run(params, full_facts(), now=ended)
    assert written.search.finished_at == "2026-11-30T22:05:07+00:00"  # UTC, to the second
    back = read_last_run(params)
    assert back.search == dataclasses.replace(full_facts().search, finished_at="2026-11-30T22:05:07+00:00")
    assert back.provenance == full_facts().provenance
    assert back.sync is None and back.ablation is None and back.wall_s is None
    (params.study_dir / LAST_RUN).write_text("{not json")
    assert read_last_run(params) == RunFacts()  # a torn file is no facts, not a crash


def test_a_report_of_the_last_run_keeps_that_runs_facts_from_its_run_json(tmp_path: Path) -> None:
    # `ablate report` of an unchanged study (after a dvc pull) renders the run its run.json records,
    # sync, ablation and wall time included, so it writes the very same bytes.
    params = load_params(ROOT / "params" / "digits.yaml", [f"paths.data={tmp_path}", f"paths.reports={tmp_path}"])
    last = write_last_run(params, full_facts(), now=datetime(2026, 12, 1, tzinfo=timezone.utc))
    assert reported_run(params, read_last_run(params)) == read_last_run(params)  # no report yet
    params.report_dir.mkdir(parents=True)
    (params.report_dir / "run.json").write_text(json.dumps(last.to_dict()))
    assert reported_run(params, read_last_run(params)) == last
    # A later search: the report is of another run, so the study's last facts stand.
    later = write_last_run(params, full_facts(), now=datetime(2026, 12, 2, tzinfo=timezone.utc))
    assert reported_run(params, read_last_run(params)).search == later.search
    assert reported_run(params, read_last_run(params)).sync is None
