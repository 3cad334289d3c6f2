"""An ablation finds the feature group that carries the signal, and not the noise groups.

Real trials (a logistic regression on bootstrap resamples, seeded per repeat), the real design,
runs and statistics, without the orchestration: over several draws of the data generator, not
one lucky draw.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ablate.ablation.analysis import analyze_ablation
from ablate.ablation.design import PlanContext, repeat_seeds
from ablate.ablation.report import markdown_section
from ablate.ablation.runs import AblationRun, collect_runs, design_record, plan_arms
from ablate.data import prepare_data, read_features
from ablate.trial.entrypoint import code_version
from ablate.trial.execute import execute_trial
from ablate.vocab.ablation import AblationConfig, Component
from ablate.vocab.params import DataConfig
from ablate.vocab.provenance import Provenance
from tests.flows.trial_fns import make_feature_groups_csv

ENTRY = "tests.flows.trial_fns:bootstrap_logreg"
CFG = AblationConfig(
    baseline={"C": 1.0},
    components=(
        Component("signal", features=("sig_*",)),
        Component("noise", features=("noise_*",)),
        Component("junk", features=("junk_*",)),
    ),
    seeds=5,
)


def run_ablation(root: Path, generator_seed: int):
    root.mkdir(parents=True, exist_ok=True)
    make_feature_groups_csv(root / "groups.csv", generator_seed)
    prepared, _ = prepare_data(DataConfig(source=str(root / "groups.csv"), target="label"), 0, root / "prep")
    ctx = PlanContext(CFG, {"C": 1.0}, read_features(prepared.path, prepared.data_hash), "maximize", seed=0)
    run = AblationRun(
        "fg", str(root / "ablation"), ENTRY, code_version(ENTRY), prepared, None, "cpu", True, Provenance()
    )
    arms, seeds = plan_arms(ctx, {}), repeat_seeds(CFG, 0)
    for i, seed in enumerate(seeds):
        for arm in arms:
            execute_trial(run.spec(arm, seed, i))
    runs = collect_runs(run, arms, seeds)
    return analyze_ablation(design_record(ctx, arms, seeds, "the params file"), runs, "val_accuracy", "maximize")


def test_the_signal_group_is_found_and_the_noise_groups_are_not(tmp_path: Path) -> None:
    """Over 8 draws of the data: the signal group's Δ CI excludes 0 with p_holm < alpha every
    time; the noise groups are flagged no more often than Holm's family-wise error rate allows
    (at most 1 of 16 noise arms), and their CIs cover 0 in all but about 5 % of arms."""
    noise_significant = noise_ci_excludes_zero = 0
    for generator_seed in range(1, 9):
        a = run_ablation(tmp_path / str(generator_seed), generator_seed)
        table = a.table.set_index("arm")
        signal = table.loc["-signal"]
        assert signal["delta_ci_high"] < 0 and signal["p_holm"] < CFG.alpha and signal["significant"]
        assert signal["cohen_dz"] < -5  # a large effect, in the direction of the loss
        for noise in ("-noise", "-junk"):
            row = table.loc[noise]
            noise_significant += bool(row["significant"])
            noise_ci_excludes_zero += not (row["delta_ci_low"] <= 0 <= row["delta_ci_high"])
        assert (table["n"] == 5).all() and table.loc["baseline", "test_mean"] > 0.8
    assert noise_significant <= 1
    assert noise_ci_excludes_zero <= 2


def test_failed_and_missing_seeds_are_flagged_not_averaged(tmp_path: Path) -> None:
    """An arm with a failed seed and a missing one: n counts only complete seeds, the note says
    so, its Δ pairs only the seeds complete in both arms, and the report names the arm."""
    a = run_ablation(tmp_path, 1)
    runs = a.runs.copy()
    broken = runs.index[(runs["arm"] == "-noise") & runs["seed"].isin([2, 3])]
    runs.loc[broken[:1], "status"] = "failed"
    runs.loc[broken[1:], "status"] = "missing"
    runs.loc[broken, ["val_accuracy", "test_accuracy"]] = float("nan")
    design = design_record(PlanContext(CFG, {"C": 1.0}, (), "maximize", seed=0), a.arms, a.seeds, "the params file")
    b = analyze_ablation(design, runs, "val_accuracy", "maximize")
    row = b.table.set_index("arm").loc["-noise"]
    assert row["n"] == 3 and row["n_failed"] == 1 and row["n_missing"] == 1
    assert row["note"].startswith("3 of 5 seeds complete (1 failed, 1 missing)")
    assert len(b.differences[b.differences["arm"] == "-noise"]) == 3
    section = markdown_section(b, [])
    assert "**Incomplete arms**" in section and "-noise" in section and "3/5" in section
    assert pd.isna(b.table.set_index("arm").loc["baseline", "test_delta"])  # the reference has none
    assert b.table.set_index("arm").loc["-signal", "test_delta_ci_high"] < 0
