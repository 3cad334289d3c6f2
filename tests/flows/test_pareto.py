"""Several objectives with constraints through ``ablate run``: a bi-objective function whose
Pareto front is known (tests.flows.trial_fns.bi_objective: f2 = 1 - sqrt(f1) where the gap d is
0), searched by random sampling on a real Dask cluster; the reported front must lie on that curve,
and the constraints must exclude exactly the trials that miss them."""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import yaml

from ablate.config.load import load_params
from ablate.study.pareto import dominates
from ablate.study.storage import load_study
from flows.cli import main
from tests.flows.helpers import REPO, deep_update, quick_study, write_params

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_api")]
DIRECTIONS = ("minimize", "minimize")
CONSTRAINTS = ["cost <= 0.8", "cost >= 0.1"]


def bi_objective_study(
    tmp_path: Path, name: str, constraints: list[str], n_trials: int = 20, sleep: float = 0.0
) -> Path:
    changes = deep_update(
        quick_study(n_trials=n_trials),
        {
            "study": {"metric": ["f1", "f2"], "direction": list(DIRECTIONS), "constraints": constraints},
            "trial": {"entrypoint": "tests.flows.trial_fns:bi_objective", "options": {"sleep": sleep}},
        },
    )
    path = write_params(tmp_path, name, changes)
    raw = yaml.safe_load(path.read_text())
    raw["search"]["space"] = {"x": {"type": "float", "low": 0.0, "high": 1.0}, "d": [0.0, 0.5]}  # these alone
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """``ablate run`` in this process: the environment and SIGTERM handler it sets are put back."""
    for key in ("PYTHONWARNINGS", "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "PREFECT_SERVER_ANALYTICS_ENABLED"):
        if key in os.environ:
            monkeypatch.setenv(key, os.environ[key])
        else:
            monkeypatch.delenv(key, raising=False)
    handler = signal.getsignal(signal.SIGTERM)
    yield
    signal.signal(signal.SIGTERM, handler)


def test_the_reported_front_lies_on_the_known_front_and_constraints_exclude_what_they_should(
    tmp_path: Path, cli: None, capsys: pytest.CaptureFixture[str]
) -> None:
    path = bi_objective_study(tmp_path, "zdt", CONSTRAINTS)
    assert main(["run", str(path)]) == 0
    out = capsys.readouterr().out
    report = tmp_path / "reports" / "zdt"
    trials = pd.read_csv(report / "trials.csv")
    front = pd.read_csv(report / "pareto.csv")

    complete = trials[trials["state"] == "COMPLETE"]
    assert len(complete) == 20
    # The constraints: feasible exactly when 0.1 <= cost <= 0.8, as the metric values say.
    assert complete["feasible"].tolist() == complete["cost"].between(0.1, 0.8).tolist()
    assert 0 < (~complete["feasible"]).sum() < 20 and (complete["d"] > 0).any()  # the test has teeth
    # The front: on the analytic curve (so with gap 0), feasible, mutually non-dominated, and
    # every feasible trial with gap 0 is on it (nothing with gap 0 is dominated).
    assert len(front) >= 3
    for _, t in front.iterrows():
        assert t["f2"] == pytest.approx(1 - math.sqrt(t["f1"]), abs=1e-9)
        assert 0.1 <= t["cost"] <= 0.8 and t["cost <= 0.8"] <= 0 and t["cost >= 0.1"] <= 0
    points = front[["f1", "f2"]].to_numpy()
    assert not any(dominates(a, b, DIRECTIONS) for a in points for b in points)
    expected = complete[complete["feasible"] & (complete["d"] == 0.0)]["number"]
    assert sorted(front["number"]) == sorted(expected)
    assert sorted(trials.loc[trials["pareto"], "number"]) == sorted(expected)
    # Trials with gap 0 that miss a constraint: on the curve, so without the constraints they would
    # be on the front; with them, none is.
    excluded = complete[~complete["feasible"] & (complete["d"] == 0.0)]["number"]
    assert len(excluded) > 0 and not set(excluded) & set(front["number"])
    assert f"front:       {len(front)} trial(s) on the Pareto front of f1 (minimize), f2 (minimize): " in out
    assert (report / "pareto.png").stat().st_size > 0
    assert "## Pareto front" in (report / "report.md").read_text()


def test_a_constraint_on_a_metric_the_trial_does_not_return_exits_2_in_one_line(tmp_path: Path) -> None:
    # Trials of 1.5 s: when the first result stops the run, the others are still in flight (and
    # are cancelled without a word). A process of its own: stderr as a user's terminal shows it.
    path = bi_objective_study(tmp_path, "typo", ["cost <= 0.8", "costs >= 0.1"], n_trials=8, sleep=1.5)
    proc = subprocess.run(
        [sys.executable, "-m", "flows.cli", "run", str(path)], cwd=REPO, capture_output=True, text=True
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr.startswith(
        f"ablate: error: {path}: study.constraints[1]: must bound a metric the trial function returns "
        "(cost, f1, f2), but got 'costs >= 0.1' (trial "
    )
    assert proc.stderr.endswith(" returned no costs); correct it, then run again with --restart\n")
    # It asked no more trials after that result; those in flight ended, and are recorded as failed.
    study = load_study(load_params(path))
    states = [t.state.name for t in study.trials]
    assert set(states) == {"FAIL"} and len(states) < 8, states
    assert {t.user_attrs["reason"] for t in study.trials} == {"invalid_metric"}
