"""An ablation across data sets as a user runs it: `ablate run` of a study with data.sources (five
data sets scikit-learn ships or generates), `seeds: auto`, on a trial function where component a
helps on every data set and b on none; each data set's verdicts, the ranks, the diagram, the
hierarchical test, `ablate status`, a rerun, and bad input."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
import yaml
from scipy import stats

from tests.flows.test_ablation import run
from tests.flows.test_cli import cli
from tests.flows.test_status import status

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_api")]

SOURCES = {
    "digits": "sklearn:digits",
    "wine": "sklearn:wine",
    "breast_cancer": "sklearn:breast_cancer",
    "iris": "sklearn:iris",
    "synthetic": "sklearn:make_classification",
}


def across_study(root: Path, **changes: object) -> Path:
    raw = {
        "study": {"name": "across", "seed": 0, "metric": "val_accuracy", "direction": "maximize"},
        "data": {"sources": SOURCES},
        "trial": {"entrypoint": "tests.flows.trial_fns:across_effects"},
        "ablation": {
            "baseline": {"a": 1, "b": 1},
            "seeds": "auto",
            "min_effect": 0.01,
            "components": {"a": {"params": {"a": 0}}, "b": {"params": {"b": 0}}},
        },
        "execution": {"workers": 2, "retries": 0},
        "paths": {"data": str(root / "data"), "reports": str(root / "reports")},
        **changes,
    }
    path = root / "across.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


@pytest.mark.stan
def test_a_component_that_helps_everywhere_ranks_apart_and_one_that_helps_nowhere_is_negligible(
    tmp_path: Path,
) -> None:
    path = across_study(tmp_path)
    out = run(path)
    for name in SOURCES:
        assert f"ablation: study across on data set {name}, policy loco, 3 arms" in out
    report = tmp_path / "reports" / "across"
    table = pd.read_csv(report / "ablation.csv")
    assert list(table.columns[:2]) == ["dataset", "arm"] and set(table["dataset"]) == set(SOURCES)
    verdicts = table.set_index(["dataset", "arm"])["verdict"]
    assert all(verdicts[(d, "-a")] == "matters" for d in SOURCES)
    assert all(verdicts[(d, "-b")] in ("negligible", "inconclusive") for d in SOURCES)

    across = pd.read_csv(report / "across.csv").set_index("arm")
    # Friedman's test in across.csv is scipy's on the per-data-set means that ablation.csv holds.
    means = table.pivot(index="dataset", columns="arm", values="mean")
    friedman = stats.friedmanchisquare(*(means[arm] for arm in means.columns))
    assert across["friedman_chi2"].iloc[0] == pytest.approx(friedman.statistic, rel=1e-9)
    assert across["friedman_p"].iloc[0] == pytest.approx(friedman.pvalue, rel=1e-9)
    assert across.loc["-a", "mean_rank"] == 3.0  # last on every data set
    assert across.loc["-a", "mean_rank"] > across.loc[["baseline", "-b"], "mean_rank"].max()
    assert across.loc["-a", "significant"]  # Siegel-Castellan against the baseline, Holm
    # The component helps: without it the arm is worse; b's arm is practically the baseline.
    assert across.loc["-a", "p_worse"] > 0.95 and across.loc["-a", "verdict"] == "matters"
    assert across.loc["-b", "p_rope"] > across.loc["-b", "p_worse"] + across.loc["-b", "p_better"]
    for name in ("cd.png", "heatmap.png", "across.md", *(f"{d}/forest.png" for d in SOURCES)):
        assert (report / name).stat().st_size > 1000, name
    md = (report / "report.md").read_text()
    assert "## Across 5 data sets" in md and "![cd](cd.png)" in md and "![forest](wine/forest.png)" in md
    assert "-a scored lower than the baseline on 5 of 5 data sets" in md
    html = (report / "index.html").read_text()
    assert 'src="cd.png"' in html and 'src="iris/forest.png"' in html
    # Each data set's trials in a folder of its name, each run once.
    log = tmp_path / "data" / "ablations" / "across" / "executions.log"
    counts = Counter(line.split()[0] for line in log.read_text().splitlines())
    assert set(k.split("/")[0] for k in counts) == set(SOURCES) and max(counts.values()) == 1

    shown = status(path).stdout
    assert "on 5 of 5 data sets" in shown and "verdicts:    iris: matters 1 (-a)" in shown
    out = run(path)  # a finished ablation on every data set runs nothing
    assert out.count("all finished; nothing to run") == len(SOURCES)
    assert sum(Counter(line.split()[0] for line in log.read_text().splitlines()).values()) == sum(counts.values())


@pytest.mark.parametrize(
    ("data", "ablation", "message"),
    [
        (
            {"source": "sklearn:wine", "sources": SOURCES},
            None,
            "data.sources: must not be given with data.source",
        ),
        ({"sources": {"wine": "sklearn:wine"}}, None, "data.sources: must name 2 or more data sets"),
        (
            {"sources": {**SOURCES, "gone": "missing.csv"}},
            None,
            "data.sources.gone: must be an existing file, but missing.csv was not found",
        ),
        (
            {"sources": SOURCES},
            {"baseline": "best"},
            "ablation.baseline",
        ),
    ],
)
def test_bad_sources_exit_2_with_one_line_and_write_nothing(
    tmp_path: Path, data: dict, ablation: dict | None, message: str
) -> None:
    path = across_study(tmp_path)
    raw = yaml.safe_load(path.read_text())
    raw["data"] = data
    if ablation:
        raw["ablation"].update(ablation)
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    proc = cli(str(path))
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 2, out
    assert len(out.strip().splitlines()) == 1 and message in out and "Traceback" not in out
    assert not (tmp_path / "data").exists() and not (tmp_path / "reports").exists()


def test_a_target_missing_in_one_source_is_refused(tmp_path: Path) -> None:
    table = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0], "label": [0, 1, 0, 1]})
    table.to_csv(tmp_path / "other.csv", index=False)
    path = across_study(tmp_path)
    raw = yaml.safe_load(path.read_text())
    raw["data"] = {"sources": {"other": str(tmp_path / "other.csv"), "also": str(tmp_path / "other.csv")}}
    raw["data"]["target"] = "y"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    proc = cli(str(path))
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 2 and "data.target: must be a column of" in out and "'y'" in out, out
