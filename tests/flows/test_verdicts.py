"""Decisive ablations as a user runs them: `ablate run` with `seeds: auto` and a min_effect, on a
trial function whose components have known effects, through the real Prefect API, Dask cluster
and trial cache; the verdicts, the seeds each arm got, a rerun, and a kill in the middle of a round."""

from __future__ import annotations

import re
import signal
import time
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from tests.flows.helpers import write_params
from tests.flows.test_ablation import PROGRESS, run
from tests.flows.test_cli import cli
from tests.flows.test_status import status

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_api")]


def known_study(root: Path, sleep: float = 0.0, **ablation: object) -> Path:
    return write_params(
        root,
        "known",
        {
            "trial": {"entrypoint": "tests.flows.trial_fns:known_effects", "options": {"sleep": sleep}},
            "search": None,
            "ablation": {
                "baseline": {"a": 1, "b": 1, "c": 1, "d": 1},
                "seeds": "auto",
                "min_effect": 0.01,
                "components": {k: {"params": {k: 0}} for k in "abcd"},
                **ablation,
            },
            "execution": {"workers": 2, "retries": 0},
        },
    )


def executions(root: Path) -> Counter:
    log = root / "data" / "ablations" / "executions.log"
    return Counter(line.split()[0] for line in log.read_text().splitlines()) if log.exists() else Counter()


def test_adaptive_seeds_reach_the_known_verdicts_and_a_rerun_runs_nothing(tmp_path: Path) -> None:
    path = known_study(tmp_path)
    out = run(path)
    table = pd.read_csv(tmp_path / "reports" / "known" / "ablation.csv").set_index("arm")
    verdicts = table["verdict"].dropna().to_dict()
    assert verdicts["-a"] == "matters"  # 3 x min_effect
    assert verdicts["-c"] == verdicts["-d"] == "negligible"  # no effect at all
    assert all(verdicts[arm] not in ("matters", "small") for arm in ("-c", "-d"))
    # -a is settled at the pilot; the reference gets every seed any arm needs.
    assert table.loc["-a", "n"] == 5 and table.loc["baseline", "n"] == table["n"].max()
    assert (table.loc[["-a", "-b", "-c", "-d"], "n_pairs"] <= table.loc["baseline", "n"]).all()
    assert "ablation: look at 5 seeds: 1 matters" in out
    summary = next(line for line in out.splitlines() if line.startswith("ablation:    "))
    assert re.search(r"matters \d \(-a\b", summary) and "negligible 2 (-c, -d)" in summary, summary
    counts = executions(tmp_path)
    assert all(n == 1 for n in counts.values()) and sum(counts.values()) == int(table["n"].sum())
    shown = status(path).stdout
    assert "verdicts:    matters" in shown and "negligible 2 (-c, -d)" in shown
    assert "seeds per arm: baseline" in shown and "-a 5" in shown

    out = run(path)  # a finished adaptive ablation runs nothing
    assert "all finished; nothing to run" in out and sum(executions(tmp_path).values()) == sum(counts.values())
    out = run(path, "--set", "ablation.max_seeds=40")  # every arm has its verdict: nothing more to run
    assert "nothing to run" in out and executions(tmp_path) == counts


def test_a_kill_in_the_middle_of_a_round_resumes_and_runs_every_arm_and_seed_once(tmp_path: Path) -> None:
    path = known_study(tmp_path, sleep=0.3)
    proc = cli(str(path))
    finished, looked = 0, False
    for line in proc.stdout:
        looked |= line.startswith("ablation: look at 5 seeds")
        finished += bool(PROGRESS.match(line)) and looked
        if finished == 3:  # three trials into the second round
            proc.send_signal(signal.SIGKILL)
            break
    proc.communicate(timeout=60)
    time.sleep(3.0)  # the killed run's workers exit with it
    before = executions(tmp_path)
    assert 25 <= sum(before.values()) < 60, before
    # What the pilot round decided, as `ablate status` shows it while the study is unfinished.
    shown = status(path).stdout
    assert "verdicts:    matters 1 (-a); inconclusive 3" in shown, shown
    run(path)
    counts = executions(tmp_path)
    assert all(n == 1 for n in counts.values()), {k: n for k, n in counts.items() if n > 1}
    table = pd.read_csv(tmp_path / "reports" / "known" / "ablation.csv").set_index("arm")
    assert sum(counts.values()) == int(table["n"].sum())
    assert table.loc["-a", "verdict"] == "matters"
