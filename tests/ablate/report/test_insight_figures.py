"""The learning curves, parallel coordinates and importance figures, checked by what they draw
(artists, their data and labels), not by pixels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure

from ablate.report.curves_figure import plot_learning_curves
from ablate.report.importance_figure import plot_importance
from ablate.report.model import ParamInfo
from ablate.report.parallel_figure import NA_Y, plot_parallel_coordinates

KNOBS = (
    ParamInfo("lr", "float", log=True),
    ParamInfo("units", "int"),
    ParamInfo("act", "categorical"),
    ParamInfo("momentum", "float"),  # conditional: only some trials have it
)


def trials_frame() -> pd.DataFrame:
    """Eight trials: 5 complete (best #3), 2 pruned, 1 failed; momentum missing in 2 complete ones."""
    rows = [
        (0, "COMPLETE", 0.80, 1e-4, 16, "relu", 0.9),
        (1, "PRUNED", 0.30, 1e-3, 32, "tanh", np.nan),
        (2, "COMPLETE", 0.85, 1e-2, 64, "tanh", np.nan),
        (3, "COMPLETE", 0.95, 1e-3, 32, "gelu", 0.5),
        (4, "FAIL", np.nan, 1e-1, 64, "relu", 0.1),
        (5, "COMPLETE", 0.60, 1e-1, 16, "relu", np.nan),
        (6, "PRUNED", 0.20, 1e-4, 64, "gelu", 0.2),
        (7, "COMPLETE", 0.90, 1e-2, 32, "tanh", 0.0),
    ]
    return pd.DataFrame(rows, columns=["number", "state", "val_accuracy", "lr", "units", "act", "momentum"])


def curves_frame() -> pd.DataFrame:
    """Five steps for complete trials, two for pruned ones, one for the failed one."""
    steps = {0: 5, 1: 2, 2: 5, 3: 5, 4: 1, 5: 5, 6: 2, 7: 5}
    final = trials_frame().set_index("number")["val_accuracy"].fillna(0.1)
    rows = [(n, s, final[n] * s / 5) for n, k in steps.items() for s in range(1, k + 1)]
    return pd.DataFrame(rows, columns=["number", "step", "value"])


def collection(fig: Figure, gid: str, ax: int = 0) -> LineCollection:
    (found,) = [c for c in fig.axes[ax].collections if c.get_gid() == gid]
    return found


def line(fig: Figure, gid: str, ax: int = 0):
    (found,) = [ln for ln in fig.axes[ax].lines if ln.get_gid() == gid]
    return found


# ------------------------------------------------------------------------------ learning curves


def test_curves_draw_one_line_per_trial_by_state_pruned_ending_in_x_and_the_best_on_top() -> None:
    fig = plot_learning_curves(curves_frame(), trials_frame(), "val_accuracy", "maximize")
    assert len(collection(fig, "COMPLETE").get_segments()) == 4  # 5 complete, the best drawn apart
    pruned = collection(fig, "PRUNED").get_segments()
    assert len(pruned) == 2 and all(len(seg) == 2 for seg in pruned)
    assert len(collection(fig, "FAIL").get_segments()) == 1
    best = line(fig, "best")
    assert list(best.get_xdata()) == [1, 2, 3, 4, 5] and best.get_ydata()[-1] == pytest.approx(0.95)
    ends = [ln for ln in fig.axes[0].lines if ln.get_marker() == "x" and len(ln.get_xdata())]
    assert sorted(len(ln.get_xdata()) for ln in ends) == [1, 2]  # x marks: 1 failed, 2 pruned
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels == ["complete (5)", "pruned (2)", "failed (1)", "best (#3)"]
    ax = fig.axes[0]
    assert ax.get_xlabel().startswith("step") and ax.get_ylabel() == "val_accuracy"


def test_curves_best_follows_the_direction() -> None:
    fig = plot_learning_curves(curves_frame(), trials_frame(), "val_accuracy", "minimize")
    assert line(fig, "best").get_ydata()[-1] == pytest.approx(0.60)  # trial 5


def test_curves_add_a_zoomed_panel_when_a_slow_learner_stretches_the_axis() -> None:
    trials = trials_frame()
    final = trials.set_index("number")["val_accuracy"]
    complete = trials.loc[trials["state"] == "COMPLETE", "number"]
    flat = curves_frame()
    flat = flat[flat["number"].isin(complete)].assign(value=lambda c: c["number"].map(final))
    fig = plot_learning_curves(flat, trials, "val_accuracy", "maximize")
    assert len(fig.axes) == 1  # the trials spread over their whole range: nothing to zoom on
    curves = curves_frame()
    curves.loc[curves["number"] != 5, "value"] = 0.9 + curves["value"] / 20  # all but one in 0.9..0.95
    fig = plot_learning_curves(curves, trials, "val_accuracy", "maximize")
    assert len(fig.axes) == 2
    low, high = fig.axes[1].get_ylim()
    # From the 10th percentile of the complete trials' last values (between the slow one and the rest).
    assert 0.6 < low < 0.9 and 0.95 < high < 1.0 and fig.axes[0].get_ylim()[0] < 0.2


# -------------------------------------------------------------------------- parallel coordinates


def test_parallel_draws_one_line_per_complete_trial_best_on_top_and_missing_knobs_at_na() -> None:
    trials = trials_frame()
    fig = plot_parallel_coordinates(trials, "val_accuracy", KNOBS, "maximize")
    paths = collection(fig, "trials").get_segments()
    assert len(paths) == 5 and all(len(p) == 5 for p in paths)  # 4 knobs + the metric
    # Worst first, so the best is drawn last; its colour value is the metric.
    assert list(collection(fig, "trials").get_array()) == [0.60, 0.80, 0.85, 0.90, 0.95]
    by_metric = {p[-1][1]: p for p in paths}  # the metric axis runs from the worst (0) to the best (1)
    trial_5, trial_3 = by_metric[0.0], by_metric[1.0]
    assert trial_5[3][1] == NA_Y  # trial 5 has no momentum: it meets that axis at n/a
    assert list(line(fig, "best").get_ydata()) == [p[1] for p in trial_3]
    # lr on a log scale: 1e-3 is a third of the way from 1e-4 to 1e-1.
    assert trial_3[0][1] == pytest.approx(1 / 3)
    # Categorical: gelu, relu, tanh evenly spaced (alphabetical, as in params.png).
    assert trial_3[2][1] == 0.0 and trial_5[2][1] == 0.5
    ticks = [t.get_text() for t in fig.axes[0].texts]
    assert {"gelu", "relu", "tanh", "n/a"} <= set(ticks) and "0.0001" in ticks
    names = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert names == ["lr (log)", "units", "act", "momentum", "val_accuracy"]
    assert fig.axes[1].get_ylabel() == "val_accuracy"  # the colorbar


def test_parallel_reverses_colours_for_a_minimized_metric_and_handles_a_constant_knob() -> None:
    trials = trials_frame()
    trials["units"] = 32
    fig = plot_parallel_coordinates(trials, "val_accuracy", KNOBS[:3], "minimize")
    paths = collection(fig, "trials").get_segments()
    assert {p[1][1] for p in paths} == {0.5}  # one value: the middle of its axis
    assert list(collection(fig, "trials").get_array())[-1] == pytest.approx(0.60)  # the best, last
    assert collection(fig, "trials").get_cmap().name == "viridis_r"


# ------------------------------------------------------------------------------------ importance


def importance_table() -> pd.DataFrame:
    rows = [
        ("x", 0.7, 0.5, 0.9, "ped_anova", 40),
        ("momentum", 0.2, 0.05, 0.3, "ped_anova", 20),
        ("noise", 0.1, 0.0, 0.2, "ped_anova", 40),
        ("x", 0.9, 0.8, 0.95, "fanova", 40),
        ("noise", 0.1, 0.05, 0.2, "fanova", 40),
    ]
    return pd.DataFrame(rows, columns=["param", "importance", "ci_low", "ci_high", "method", "n_trials"])


def test_importance_bars_are_sorted_with_the_refits_range_and_unrated_knobs_said() -> None:
    fig = plot_importance(importance_table(), "val_accuracy", n_used=40)
    ped, fanova = fig.axes
    assert [t.get_text() for t in ped.get_yticklabels()] == ["x", "momentum", "noise"]  # top to bottom
    bars = [p for p in ped.patches if p.get_gid() == "importance"]
    assert [round(b.get_width(), 2) for b in bars] == [0.7, 0.2, 0.1]
    (whiskers,) = [c for c in ped.collections if isinstance(c, LineCollection)]
    assert [tuple(np.round(seg[:, 0], 2)) for seg in whiskers.get_segments()] == [(0.5, 0.9), (0.05, 0.3), (0.0, 0.2)]
    assert len([p for p in fanova.patches if p.get_gid() == "importance"]) == 2
    assert [t.get_text() for t in fanova.texts] == ["not rated"]  # momentum
    assert ped.get_title().startswith("PED-ANOVA") and fanova.get_title().startswith("fANOVA")
    title = fig.get_suptitle()
    assert (
        "median of 10 refits on random halves of the 40 complete trials" in title and "whisker = their range" in title
    )
