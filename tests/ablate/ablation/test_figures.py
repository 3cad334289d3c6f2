"""Unit tests for ablate.ablation.figures on hand-made statistics frames."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from ablate.ablation.figures import (
    BETTER_COLOR,
    FLAG_COLOR,
    NEGLIGIBLE_COLOR,
    NEUTRAL_COLOR,
    WORSE_COLOR,
    plot_forest,
    plot_interactions,
    plot_waterfall,
)
from tests.ablate.ablation.frames import make_differences, make_factorial, make_steps, make_table

# Every warning is an error here, but not an object of an earlier test in this process that Python
# collects meanwhile (DVC's in-process Repo leaves dulwich's pack files of the project's .git to it).
pytestmark = [
    pytest.mark.filterwarnings("error"),
    pytest.mark.filterwarnings("default::pytest.PytestUnraisableExceptionWarning"),
]
METRIC = "val_accuracy"
ARMS = ["-batchnorm (n=5)", "-label_smoothing (⚠ n=3/5)", "+mixup (n=5)", "-dropout (⚠ n=0/5)"]


def saves_png(fig: Figure, path: Path) -> None:
    fig.savefig(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def texts(fig: Figure) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def by_gid(fig: Figure, gid: str) -> list:
    return [line for line in fig.axes[0].lines if line.get_gid() == gid]


def forest(direction: str = "maximize", table: pd.DataFrame | None = None) -> Figure:
    table = make_table() if table is None else table
    return plot_forest(table, make_differences(), METRIC, direction, 0.05)


def drawn(fig: Figure, dpi: float) -> Figure:
    """Draw the figure at ``dpi`` on an Agg canvas (attached to this figure only) so text extents are real."""
    fig.set_dpi(dpi)
    FigureCanvasAgg(fig).draw()
    return fig


# --------------------------------------------------------------------------------- forest


def test_forest_one_row_per_compared_arm_in_table_order(tmp_path: Path) -> None:
    fig = forest()
    saves_png(fig, tmp_path / "forest.png")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ARMS  # the baseline is not a row
    assert ax.get_ylim() == (3.5, -0.5)  # first arm on top
    # -dropout has no complete seed: its label stays, without a bar or a marker
    assert len(by_gid(fig, "ci")) == 3 and len(by_gid(fig, "mean")) == 3
    assert "no complete seed" in texts(fig)


def test_forest_marks_each_verdict_and_colours_real_effects_by_which_side_is_better() -> None:
    for direction, batchnorm, mixup in (
        ("maximize", WORSE_COLOR, BETTER_COLOR),
        ("minimize", BETTER_COLOR, WORSE_COLOR),
    ):
        colours = [to_hex(line.get_color()) for line in by_gid(forest(direction), "ci")]
        assert colours == [to_hex(batchnorm), to_hex(NEUTRAL_COLOR), to_hex(mixup)]
    markers = [(line.get_marker(), line.get_markerfacecolor() == "white") for line in by_gid(forest(), "mean")]
    assert markers == [("D", False), ("o", True), ("D", False)]  # matters, inconclusive, matters
    table = make_table()
    table.loc[1, "verdict"], table.loc[3, "verdict"] = "small", "negligible"
    lines = by_gid(forest(table=table), "mean")
    assert (lines[0].get_marker(), lines[0].get_markerfacecolor()) == ("D", "white")  # small: open
    assert to_hex(lines[2].get_color()) == to_hex(NEGLIGIBLE_COLOR)


def test_forest_shades_plus_minus_min_effect_in_points() -> None:
    ax = forest().axes[0]
    band = next(p for p in ax.patches if p.get_gid() == "margin")
    xs = [band.get_x(), band.get_x() + band.get_width()]
    assert min(xs) == pytest.approx(-0.5) and max(xs) == pytest.approx(0.5)  # 0.005 = half a point


def test_forest_draws_every_seed_in_its_row() -> None:
    points = [c.get_offsets() for c in forest().axes[0].collections if len(c.get_offsets())]
    assert [len(p) for p in points] == [5, 3, 5]
    for row, p in enumerate(points):
        assert np.all(np.abs(p[:, 1] - row) < 0.2)  # jittered, but within its own row
    np.testing.assert_allclose(sorted(points[2][:, 0]), [0.4, 0.6, 0.8, 1.0, 1.1])  # in points


def test_forest_labels_axis_sides_p_and_flags() -> None:
    fig = forest()
    ax = fig.axes[0]
    assert ax.get_xlabel() == "Δ val_accuracy (points) vs baseline (arm − reference)"
    assert ax.get_title(loc="right") == "better (higher val_accuracy) →" and ax.get_title(loc="left") == ""
    assert forest("minimize").axes[0].get_title(loc="left") == "← better (lower val_accuracy)"
    flagged = [to_hex(t.get_color()) == to_hex(FLAG_COLOR) for t in ax.get_yticklabels()]
    assert flagged == [False, True, False, True]
    right = ax.child_axes[0] if ax.child_axes else next(a for a in fig.axes if a is not ax)
    assert [t.get_text() for t in right.get_yticklabels()] == [
        "<0.001* / 1.000 · matters", "1.000 / 0.400 · inconclusive", "0.009* / 0.700 · matters",
        "n/a / n/a · inconclusive",
    ]  # fmt: skip
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend == [
        "matters (Δ ≠ 0, not within ±min_effect)",
        "inconclusive",
        "per seed",
        "±min_effect (0.50 points): the zone of negligible effects",
    ]


def test_forest_names_each_reference_when_they_differ() -> None:
    table = make_table()
    table.loc[3, "reference"] = "-batchnorm"
    ax = forest(table=table).axes[0]
    assert ax.get_yticklabels()[2].get_text() == "+mixup vs -batchnorm (n=5)"
    assert ax.get_xlabel() == "Δ val_accuracy (points) vs reference (arm − reference)"


def many_arms(count: int) -> pd.DataFrame:
    table = make_table()
    rows = [table.iloc[[3]].assign(arm=f"-layer_{i}_with_a_long_name") for i in range(count - 1)]
    return pd.concat([table.iloc[[0, 1]], *rows], ignore_index=True)


def test_forest_with_30_arms_is_taller_and_its_labels_neither_overlap_nor_fall_off(tmp_path: Path) -> None:
    fig = drawn(forest(table=many_arms(30)), dpi=100)
    assert fig.get_figheight() > 2.5 * forest().get_figheight()
    labels = [t.get_window_extent() for t in fig.axes[0].get_yticklabels()]
    assert len(labels) == 30
    assert all(upper.y0 >= lower.y1 for upper, lower in zip(labels, labels[1:]))  # top to bottom
    page = fig.bbox
    assert all(page.x0 <= b.x0 and b.x1 <= page.x1 and page.y0 <= b.y0 and b.y1 <= page.y1 for b in labels)


def test_forest_without_a_comparison_or_an_estimate_says_so() -> None:
    table = make_table()
    assert "no arm is compared with a reference" in texts(forest(table=table.iloc[[0]]))
    table[["delta", "delta_ci_low", "delta_ci_high"]] = np.nan
    assert "no arm has a complete paired seed" in texts(forest(table=table))


# --------------------------------------------------------------------------------- waterfall


def bars(fig: Figure) -> list[tuple[float, float]]:
    """(bottom, top) of every bar, left to right."""
    rects = [p for p in fig.axes[0].patches if isinstance(p, Rectangle)]
    rects.sort(key=lambda r: r.get_x())
    return [(r.get_y(), r.get_y() + r.get_height()) for r in rects]


def test_waterfall_climbs_from_baseline_to_target_when_maximizing(tmp_path: Path) -> None:
    fig = plot_waterfall(make_steps(), 0.92, METRIC, "maximize")
    saves_png(fig, tmp_path / "waterfall.png")
    levels = bars(fig)
    floor = fig.axes[0].get_ylim()[0]
    expected = [(floor, 0.92), (0.92, 0.95), (0.95, 0.962), (0.962, 0.960), (floor, 0.960)]
    np.testing.assert_allclose(levels, expected, atol=1e-12)
    labels = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert labels == ["baseline", "lr", "batch_size", "dropout", "target"]
    assert {"75%", "30%", "-5%", "0.92", "0.96"} <= set(texts(fig))
    assert "higher is better" in fig.get_suptitle()


def test_waterfall_goes_down_when_minimizing() -> None:
    fig = plot_waterfall(make_steps(), 0.35, "val_loss", "minimize")
    np.testing.assert_allclose(bars(fig)[1:4], [(0.35, 0.32), (0.32, 0.308), (0.308, 0.310)], atol=1e-12)
    assert bars(fig)[-1][1] == pytest.approx(0.31)
    assert "lower is better" in fig.get_suptitle()


def test_waterfall_whiskers_show_each_gain_interval_in_metric_units() -> None:
    fig = plot_waterfall(make_steps(), 0.35, "val_loss", "minimize")
    whiskers = [c.get_segments()[0] for c in fig.axes[0].collections]
    spans = sorted(tuple(sorted(seg[:, 1])) for seg in whiskers)
    expected = sorted([(0.35 - 0.038, 0.35 - 0.022), (0.32 - 0.022, 0.32 - 0.002), (0.308 - 0.005, 0.308 + 0.009)])
    np.testing.assert_allclose(spans, expected, atol=1e-12)


def test_waterfall_step_without_estimate_and_empty_path() -> None:
    steps = make_steps()
    steps.loc[1, ["gain", "gain_ci_low", "gain_ci_high", "share"]] = np.nan
    fig = plot_waterfall(steps, 0.92, METRIC, "maximize")
    assert "n/a" in texts(fig) and "count as 0" in fig.axes[0].get_xlabel()
    assert bars(fig)[-1][1] == pytest.approx(0.948)
    assert "no step" in texts(plot_waterfall(steps.iloc[0:0], 0.92, METRIC, "maximize"))
    assert "the baseline has no complete seed" in texts(plot_waterfall(steps, np.nan, METRIC, "maximize"))


# --------------------------------------------------------------------------------- interactions


def lines_of(ax) -> dict[str, np.ndarray]:
    return {c.get_label(): np.asarray(c.lines[0].get_ydata(), dtype=float) for c in ax.containers}


def test_interactions_one_panel_per_pair_with_cell_means(tmp_path: Path) -> None:
    runs, present = make_factorial(("batchnorm", "dropout", "mixup"))
    fig = plot_interactions(runs, present, ["batchnorm", "dropout", "mixup"], METRIC)
    saves_png(fig, tmp_path / "interactions.png")
    panels = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in panels] == ["batchnorm × dropout", "batchnorm × mixup", "dropout × mixup"]
    assert [ax.get_xlabel() for ax in panels] == ["batchnorm", "batchnorm", "dropout"]
    # Seed offsets 0, .002, .004, .006 average to .003; mixup (+.002) is averaged over, so +.001.
    means = lines_of(panels[0])
    np.testing.assert_allclose(means["dropout removed"], [0.904, 0.934], atol=1e-12)
    np.testing.assert_allclose(means["dropout present"], [0.914, 0.944], atol=1e-12)


def test_interactions_wrap_at_three_columns_and_skip_failed_runs() -> None:
    components = ("batchnorm", "dropout", "a", "b")
    runs, present = make_factorial(components, seeds=2)
    fig = plot_interactions(runs, present, components, METRIC)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 6 and {ax.get_subplotspec().get_geometry()[:2] for ax in visible} == {(2, 3)}
    assert all(np.isfinite(y).all() for ax in visible for y in lines_of(ax).values())


def test_interactions_without_pairs_or_complete_runs_say_so() -> None:
    runs, present = make_factorial()
    assert "an interaction needs at least two components" in texts(plot_interactions(runs, present, ["x"], METRIC))
    runs["status"] = "failed"
    assert "no complete run" in texts(plot_interactions(runs, present, ["batchnorm", "dropout"], METRIC))


def test_no_pyplot_imported() -> None:
    code = "import sys, ablate.ablation.figures; assert 'matplotlib.pyplot' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
