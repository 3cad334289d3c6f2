"""What every figure of a report shares, the search's and the ablation's: the resolution, the
colours of a point and of the best one, and a figure that says why there is nothing to draw.

Figures are built on ``matplotlib.figure.Figure`` directly, never through pyplot, so they draw
headless and never change the process-wide backend.
"""

from __future__ import annotations

from matplotlib.axes import Axes
from matplotlib.figure import Figure

DPI = 120
BEST_COLOR = "C3"
POINT_COLOR = "C0"


def no_data(ax: Axes, message: str) -> None:
    """Write on ``ax`` why it is empty."""
    ax.text(0.5, 0.5, message, transform=ax.transAxes, ha="center", va="center", fontsize=13, color="0.4")
    ax.set_yticks([])


def plot_message(title: str, message: str) -> Figure:
    """A figure that says why there is nothing to draw (so every report has the same files)."""
    fig = Figure(figsize=(8, 3), layout="constrained")
    ax = fig.add_subplot()
    ax.set_title(title)
    ax.set_xticks([])
    no_data(ax, message)
    return fig
