"""Learning curves: the study metric at each step a trial reported (``ctx.report``).

A step reaches two places: the trial's folder (``history.jsonl``, every metric, every step, for
every trial) and, when the search prunes, the study's storage (Optuna's intermediate values, the
study metric only). Workers that share no folder with the driver leave the folders on their own
machines, but the storage is the one they all reach; so a trial's curve is read from the storage
when it has one there, else from its folder.

A trial run over several seeds (``search.seeds``, never pruned) has a folder per seed
(``<number>.s<seed>/``); its curve is the mean over its seeds at each step all of them reported,
as its value is their mean, and it has none unless every seed's history is there (a worker
without a shared folder kept some): a mean of some seeds would be read as the mean of all.
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from ablate.trial.contract import HISTORY, seed_folder

if TYPE_CHECKING:
    from optuna.trial import FrozenTrial

COLUMNS = ["number", "step", "value"]


def learning_curves(
    trials: Sequence[FrozenTrial], trials_dir: Path, metric: str, seeds: Sequence[int] = ()
) -> pd.DataFrame:
    """Every trial's reported ``metric`` by step.

    Args:
        trials: The study's trials; waiting ones (asked, never started) have no curve.
        trials_dir: The study's trial folders, ``<trials_dir>/<number>/history.jsonl``.
        metric: The study metric.
        seeds: The seeds every trial ran over: with one (or none given) each trial has its own
            folder, with several (``search.seeds`` > 1) a folder a seed, ``<number>.s<seed>/``.

    Returns:
        A long frame (``number, step, value``), sorted by trial and step; steps without a
        finite value are left out.
    """
    rows: list[tuple[int, int, float]] = []
    for t in trials:
        if t.state.name == "WAITING":
            continue
        steps = t.intermediate_values or _mean_by_step(
            [_from_history(Path(trials_dir) / folder / HISTORY, metric) for folder in _folders(t.number, seeds)]
        )
        rows += [(t.number, int(s), float(v)) for s, v in steps.items() if v is not None and math.isfinite(v)]
    frame = pd.DataFrame(rows, columns=COLUMNS)
    return frame.sort_values(["number", "step"], kind="stable", ignore_index=True)


def _folders(number: int, seeds: Sequence[int]) -> list[str]:
    return [seed_folder(number, s) for s in seeds] if len(seeds) > 1 else [str(number)]


def _mean_by_step(histories: list[dict[int, float]]) -> dict[int, float]:
    """One run's curve as it is; several runs' (seeds), their mean at each step all reported;
    nothing when a run has no history."""
    if not all(histories):
        return {}
    common = set.intersection(*(set(h) for h in histories))
    return {step: statistics.fmean(h[step] for h in histories) for step in sorted(common)}


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
