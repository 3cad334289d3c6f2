"""Ablation studies as a user runs them: `ablate run` on a params file with an ablation section,
through the real Prefect API, Dask cluster and trial cache; reruns, more seeds, a kill, and the
designs that need a search first (a path to the tuned ``best``) or all 2^k arms."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
import yaml

from tests.flows.helpers import write_params
from tests.flows.test_cli import cli
from tests.flows.trial_fns import make_feature_groups_csv

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_api")]
PROGRESS = re.compile(r"^\[ *\d+/\d+\] ")
TABLE_COLUMNS = [
    "arm", "n", "mean", "ci_low", "ci_high", "delta", "delta_ci_low", "delta_ci_high",
    "p_value", "p_holm", "significant", "cohen_dz", "test_mean", "note",
]  # fmt: skip


def feature_study(root: Path, seeds: int = 3, sleep: float = 0.0) -> Path:
    make_feature_groups_csv(root / "groups.csv", 1)
    return write_params(
        root,
        "fg",
        {
            "data": {"source": str(root / "groups.csv"), "target": "label", "test_size": 0.25, "val_size": 0.25},
            "trial": {"entrypoint": "tests.flows.trial_fns:bootstrap_logreg", "options": {"C": 1.0, "sleep": sleep}},
            "search": None,
            "ablation": {
                "baseline": {},
                "seeds": seeds,
                "components": {
                    "signal": {"features": ["sig_*"]},
                    "noise": {"features": ["noise_*"]},
                    "junk": {"features": ["junk_*"]},
                },
            },
            "execution": {"workers": 2, "retries": 0},
        },
    )


def executions(root: Path) -> Counter:
    log = root / "data" / "ablations" / "executions.log"
    return Counter(line.split()[0] for line in log.read_text().splitlines()) if log.exists() else Counter()


def run(path: Path, *extra: str) -> str:
    proc = cli(str(path), *extra)
    out, _ = proc.communicate(timeout=600)
    assert proc.returncode == 0, out
    assert "Traceback" not in out
    return out


def test_feature_ablation_reports_reruns_nothing_and_runs_only_new_seeds(tmp_path: Path) -> None:
    path = feature_study(tmp_path, seeds=3)
    out = run(path)
    assert "ablation: study fg, policy loco, 4 arms x 3 seeds (12 trials to run" in out
    lines = [ln for ln in out.splitlines() if PROGRESS.match(ln)]
    assert len(lines) == 12 and any(" -signal seed 1 " in ln for ln in lines)
    assert "ablation:    matters 1 (-signal); inconclusive 2 (-noise, -junk)" in out
    report = tmp_path / "reports" / "fg"
    table = pd.read_csv(report / "ablation.csv")
    assert list(table["arm"]) == ["baseline", "-signal", "-noise", "-junk"]
    assert set(TABLE_COLUMNS) <= set(table.columns)
    assert (table["n"] == 3).all() and table["test_mean"].notna().all()
    for name in ("forest.png", "ablation.md", "ablation.tex", "index.html", "report.md"):
        assert (report / name).stat().st_size > 0, name
    assert "## Ablation (loco)" in (report / "report.md").read_text()
    assert "forest.png" in (report / "index.html").read_text()
    assert all(n == 1 for n in executions(tmp_path).values()) and len(executions(tmp_path)) == 12

    out = run(path)  # a finished ablation runs nothing
    assert "4 arms x 3 seeds all finished; nothing to run" in out
    assert sum(executions(tmp_path).values()) == 12

    out = run(path, "--set", "ablation.seeds=5")  # only the new repeats run
    counts = executions(tmp_path)
    assert sum(counts.values()) == 20 and all(n == 1 for n in counts.values())
    assert "(8 trials to run" in out
    assert (pd.read_csv(report / "ablation.csv")["n"] == 5).all()


# A killed ablation resuming with every arm and seed run once: tests/flows/test_verdicts.py kills one
# in the middle of a round.


def toy_study(root: Path, name: str, ablation: dict, search: dict | None = None) -> Path:
    path = write_params(
        root,
        name,
        {
            "trial": {"entrypoint": "tests.flows.trial_fns:toy3", "options": {}},
            "ablation": ablation,
            "execution": {"workers": 2, "retries": 0},
        },
    )
    raw = yaml.safe_load(path.read_text())
    raw["search"] = search  # the whole section, not merged into digits' space
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


def test_a_factorial_ablation_reports_main_effects_and_interactions(tmp_path: Path) -> None:
    components = {k: {"params": {k: 0}} for k in "abc"}
    path = toy_study(
        tmp_path,
        "fact",
        {"baseline": {"a": 1, "b": 1, "c": 1}, "policy": "factorial", "seeds": 3, "components": components},
    )
    run(path)
    report = tmp_path / "reports" / "fact"
    assert len(pd.read_csv(report / "ablation.csv")) == 8
    assert (report / "interactions.png").exists()
    md = (report / "report.md").read_text()
    assert "### Factorial effects" in md and "a × b" in md


def test_an_ablation_path_from_a_baseline_to_the_tuned_best(tmp_path: Path) -> None:
    space = {k: [0, 1] for k in "abc"}
    path = toy_study(
        tmp_path,
        "path",
        {"baseline": {"a": 0, "b": 0, "c": 0}, "policy": "path", "target": "best", "seeds": 3},
        search={"sampler": "grid", "n_trials": 8, "space": space},
    )
    out = run(path)
    design = json.loads((tmp_path / "data" / "ablations" / "path" / "design.json").read_text())
    steps = [a for a in design["arms"] if a["role"] == "step"]
    assert [a["param"] for a in steps] == ["a", "b", "c"]  # the largest gain first
    assert "best trial" in design["baseline_from"] or "params file" in design["baseline_from"]
    report = tmp_path / "reports" / "path"
    assert (report / "waterfall.png").exists()
    assert "### Ablation path" in (report / "report.md").read_text()
    assert "ablation: study path, policy path" in out
