"""Pruning through the real flow: Prefect server, Dask LocalCluster workers reporting to the
study's journal, the median pruner stopping bad starts; and resuming a killed pruned search."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pandas as pd
import pytest

from ablate.config.load import load_params
from ablate.study.storage import load_study
from flows.pipeline import study_flow
from tests.flows.helpers import deep_update, quick_study, write_params
from tests.flows.test_cli import PROGRESS, cli

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_api")]

# Which bad starts (x < 0.5) are pruned depends on timing: one that reaches step 1 before any
# trial completed has no median to be compared with. A good start (x >= 0.5) is never pruned.


def pruned_study(n_trials: int, sleep: float) -> dict:
    return deep_update(
        quick_study(n_trials=n_trials),
        {
            "trial": {"entrypoint": "tests.flows.trial_fns:bad_start", "options": {"sleep": sleep}},
            "search": {"pruner": "median", "pruner_options": {"n_startup_trials": 1}},
        },
    )


def test_bad_starts_are_pruned_by_the_median_pruner_on_the_workers(tmp_path: Path) -> None:
    summary = study_flow(load_params(write_params(tmp_path, "pruned", pruned_study(10, 0.5)))).to_record()
    trials = pd.read_csv(tmp_path / "reports" / "pruned" / "trials.csv", keep_default_na=False)
    pruned = trials[trials["state"] == "PRUNED"]
    assert summary["pruned"] == len(pruned) >= 2 and summary["failed"] == 0
    assert (pruned["x"] < 0.5).all() and set(trials[trials["x"] >= 0.5]["state"]) == {"COMPLETE"}
    assert set(pruned["reason"]) == {"pruned"} and set(pruned["error"]) == {""}
    assert (pruned["val_accuracy"] == 0.0).all()  # its value at the step it was stopped
    trials_dir = tmp_path / "data" / "studies" / "pruned" / "trials"
    for n in pruned["number"]:  # its progression is kept, up to the step it was stopped at
        step = json.loads((trials_dir / str(n) / "pruned.json").read_text())["step"]
        history = [json.loads(line) for line in (trials_dir / str(n) / "history.jsonl").read_text().splitlines()]
        # Step 1 unless no trial had completed when it got there (then no median to compare with).
        assert 1 <= step <= 5 and history == [{"step": s, "val_accuracy": 0.0} for s in range(1, step + 1)]
    assert "![curves](curves.png)" in (tmp_path / "reports" / "pruned" / "report.md").read_text()
    run = json.loads((tmp_path / "reports" / "pruned" / "run.json").read_text())
    assert run["provenance"]["pruner"].startswith("median (n_startup_trials=1, n_warmup_steps=0")
    assert run["provenance"]["sampler"] == "random"


def test_a_killed_pruned_search_resumes_without_rerunning_a_pruned_trial(tmp_path: Path) -> None:
    path = write_params(tmp_path, "resume", pruned_study(12, 1.0))
    study_dir = tmp_path / "data" / "studies" / "resume"
    proc = cli(str(path))
    finished = 0
    for line in proc.stdout:
        finished += bool(PROGRESS.match(line))
        if finished == 6:
            proc.send_signal(signal.SIGKILL)
            break
    proc.communicate(timeout=60)
    before = load_study(load_params(path)).trials
    pruned_before = {t.number for t in before if t.state.name == "PRUNED"}
    assert pruned_before  # the resumed run has pruned trials to leave alone

    proc = cli(str(path))
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 0, out
    trials = pd.read_csv(tmp_path / "reports" / "resume" / "trials.csv", keep_default_na=False)
    assert list(trials["number"]) == list(range(12))
    pruned = trials[trials["state"] == "PRUNED"]
    assert pruned_before <= set(pruned["number"]) and set(pruned["reason"]) == {"pruned"}
    ends = (study_dir / "ends.log").read_text().splitlines()
    assert sorted(ends, key=lambda e: int(e.split()[0])) == [
        f"{n} {'pruned' if n in set(pruned['number']) else 'complete'}" for n in range(12)
    ]  # every trial ended exactly once: none pruned twice, none run again after it was pruned
