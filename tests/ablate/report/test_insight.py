"""The report's analysis of a search: importance.csv and its section, every figure captioned,
learning curves, and the tuned configuration's held-out score over the ablation's seeds."""

from __future__ import annotations

import dataclasses
import math
import re
from pathlib import Path

import numpy as np
import optuna
import pandas as pd

from ablate.ablation.analysis import analyze_ablation
from ablate.ablation.design import Arm
from ablate.ablation.report import markdown_section
from ablate.report import insight
from ablate.report.model import ParamInfo, ReportInput
from ablate.report.write import write_report
from ablate.study.curves import learning_curves
from ablate.study.importance import COLUMNS, param_importance
from ablate.vocab.facts import RunFacts

optuna.logging.set_verbosity(optuna.logging.WARNING)
KNOBS = (ParamInfo("x", "float"), ParamInfo("noise", "float", log=True))


def searched(n: int, prune_every: int = 0) -> optuna.Study:
    """A study over x (which decides the value) and a log-scaled noise knob, reporting 3 steps."""
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(seed=0))

    def objective(trial: optuna.Trial) -> float:
        x = trial.suggest_float("x", 0.0, 1.0)
        trial.suggest_float("noise", 1e-3, 1.0, log=True)
        for step in (1, 2, 3):
            trial.report(x * step / 3, step)
        if prune_every and trial.number % prune_every == 0:
            raise optuna.TrialPruned()
        return x + 0.01 * math.sin(trial.number)

    study.optimize(objective, n_trials=n)
    return study


def report_input(study: optuna.Study, tmp: Path, **kw: object) -> ReportInput:
    rows = [
        {"number": t.number, "state": t.state.name, "val_accuracy": t.value, **t.params, "error": ""}
        for t in study.trials
    ]
    return ReportInput(
        study="s",
        metric="val_accuracy",
        direction="maximize",
        trials=pd.DataFrame(rows),
        params=kw.pop("params", KNOBS),
        run=RunFacts(),
        importance=param_importance(study.trials, "maximize"),
        curves=learning_curves(study.trials, tmp / "trials", "val_accuracy"),
        **kw,
    )


def captions(md: str) -> dict[str, str]:
    """Image file -> the italic line that follows it."""
    return dict(re.findall(r"!\[\w+\]\((\w+\.png)\)\n\n\*(.+)\*\n", md))


def test_the_report_has_importance_csv_its_section_and_a_caption_under_every_figure(tmp_path: Path) -> None:
    inp = report_input(searched(24, prune_every=6), tmp_path)
    paths = write_report(tmp_path / "r", inp)
    failed = dataclasses.replace(inp.importance, excluded={"PRUNED": 4, "FAIL": 2})
    table = pd.read_csv(paths["importance_csv"])
    assert list(table.columns) == COLUMNS
    assert sorted(zip(table["method"], table["param"])) == [
        ("fanova", "noise"), ("fanova", "x"), ("ped_anova", "noise"), ("ped_anova", "x"),
    ]  # fmt: skip
    assert (table.groupby("method")["param"].first() == "x").all()  # most important first
    md, page = paths["markdown"].read_text(), paths["html"].read_text()
    shown = ["history.png", "params.png", "parallel.png", "curves.png", "importance.png"]
    assert list(captions(md)) == shown and all(captions(md).values())
    assert page.count("<figcaption>") == 5 and all(f'src="{name}"' in page for name in shown)
    assert "on 20 complete trials (4 pruned left out)" in md
    assert insight.importance_intro(dataclasses.replace(inp, importance=failed)).startswith(
        "Optuna's PED-ANOVA and fANOVA on 20 complete trials (2 failed, 4 pruned left out)"
    )
    section = md.split("## Parameter importance", 1)[1].split("## Trials", 1)[0]
    assert "| knob | PED-ANOVA | fANOVA |" in section
    assert re.search(r"\| x \| 0\.\d{3} \[0\.\d{3}, [01]\.\d{3}\]", section)


def test_too_few_trials_say_so_instead_of_a_figure_and_still_write_the_files(tmp_path: Path) -> None:
    paths = write_report(tmp_path / "r", report_input(searched(6), tmp_path))
    md, page = paths["markdown"].read_text(), paths["html"].read_text()
    expected = "No parameter importance: too few complete trials for parameter importance: 6, at least 20 needed"
    assert expected in md and expected in page
    assert "importance.png" not in md and "importance.png" not in page
    assert paths["importance"].stat().st_size > 0  # DVC declares it: a figure saying why it is empty
    assert list(pd.read_csv(paths["importance_csv"]).columns) == COLUMNS


def test_a_study_whose_trials_reported_no_step_says_there_are_no_learning_curves(tmp_path: Path) -> None:
    study = optuna.create_study(direction="maximize")
    study.optimize(lambda t: t.suggest_float("x", 0.0, 1.0), n_trials=3)
    inp = report_input(study, tmp_path, params=KNOBS[:1])
    assert inp.curves is not None and inp.curves.empty
    md = write_report(tmp_path / "r", inp)["markdown"].read_text()
    assert "No trial reported progress (ctx.report), so there are no learning curves." in md
    assert "curves.png" not in md and (tmp_path / "r" / "curves.png").exists()


def one_arm_ablation(with_test: bool = True, values: tuple = (0.95, 0.96, 0.97)):
    """The tuned baseline alone over 3 seeds: what ``ablation: {baseline: best}`` records."""
    arm = Arm("baseline", "baseline", {"x": 0.3})
    design = {
        "policy": "loco",
        "arms": [arm.to_dict()],
        "comparisons": [],
        "seeds": [1, 2, 3],
        "alpha": 0.05,
        "components": [],
        "baseline_from": "best trial 7 of the search (val_accuracy=0.97)",
        "best_value": 0.97,
    }
    runs = pd.DataFrame(
        {
            "arm": "baseline",
            "seed": [1, 2, 3],
            "status": "complete",
            "val_accuracy": list(values),
            "test_accuracy": [0.94, 0.95, 0.96] if with_test else np.nan,
        }
    )
    return analyze_ablation(design, runs, "val_accuracy", "maximize")


def test_an_accuracy_s_interval_past_1_is_cut_there_and_marked() -> None:
    """wine's tuned MLP: 0.993 [0.974, 1.012] over its seeds; an accuracy cannot pass 1."""
    section = markdown_section(one_arm_ablation(values=(0.98, 1.0, 1.0)), [])
    assert "0.9933 [0.9646, 1†]" in section
    assert "†: the t-interval runs past the share's bound and is cut there" in section


def test_the_best_trial_shows_its_held_out_test_score_over_the_ablation_seeds(tmp_path: Path) -> None:
    inp = report_input(searched(12), tmp_path, ablation=one_arm_ablation())
    paths = write_report(tmp_path / "r", inp)
    md = paths["markdown"].read_text()
    best = md.split("## Best trial", 1)[1].split("## Figures", 1)[0]
    # mean 0.95 +- t(0.975, 2) * 0.01 / sqrt(3) = 0.95 +- 0.02484
    assert (
        "The tuned configuration over 3 repeat seeds (1, 2, 3; not the search's): val_accuracy 0.96 "
        "[0.9352, 0.9848]; held-out test_accuracy 0.95 [0.9252, 0.9748] (mean, 95 % t-interval)." in best
    )
    assert "held-out test_accuracy 0.95 [0.9252, 0.9748]" in paths["html"].read_text()
    # The ablation's own section: the baseline alone, every metric with its interval, no Δ or tests.
    section = md.split("## The tuned model over 3 seeds", 1)[1].split("## Search", 1)[0]
    assert "test_accuracy" in section and "0.95 [0.9252, 0.9748]" in section
    assert "Δ" not in section and "forest.png" not in section


def test_without_such_an_ablation_the_best_trial_says_how_to_get_it(tmp_path: Path) -> None:
    md = write_report(tmp_path / "r", report_input(searched(12), tmp_path))["markdown"].read_text()
    assert "add `ablation: {baseline: best, components: {}}`" in md
    page = (tmp_path / "r" / "index.html").read_text()
    assert "<code>ablation: {baseline: best, components: {}}</code>" in page


def test_the_ablation_figures_have_captions_too() -> None:
    base, ablated = Arm("baseline", "baseline", {"x": 0.3}), Arm("-x", "ablated", {"x": 0.0}, reference="baseline")
    design = {
        "policy": "loco",
        "arms": [base.to_dict(), ablated.to_dict()],
        "comparisons": [["-x", "baseline"]],
        "seeds": [1, 2, 3],
        "alpha": 0.05,
        "components": ["x"],
    }
    runs = pd.DataFrame(
        {
            "arm": ["baseline"] * 3 + ["-x"] * 3,
            "seed": [1, 2, 3] * 2,
            "status": "complete",
            "val_accuracy": [0.95, 0.96, 0.97, 0.90, 0.92, 0.91],
        }
    )
    section = markdown_section(analyze_ablation(design, runs, "val_accuracy", "maximize"), ["forest.png"])
    assert captions(section) == {
        "forest.png": "Each arm's paired difference in val_accuracy from its reference: mean over the seeds with "
        "its 95 % t-interval, marked by verdict, the per-seed differences as points, the band ±min_effect "
        "shaded, Holm's p and the verdict on the right."
    }
