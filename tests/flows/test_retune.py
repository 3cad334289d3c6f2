"""Re-tuned ablation as a user runs it: `ablate run` of a study with `ablation.retune`, on a trial
function where one component only moves the best learning rate (the fixed analysis blames it, the
re-tuned one does not) and another truly matters; the budget said first, the report's two analyses
and their flag, `ablate status`, a rerun, a kill in the middle of the arms' searches, bad input."""

from __future__ import annotations

import json
import signal
import time
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
import yaml

from tests.flows.test_ablation import run
from tests.flows.test_cli import cli
from tests.flows.test_status import status

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_api")]

BUDGET = "re-tune: 3 arms x 5 search trials = 15 trials, then 3 arms x seeds auto (5 + 5 per round, at most 15)"


def retune_study(root: Path, sleep: float = 0.0, **ablation: object) -> Path:
    raw = {
        "study": {"name": "rt", "seed": 0, "metric": "val_accuracy", "direction": "maximize"},
        "data": {"source": "sklearn:digits"},
        "trial": {
            "entrypoint": "tests.flows.trial_fns:retune_effects",
            "options": {"norm": 1, "aug": 1, "sleep": sleep},
        },
        "search": {
            "sampler": "grid",  # every rate once: each arm's search finds its best rate for sure
            "n_trials": 5,
            "space": {"lr": {"type": "categorical", "choices": [0.001, 0.003, 0.01, 0.03, 0.1]}},
        },
        "ablation": {
            "baseline": "best",
            "seeds": "auto",
            "max_seeds": 15,
            "min_effect": 0.01,
            "components": {"norm": {"params": {"norm": 0}}, "aug": {"params": {"aug": 0}}},
            "retune": {"n_trials": 5},
            **ablation,
        },
        "execution": {"workers": 2, "retries": 0},
        "paths": {"data": str(root / "data"), "reports": str(root / "reports")},
    }
    path = root / "rt.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


def executions(root: Path) -> Counter:
    """Every trial execution, by its log (one per study or ablation folder) and trial folder."""
    return Counter(
        (str(log.parent), line.split()[0])
        for log in (root / "data").rglob("executions.log")
        for line in log.read_text().splitlines()
    )


def test_a_component_that_only_moves_the_best_rate_is_flagged_and_one_that_matters_matters_both_ways(
    tmp_path: Path,
) -> None:
    path = retune_study(tmp_path)
    out = run(path)
    lines = out.splitlines()
    assert BUDGET in out
    first_search = next(i for i, ln in enumerate(lines) if ln.startswith("search: study rt,"))
    assert lines.index(next(ln for ln in lines if ln.startswith("re-tune: 3 arms"))) < first_search
    for arm in ("baseline", "-norm", "-aug"):
        assert f"re-tune {arm}: study rt.retune." in out

    report = tmp_path / "reports" / "rt"
    fixed = pd.read_csv(report / "ablation.csv").set_index("arm")
    retuned = pd.read_csv(report / "retuned" / "ablation.csv").set_index("arm")
    # Fixed at the baseline's tuned rate (0.03), removing norm costs a decade of rate: 0.06.
    assert fixed.loc["-norm", "verdict"] == "matters" and fixed.loc["-norm", "delta"] < -0.04
    assert fixed.loc["-norm", "p_holm"] < 0.05
    # Re-tuned, -norm finds its own best rate (0.003) and loses nothing.
    assert retuned.loc["-norm", "verdict"] in ("negligible", "small")
    assert abs(retuned.loc["-norm", "delta"]) < 0.01
    assert fixed.loc["-aug", "verdict"] == retuned.loc["-aug", "verdict"] == "matters"
    design = json.loads((tmp_path / "data" / "ablations" / "rt" / "retuned" / "design.json").read_text())
    rates = {a["name"]: a["params"]["lr"] for a in design["arms"]}
    assert rates == {"baseline": 0.03, "-norm": 0.003, "-aug": 0.03}

    both = pd.read_csv(report / "retune.csv").set_index("arm")
    assert bool(both.loc["-norm", "verdicts_differ"]) and not bool(both.loc["-aug", "verdicts_differ"])
    assert "0.03" in both.loc["-norm", "retuned_changes"] and "0.003" in both.loc["-norm", "retuned_changes"]
    assert (report / "retune.png").stat().st_size > 10_000
    markdown = (report / "report.md").read_text()
    assert "Re-tuned ablation" in markdown and "-norm" in markdown

    counts = executions(tmp_path)
    assert counts and all(n == 1 for n in counts.values()), {k: n for k, n in counts.items() if n > 1}
    shown = status(path).stdout
    assert BUDGET.removeprefix("re-tune: ") in shown
    assert "searches:    baseline 5/5, -norm 5/5, -aug 5/5" in shown
    assert "verdicts:    re-tuned: matters 1 (-aug)" in shown, shown

    out = run(path)  # finished: nothing runs again
    assert executions(tmp_path) == counts


def test_a_kill_in_the_middle_of_the_arms_searches_resumes_and_runs_nothing_twice(tmp_path: Path) -> None:
    path = retune_study(tmp_path, sleep=0.3)
    proc = cli(str(path))
    assert proc.stdout is not None
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if line.startswith("[2/5]") and any(ln.startswith("re-tune -norm:") for ln in seen):
            proc.send_signal(signal.SIGKILL)  # two trials into the second arm's search
            break
    proc.communicate(timeout=60)
    assert any(ln.startswith("re-tune -norm:") for ln in seen), "".join(seen)
    time.sleep(3.0)  # the killed run's workers exit with it
    before = executions(tmp_path)
    assert any("without_norm" in log for log, _ in before)
    shown = status(path).stdout
    assert "searches:    baseline 5/5, -norm " in shown and "re-tuned:    not run yet" in shown, shown

    out = run(path)
    assert "resuming:" in out  # the -norm search's trials in flight at the kill
    counts = executions(tmp_path)
    assert all(n == 1 for n in counts.values()), {k: n for k, n in counts.items() if n > 1}
    assert (tmp_path / "reports" / "rt" / "retune.csv").exists()


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"search": None, "ablation": {"baseline": {"lr": 0.03}}}, "ablation.retune: needs a search: section"),
        ({"ablation": {"retune": {"n_trials": 0}}}, "ablation.retune.n_trials: must be an integer >= 1, but got 0"),
        (
            {"ablation": {"components": {"norm": {"params": {"norm": 0, "lr": 0.003}}}}},
            "ablation.retune: needs a searched knob that no component sets, but the components set every knob of "
            "search.space (lr): nothing is left to re-tune",
        ),
        ({"ablation": {"retune": {"n_trials": 6}}}, "ablation.retune.n_trials: must be <= the grid size 5"),
    ],
    ids=["no-search", "n-trials-0", "nothing-to-tune", "over-the-grid"],
)
def test_bad_retune_input_is_one_line_exit_2_and_writes_nothing(tmp_path: Path, change: dict, expected: str) -> None:
    path = retune_study(tmp_path)
    raw = yaml.safe_load(path.read_text())
    for section, values in change.items():
        if values is None:
            raw.pop(section)
        else:
            raw[section] = {**raw[section], **values}
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    proc = cli(str(path))
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 2, out
    assert out.strip().count("\n") == 0 and expected in out, out
    assert not (tmp_path / "data").exists() and not (tmp_path / "reports").exists()
