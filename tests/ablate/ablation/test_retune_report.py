"""A re-tuned ablation in the report: the fixed analysis (the tuned baseline's hyperparameters in
every arm) beside the re-tuned one, analysed from known effects: removing batchnorm costs 3 points
with the baseline's learning rate and nothing once its arm re-tunes it; removing residual costs 2
points either way."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from ablate.ablation.analysis import AblationAnalysis, analyze_ablation
from ablate.ablation.design import Arm
from ablate.ablation.retune import RETUNED
from ablate.ablation.retune_analysis import RETUNE_COLUMNS, ArmRetune, RetunedAblation, analyze_retuned
from ablate.ablation.retune_report import (
    retuned_markdown,
    retuned_summary,
    write_retuned_files,
)
from ablate.ablation.retune_text import retune_paragraph
from ablate.ablation.runs import RUNS, write_design
from ablate.config.load import parse_params
from ablate.report.build import _ablation, _retuned
from ablate.report.model import ReportInput
from ablate.report.write import write_report
from ablate.vocab.facts import RunFacts
from ablate.vocab.params import Params

pytestmark = [
    pytest.mark.filterwarnings("error"),
    pytest.mark.filterwarnings("default::pytest.PytestUnraisableExceptionWarning"),
]

SEEDS = [11, 12, 13, 14, 15]
COMPONENTS = ["batchnorm", "residual"]
KEPT = "The ablated arms keep the tuned baseline's other hyperparameters (they are not retuned)"


def record(
    effects: dict[str, float], knobs: tuple[dict, ...], base: float = 0.93
) -> tuple[dict[str, Any], pd.DataFrame]:
    """What the ablation step records (design.json, runs.csv) of a leave-one-out ablation of batchnorm
    and residual over 5 paired seeds: each arm's value is ``base`` plus its effect, a per-seed term
    the pairing removes, and a small noise of its own. ``knobs``: the searched knobs of baseline,
    -batchnorm and -residual, in that order."""
    on = {c: True for c in COMPONENTS}
    arms = [Arm("baseline", "baseline", {**knobs[0], **on}, present=frozenset(COMPONENTS))]
    for c, own in zip(COMPONENTS, knobs[1:]):
        present = frozenset(COMPONENTS) - {c}
        arms.append(Arm(f"-{c}", "ablated", {**own, **on, c: False}, present=present, reference="baseline"))
    design = {
        "policy": "loco",
        "arms": [a.to_dict() for a in arms],
        "comparisons": [[a.name, "baseline"] for a in arms[1:]],
        "seeds": SEEDS,
        "alpha": 0.05,
        "components": COMPONENTS,
        "min_effect": 0.01,
        "baseline_from": "best trial 7 of the search",
        "best_value": 0.935,
    }
    rows = [
        {
            "arm": a.name,
            "seed": s,
            "status": "complete",
            "val_accuracy": base
            + effects.get(a.name, 0.0)
            + np.random.default_rng([s]).normal(scale=0.01)
            + np.random.default_rng([s, i]).normal(scale=0.002),
        }
        for i, a in enumerate(arms)
        for s in SEEDS
    ]
    return design, pd.DataFrame(rows)


def analysis(effects: dict[str, float], knobs: tuple[dict, ...], base: float = 0.93) -> AblationAnalysis:
    return analyze_ablation(*record(effects, knobs, base), "val_accuracy", "maximize")


TUNED = {"lr": 0.01, "dropout": 0.1}
FIXED_EFFECTS = {"-batchnorm": -0.031, "-residual": -0.02}
FIXED = analysis(FIXED_EFFECTS, (TUNED, TUNED, TUNED))
RETUNED_KNOBS = ({"lr": 0.008, "dropout": 0.1}, {"lr": 0.002, "dropout": 0.3}, TUNED)
OVERTURNED = {"-batchnorm": -0.001, "-residual": -0.021}  # batchnorm's cost was its arm's learning rate


def retuned(effects: dict[str, float]) -> RetunedAblation:
    return analyze_retuned(FIXED, analysis(effects, RETUNED_KNOBS, base=0.928), ["lr", "dropout"], 20)


def test_retune_csv_flags_the_arm_whose_verdict_re_tuning_overturns(tmp_path: Path) -> None:
    r = retuned(OVERTURNED)
    names = write_retuned_files(tmp_path, r, "s")
    table = pd.read_csv(tmp_path / names["retune_csv"])
    table = table.fillna({c: "" for c in ("verdict_fixed", "verdict_retuned", "retuned_changes")})
    assert list(table.columns) == RETUNE_COLUMNS
    assert list(table["arm"]) == ["baseline", "-batchnorm", "-residual"]
    assert list(table["verdict_fixed"]) == ["", "matters", "matters"]
    assert list(table["verdict_retuned"]) == ["", "negligible", "matters"]
    assert list(table["verdicts_differ"]) == [False, True, False]
    # What re-tuning changed against what each arm ran with in the fixed analysis.
    assert list(table["retuned_changes"]) == ["lr 0.01 → 0.008", "lr 0.01 → 0.002; dropout 0.1 → 0.3", ""]
    assert json.loads(table["retuned_config"][1]) == {"lr": 0.002, "dropout": 0.3, "batchnorm": False, "residual": True}
    # Each side's Δ is its own table's cell: the fixed one against the tuned baseline, the re-tuned one
    # against the re-tuned baseline.
    assert table["delta_fixed"][1] == pytest.approx(FIXED.table["delta"][1])
    assert table["delta_retuned"][1] == pytest.approx(r.retuned.table["delta"][1])
    assert table["delta_fixed"][1] < -0.02 and abs(table["delta_retuned"][1]) < 0.005
    assert table["delta_retuned_ci_low"][2] < table["delta_retuned"][2] < table["delta_retuned_ci_high"][2]
    # The re-tuned analysis's own files, in retuned/.
    assert (tmp_path / "retuned" / "ablation.csv").exists() and (tmp_path / "retuned" / "forest.png").exists()
    assert pd.read_csv(tmp_path / "retuned" / "ablation.csv")["verdict"].tolist()[1:] == ["negligible", "matters"]


def test_a_knob_an_arm_lacks_shows_as_a_dash() -> None:
    r = analyze_retuned(FIXED, analysis({}, ({"lr": 0.01}, TUNED, TUNED)), ["lr", "dropout"], 5)
    assert r.arms[0] == ArmRetune(
        "baseline", {"lr": 0.01, "batchnorm": True, "residual": True}, (("dropout", 0.1, "–"),)
    )
    assert r.arms[0].changes_text() == "dropout 0.1 → –"
    assert r.arms[1].changes_text() == ""


def test_the_paragraph_states_the_budget_and_names_the_arm_whose_verdicts_differ() -> None:
    text = retune_paragraph(retuned(OVERTURNED))
    assert "3 arms × 20 search trials = 60 trials, then 15 (arm, seed) trials (the fixed analysis ran 15)" in text
    assert (
        "Removing batchnorm matters with the baseline's hyperparameters (Δ -3.09 points) but is negligible "
        "re-tuned (Δ -0.09 points; its search moved lr 0.01 → 0.002; dropout 0.1 → 0.3; re-tuning moved its "
        "mean by +2.80 points and baseline's by -0.20 points); the two Δs differ by +3.00 points (95% CI 3.00 to "
        "3.00; paired over 5 seeds, p (Holm) < 0.001)." in text
    )
    assert "Removing residual" not in text
    assert "The other arm reaches the same verdict both ways." in text
    assert "the baseline's mean val_accuracy over the seeds is 93.07%, against 93.27%" in text


def test_when_re_tuning_changes_no_verdict_the_report_says_they_hold() -> None:
    r = retuned({"-batchnorm": -0.03, "-residual": -0.021})
    assert not r.table["verdicts_differ"].any()
    assert "Every arm reaches the same verdict both ways (2 of 2)" in retune_paragraph(r)
    assert retuned_summary(r) == "re-tuned (20 search trials per arm): every arm's verdict holds (2 arms)"


def test_the_summary_line_names_the_overturned_verdict() -> None:
    r = retuned(OVERTURNED)
    assert retuned_summary(r) == (
        "re-tuned (20 search trials per arm): 1 of 2 arms' verdicts differ (-batchnorm matters → negligible)"
    )


def test_the_figure_draws_both_deltas_of_every_arm_and_marks_the_one_that_differs(tmp_path: Path) -> None:
    from ablate.ablation.retune_report import retune_figure

    r = retuned(OVERTURNED)
    fig = retune_figure(r)
    (ax,) = [a for a in fig.axes if a.get_xlabel()]
    gids = [artist.get_gid() for artist in [*ax.lines, *ax.patches]]
    assert gids.count("fixed") == 2 and gids.count("retuned") == 2
    assert gids.count("differ") == 1 and gids.count("margin") == 1
    bold = [t.get_text() for t in ax.get_yticklabels() if t.get_fontweight() == "bold"]
    assert bold == ["-batchnorm"]
    write_retuned_files(tmp_path, r, "s")
    assert (tmp_path / "retune.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_sections_show_both_analyses_and_the_fixed_one_points_to_the_re_tuned() -> None:
    r = retuned(OVERTURNED)
    md = retuned_markdown(r, {"": ["forest.png", "retune.png"], "retuned": ["retuned/forest.png"]})
    fixed, rest = md.split("## Re-tuned ablation (20 search trials per arm)", 1)
    comparison, own = rest.split("## Re-tuned: ablation (loco)", 1)
    assert KEPT not in md
    assert "the re-tuned ablation below gives every arm, the baseline included, a search of its own" in fixed
    assert "![forest](forest.png)" in fixed and "retune.png" not in fixed
    row = "| -batchnorm | -3.09 [-3.36, -2.82] | matters | -0.09 [-0.36, +0.18] | negligible | **yes** |"
    assert row in " ".join(comparison.split())  # the table's cells, its padding collapsed
    assert "![retune](retune.png)" in comparison
    # The re-tuned arms ran configurations of their own: no tuned-baseline selection note there.
    assert "The tuned baseline scored 0.935" in fixed and "The tuned baseline scored" not in own
    assert "ran with the best configuration of its own search of 20 trials over lr, dropout" in own
    assert "![forest](retuned/forest.png)" in own


def test_the_report_folder_carries_the_re_tuned_ablation(tmp_path: Path) -> None:
    r = retuned(OVERTURNED)
    trials = pd.DataFrame(columns=["number", "state", "val_accuracy"])
    inp = ReportInput("s", "val_accuracy", "maximize", trials, (), RunFacts(), search=False, ablation=FIXED, retuned=r)
    paths = write_report(tmp_path / "r", inp)
    assert {"retune_csv", "retune", "retuned/ablation_csv", "retuned/forest", "ablation_csv", "forest"} <= set(paths)
    metrics = json.loads(paths["metrics"].read_text())
    assert metrics["retuned"]["verdicts_differ"] == 1
    assert metrics["retuned"]["arms"]["-batchnorm"]["verdict"] == "negligible"
    assert metrics["ablation"]["-batchnorm"]["verdict"] == "matters"
    md, page = paths["markdown"].read_text(), paths["html"].read_text()
    assert md.index("## Ablation (loco)") < md.index("## Re-tuned ablation") < md.index("## Re-tuned: ablation")
    assert "![retune](retune.png)" in md and "![forest](retuned/forest.png)" in md
    assert "<h2>Re-tuned ablation (20 search trials per arm)</h2>" in page
    assert '<img alt="retune" src="retune.png">' in page
    assert "Removing batchnorm matters with the baseline's hyperparameters" in page
    # The fixed ablation's own ablation.md points to the re-tuned one as well.
    assert "the re-tuned ablation below" in (tmp_path / "r" / "ablation.md").read_text()


def params_with_retune(data: Path, retune: bool = True) -> Params:
    raw = {
        "study": {"name": "tricks", "seed": 0, "metric": "val_accuracy", "direction": "maximize"},
        "data": {"source": "sklearn:digits"},
        "trial": {"entrypoint": "ablate.models.mlp:train", "options": {"batchnorm": True, "residual": True}},
        "search": {
            "sampler": "random",
            "n_trials": 4,
            "space": {
                "lr": {"type": "float", "low": 1e-3, "high": 0.1},
                "dropout": {"type": "float", "low": 0, "high": 0.4},
            },
        },
        "ablation": {
            "baseline": "best",
            "seeds": 5,
            "min_effect": 0.01,
            "components": {c: {"params": {c: False}} for c in COMPONENTS},
            **({"retune": {"n_trials": 20}} if retune else {}),
        },
        "paths": {"data": str(data)},
    }
    return parse_params(raw, "p.yaml")


def test_the_report_reads_the_re_tuned_record_beside_the_fixed_one(tmp_path: Path) -> None:
    params = params_with_retune(tmp_path)
    write_record(params.ablation_dir, *record(FIXED_EFFECTS, (TUNED, TUNED, TUNED)))
    assert _retuned(params, _ablation(params)) is None  # before the re-tuned ablation first ran
    write_record(params.ablation_dir / RETUNED, *record(OVERTURNED, RETUNED_KNOBS, base=0.928))
    r = _retuned(params, _ablation(params))
    assert r is not None and r.n_trials == 20 and r.knobs == ("lr", "dropout")
    assert list(r.table["verdicts_differ"]) == [False, True, False]
    assert r.fixed.best_value == 0.935 and r.retuned.best_value is None
    assert _retuned(params_with_retune(tmp_path, retune=False), _ablation(params)) is None


def write_record(folder: Path, design: dict[str, Any], runs: pd.DataFrame) -> None:
    write_design(folder, design)
    runs.to_csv(folder / RUNS, index=False)


def test_each_arm_s_shift_between_the_two_deltas_is_scipy_s_paired_t_test_with_holm_across_arms() -> None:
    from scipy import stats as scipy_stats
    from statsmodels.stats.multitest import multipletests

    design, runs = record(OVERTURNED, RETUNED_KNOBS, base=0.928)
    runs["val_accuracy"] += [np.random.default_rng([7, i]).normal(scale=0.004) for i in range(len(runs))]
    r = analyze_retuned(FIXED, analyze_ablation(design, runs, "val_accuracy", "maximize"), ["lr", "dropout"], 20)
    table = r.table.set_index("arm")
    fixed_runs = FIXED.runs.pivot(index="seed", columns="arm", values="val_accuracy")
    tuned_runs = runs.pivot(index="seed", columns="arm", values="val_accuracy")
    raw = []
    for arm in ("-batchnorm", "-residual"):
        d_fixed = (fixed_runs[arm] - fixed_runs["baseline"]).to_numpy()
        d_tuned = (tuned_runs[arm] - tuned_runs["baseline"]).to_numpy()
        test = scipy_stats.ttest_rel(d_tuned, d_fixed)
        raw.append(test.pvalue)
        assert table.loc[arm, "shift"] == pytest.approx(float(np.mean(d_tuned - d_fixed)))
        assert table.loc[arm, "p_shift"] == pytest.approx(test.pvalue)
        low, high = test.confidence_interval(0.95)
        assert (table.loc[arm, "shift_ci_low"], table.loc[arm, "shift_ci_high"]) == pytest.approx((low, high))
        assert table.loc[arm, "n_shift"] == len(SEEDS)
    holm = multipletests(raw, method="holm")[1]
    assert list(table.loc[["-batchnorm", "-residual"], "p_shift_holm"]) == pytest.approx(list(holm))
    # batchnorm's Δ moved by about 3 points, residual's by about none: only the first shift is clear.
    assert table.loc["-batchnorm", "p_shift_holm"] < 0.05 < table.loc["-residual", "p_shift_holm"]
    assert "the two Δs differ by +" in retune_paragraph(r)
