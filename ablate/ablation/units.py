"""The unit an ablation's numbers are shown in: points for a share (an accuracy is written 97.1 %,
a difference of accuracies 1.2 points), the metric's own units otherwise; and the bounds a share
cannot leave (a t-interval of a mean near 100 % can: it is cut there and marked)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

# Metric names that are shares of examples (or of an area) in [0, 1]: shown in points when every
# value is in [0, 1]. Matched as words of the name: val_accuracy, test_f1, balanced_acc, roc_auc.
_SHARE_WORDS = {"accuracy", "acc", "f1", "auc", "precision", "recall", "iou", "dice", "balanced", "jaccard"}


@dataclass(frozen=True)
class Unit:
    """How a metric's numbers are written.

    Attributes:
        scale: what a value is multiplied by before it is written (100 for points).
        mean_suffix: after a mean (``%``), ``delta_name``: the unit of a difference (``points``).
        bounds: the range a value cannot leave (``(0, 1)`` for a share), or None.
    """

    scale: float = 1.0
    mean_suffix: str = ""
    delta_name: str = ""
    bounds: tuple[float, float] | None = None

    @property
    def is_points(self) -> bool:
        return self.scale == 100.0

    def header(self, metric: str) -> str:
        """``val_accuracy (%)`` or ``val_loss``."""
        return f"{metric} (%)" if self.is_points else metric

    def delta_header(self) -> str:
        """``Δ (points)`` or ``Δ``."""
        return f"Δ ({self.delta_name})" if self.delta_name else "Δ"


POINTS = Unit(scale=100.0, mean_suffix="%", delta_name="points", bounds=(0.0, 1.0))
RAW = Unit()


def unit_of(metric: str, values: np.ndarray) -> Unit:
    """Points for a share whose every finite value lies in [0, 1], its own units otherwise."""
    words = set(re.split(r"[^a-z0-9]+", metric.lower()))
    finite = np.asarray(values, dtype=float)
    finite = finite[np.isfinite(finite)]
    if words & _SHARE_WORDS and finite.size and finite.min() >= 0.0 and finite.max() <= 1.0:
        return POINTS
    return RAW


def plain_number(value: float, decimals: int, signed: bool = False) -> str:
    """``value`` to ``decimals`` places; never ``-0.00`` (a value that rounds to zero has no sign)."""
    if not math.isfinite(value):
        return "n/a"
    text = f"{value:{'+' if signed else ''}.{decimals}f}"
    if float(text) == 0.0:
        return f"{0.0:.{decimals}f}"
    return text


def example_worth(size: int | None, unit: Unit) -> str:
    """What one example of a split of ``size`` is worth in a share: ``0.35 points, 1/288``."""
    if not size or not unit.is_points:
        return ""
    return f"{100.0 / size:.2f} points, 1/{size}"
