"""Unit tests for the report of several objectives and of constraints (ablate.report.pareto):
pareto.csv, the figure, and the sections of report.md and index.html."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.lines import Line2D

from ablate.report import insight
from ablate.report.markdown import render_markdown
from ablate.report.model import ParamInfo, ReportInput
from ablate.report.pareto import pareto_table, plot_pareto
from ablate.report.write import write_report
from ablate.study.pareto import front_flags
from ablate.vocab.facts import RunFacts, SearchFacts
from ablate.vocab.objectives import Constraint

PARAMS = (ParamInfo("units", "int"), ParamInfo("act", "categorical"))
CONSTRAINT = Constraint("val_loss", "<=", 0.5)


def make_trials(constrained: bool = True) -> pd.DataFrame:
    """Nine trials of accuracy (max) against n_params (min); the loss bound rules out #7, the most
    accurate; #8 failed."""
    rows = [
        # number, state, val_accuracy, n_params, val_loss, units, act
        (0, "COMPLETE", 0.80, 1000.0, 0.40, 8, "relu"),
        (1, "COMPLETE", 0.90, 5000.0, 0.30, 32, "relu"),
        (2, "COMPLETE", 0.85, 8000.0, 0.35, 64, "tanh"),  # dominated by #1
        (3, "COMPLETE", 0.95, 50000.0, 0.20, 256, "relu"),
        (4, "COMPLETE", 0.70, 1000.0, 0.45, 8, "tanh"),  # dominated by #0
        (5, "COMPLETE", 0.92, 20000.0, 0.25, 128, "tanh"),
        (6, "COMPLETE", 0.60, 500.0, 0.48, 4, "relu"),
        (7, "COMPLETE", 0.99, 20000.0, 0.90, 128, "relu"),  # would dominate #3 and #5: infeasible
        (8, "FAIL", np.nan, np.nan, np.nan, 16, "relu"),
    ]
    frame = pd.DataFrame(rows, columns=["number", "state", "val_accuracy", "n_params", "val_loss", "units", "act"])
    frame["error"] = ["ValueError: boom" if row[1] == "FAIL" else "" for row in rows]
    if constrained:
        feasible = [row[4] <= 0.5 if row[1] == "COMPLETE" else None for row in rows]
        frame.insert(2, "feasible", pd.array(feasible, dtype="boolean"))
    frame.insert(2, "pareto", front_flags(frame, ["val_accuracy", "n_params"], ["maximize", "minimize"]))
    return frame


def make_input(trials: pd.DataFrame | None = None, **kw: object) -> ReportInput:
    fields = {
        "other_metrics": ("n_params",),
        "other_directions": ("minimize",),
        "constraints": (CONSTRAINT,),
        "params": PARAMS,
        "run": RunFacts(search=SearchFacts(executed=9, wall_s=3.0)),
        "study_facts": {"complete": 8, "failed": 1, "pruned": 0},
    }
    trials = make_trials() if trials is None else trials
    return ReportInput(study="pareto", metric="val_accuracy", direction="maximize", trials=trials, **(fields | kw))


def test_the_front_table_lists_the_front_best_first_with_constraint_values() -> None:
    table = pareto_table(make_input())
    assert list(table.columns) == ["number", "val_accuracy", "n_params", "val_loss", "val_loss <= 0.5", "units", "act"]
    assert table["number"].tolist() == [3, 5, 1, 0, 6]  # by accuracy, best first; #7 is infeasible
    assert table["val_loss <= 0.5"].tolist() == pytest.approx([-0.3, -0.25, -0.2, -0.1, -0.02])
    assert table.loc[0, "units"] == 256 and table.loc[0, "act"] == "relu"


def test_the_figure_separates_feasible_infeasible_and_the_front() -> None:
    fig = plot_pareto(make_input())
    ax = fig.axes[0]
    assert ax.get_xlabel() == "val_accuracy (maximize: better →)"
    assert ax.get_ylabel() == "n_params (minimize: better ↓)"
    assert ax.get_yscale() == "log" and ax.get_xscale() == "linear"  # 500 to 50,000 parameters
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels == ["dominated (2)", "infeasible (1)", "Pareto front (5)"]
    front = next(line for line in ax.lines if line.get_label() == "Pareto front (5)")
    assert sorted(zip(front.get_xdata(), front.get_ydata())) == [
        (0.6, 500.0),
        (0.8, 1000.0),
        (0.9, 5000.0),
        (0.92, 20000.0),
        (0.95, 50000.0),
    ]
    infeasible = next(line for line in ax.lines if line.get_label() == "infeasible (1)")
    assert (list(infeasible.get_xdata()), infeasible.get_marker()) == ([0.99], "x")
    assert sorted(t.get_text() for t in ax.texts) == ["#0", "#1", "#3", "#5", "#6"]
    # The step line bounds what the front dominates: from each point up to the next one's cost,
    # then across to it (accuracy maximized: the step comes before each point).
    step = next(line for line in ax.lines if line.get_label().startswith("_") and isinstance(line, Line2D))
    assert step.get_drawstyle() == "steps-pre"


def test_three_objectives_are_drawn_by_pairs() -> None:
    trials = make_trials()
    inp = make_input(trials, other_metrics=("n_params", "val_loss"), other_directions=("minimize", "minimize"))
    fig = plot_pareto(inp)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert [(ax.get_xlabel().split()[0], ax.get_ylabel().split()[0]) for ax in visible] == [
        ("val_accuracy", "n_params"),
        ("val_accuracy", "val_loss"),
        ("n_params", "val_loss"),
    ]
    assert "by pairs" in fig.get_suptitle()


def test_write_report_adds_pareto_csv_and_png_and_a_front_section(tmp_path: Path) -> None:
    inp = make_input()
    paths = write_report(tmp_path / "r", inp)
    assert {"pareto", "pareto_csv"} <= set(paths)
    csv = pd.read_csv(paths["pareto_csv"])
    assert csv["number"].tolist() == [3, 5, 1, 0, 6]
    assert pd.read_csv(paths["csv"])["pareto"].tolist() == inp.trials["pareto"].tolist()
    md = paths["markdown"].read_text()
    assert md.startswith("# Study `pareto`: val_accuracy (maximize), n_params (minimize)\n")
    assert "## Pareto front" in md and "## Best trial" not in md
    assert (
        "5 of 7 feasible complete trials are on the Pareto front of val_accuracy (maximize), n_params (minimize); "
        "pareto.csv lists them." in md
    )
    assert "1 of 8 complete trials miss a constraint (val_loss <= 0.5) and are left out of the front." in md
    assert "| number | val_accuracy | n_params | val_loss | val_loss <= 0.5 | units | act |" in md
    assert md.index("![pareto](pareto.png)") < md.index("![history](history.png)")
    page = paths["html"].read_text()
    assert "<h2>Pareto front</h2>" in page and 'src="pareto.png"' in page
    metrics = json.loads(paths["metrics"].read_text())
    assert metrics["pareto_front"] == [0, 1, 3, 5, 6] and metrics["feasible"] == 7
    assert metrics["best_value"] is None


def test_the_trials_table_lists_the_front_first_then_feasible_then_infeasible() -> None:
    md = render_markdown(make_input(), [])
    table = md[md.index("## Trials") :]
    rows = [line.split("|")[1].strip() for line in table.splitlines() if line.startswith("| ") and "number" not in line]
    assert rows == ["3", "5", "1", "0", "6", "2", "4", "7", "8"]


def test_one_objective_with_constraints_names_the_best_feasible_trial(tmp_path: Path) -> None:
    trials = make_trials().drop(columns="pareto")
    inp = make_input(trials, other_metrics=(), other_directions=())
    md = render_markdown(inp, [])
    assert "Trial **3**: val_accuracy = **0.95**" in md  # not #7, which misses the constraint
    assert "1 of 8 complete trials miss a constraint (val_loss <= 0.5) and are left out of the best trial's" in md
    paths = write_report(tmp_path / "r", inp)
    assert "pareto" not in paths and json.loads(paths["metrics"].read_text())["best_trial"] == 3


def test_no_feasible_trial_is_said_as_such_not_as_no_trial_completed(tmp_path: Path) -> None:
    trials = make_trials().drop(columns="pareto")
    trials["feasible"] = pd.array([False if s == "COMPLETE" else None for s in trials["state"]], dtype="boolean")
    inp = make_input(trials, other_metrics=(), other_directions=())
    paths = write_report(tmp_path / "r", inp)
    md = paths["markdown"].read_text()
    # The parallel figure (which marks the best feasible trial) has nothing to draw: the report
    # shows no placeholder image for it, and its file says why.
    assert "parallel.png" not in md and "params.png" in md
    assert insight.nothing_to_plot(inp) == "no complete trial meets the constraints"  # what their files say
    assert insight.nothing_to_plot(make_input(trials.assign(state="FAIL"))) == "no trial completed"
    assert insight.nothing_to_plot(make_input()) == ""


def test_a_front_with_nothing_complete_still_writes_its_files(tmp_path: Path) -> None:
    trials = make_trials()
    trials["state"] = "FAIL"
    trials["pareto"] = False
    paths = write_report(tmp_path / "r", make_input(trials))
    assert pd.read_csv(paths["pareto_csv"]).empty and paths["pareto"].stat().st_size > 0
    assert "0 of 0 feasible complete trials are on the Pareto front" in paths["markdown"].read_text()


def test_an_outlier_far_from_the_front_is_left_beyond_the_axes_and_counted() -> None:
    trials = make_trials()
    outlier = trials.iloc[[4]].assign(number=9, val_accuracy=0.05, pareto=False)  # a diverged run
    fig = plot_pareto(make_input(pd.concat([trials, outlier], ignore_index=True)))
    ax = fig.axes[0]
    lo, hi = ax.get_xlim()
    assert 0.05 < lo < 0.6 and hi > 0.99  # the whole front and the better side stay in view
    assert "1 trial(s) beyond the axes" in [t.get_text() for t in ax.texts]
