"""Learning curves: the study metric at each step a trial reported (``ctx.report``).

A step reaches two places: the trial's folder (``history.jsonl``, every metric, every step, for
every trial) and, when the search prunes, the study's storage (Optuna's intermediate values, the
study metric only). Workers that share no folder with the driver leave the folders on their own
machines, but the storage is the one they all reach; so a trial's curve is read from the storage
when it has one there, else from its folder.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from optuna.trial import FrozenTrial

HISTORY = "history.jsonl"
COLUMNS = ["number", "step", "value"]


def learning_curves(trials: Sequence[FrozenTrial], trials_dir: Path, metric: str) -> pd.DataFrame:
    """Every trial's reported ``metric`` by step.

    Args:
        trials: The study's trials; waiting ones (asked, never started) have no curve.
        trials_dir: The study's trial folders, ``<trials_dir>/<number>/history.jsonl``.
        metric: The study metric.

    Returns:
        A long frame (``number, step, value``), sorted by trial and step; steps without a
        finite value are left out.
    """
    rows: list[tuple[int, int, float]] = []
    for t in trials:
        if t.state.name == "WAITING":
            continue
        steps = t.intermediate_values or _from_history(Path(trials_dir) / str(t.number) / HISTORY, metric)
        rows += [(t.number, int(s), float(v)) for s, v in steps.items() if v is not None and math.isfinite(v)]
    frame = pd.DataFrame(rows, columns=COLUMNS)
    return frame.sort_values(["number", "step"], kind="stable", ignore_index=True)


def _from_history(path: Path, metric: str) -> dict[int, float]:
    if not path.exists():
        return {}
    out: dict[int, float] = {}
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        value = row.get(metric)
        if isinstance(value, (int, float)) and "step" in row:
            out[int(row["step"])] = float(value)  # a step reported twice keeps its last value
    return out
