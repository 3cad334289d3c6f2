"""Learning curves: the study metric at each step a trial reported (``ctx.report``).

A step reaches two places: the trial's folder (``history.jsonl``, every metric, every step, for
every trial) and, when the search prunes, the study's storage (Optuna's intermediate values, the
study metric only). Workers that share no folder with the driver leave the folders on their own
machines, but the storage is the one they all reach; so a trial's curve is read from the storage
when it has one there, else from its folder.

A trial run over several seeds (``search.seeds``, never pruned) has a folder per seed
(``<number>.s<seed>/``); its curve is the mean over its seeds at each step all of them reported,
as its value is their mean.
"""

from __future__ import annotations

import json
import math
import os
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from ablate.trial.contract import HISTORY, parse_seed_folder

if TYPE_CHECKING:
    from optuna.trial import FrozenTrial

COLUMNS = ["number", "step", "value"]


def learning_curves(trials: Sequence[FrozenTrial], trials_dir: Path, metric: str) -> pd.DataFrame:
    """Every trial's reported ``metric`` by step.

    Args:
        trials: The study's trials; waiting ones (asked, never started) have no curve.
        trials_dir: The study's trial folders, ``<trials_dir>/<number>/history.jsonl`` (or one
            folder a seed, ``<number>.s<seed>/``).
        metric: The study metric.

    Returns:
        A long frame (``number, step, value``), sorted by trial and step; steps without a
        finite value are left out.
    """
    folders = _folders_by_trial(Path(trials_dir))
    rows: list[tuple[int, int, float]] = []
    for t in trials:
        if t.state.name == "WAITING":
            continue
        steps = t.intermediate_values or _mean_by_step(
            [_from_history(f / HISTORY, metric) for f in folders.get(t.number, [])]
        )
        rows += [(t.number, int(s), float(v)) for s, v in steps.items() if v is not None and math.isfinite(v)]
    frame = pd.DataFrame(rows, columns=COLUMNS)
    return frame.sort_values(["number", "step"], kind="stable", ignore_index=True)


def _folders_by_trial(trials_dir: Path) -> dict[int, list[Path]]:
    """Each trial's run folders: ``[<n>/]``, else its seeds' ``<n>.s<seed>/``. One listing for
    all trials (a glob per trial would list the folder once per trial: quadratic in trials)."""
    single: dict[int, list[Path]] = {}
    seeded: dict[int, list[Path]] = {}
    try:
        entries = sorted(os.scandir(trials_dir), key=lambda e: e.name)
    except FileNotFoundError:
        return {}
    for entry in entries:
        parsed = parse_seed_folder(entry.name)
        name, into = (parsed[0], seeded) if parsed else (entry.name, single)
        if name.isdigit():
            into.setdefault(int(name), []).append(Path(entry.path))
    return {**seeded, **single}


def _mean_by_step(histories: list[dict[int, float]]) -> dict[int, float]:
    """One run's curve as it is; several runs' (seeds), their mean at each step all reported."""
    if len(histories) == 1:
        return histories[0]
    common = set.intersection(*(set(h) for h in histories)) if histories else set()
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
