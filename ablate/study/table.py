"""The trials table: one row per trial of a study, as ``trials.csv`` and the report show it; its
columns are :mod:`ablate.vocab.columns`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pandas as pd

from ablate.study.pareto import flag_set, front_flags, front_numbers
from ablate.vocab import reasons, states
from ablate.vocab.columns import FIXED_COLUMNS, FLAGS, PLACEMENT, PROVENANCE, table_columns
from ablate.vocab.direction import check_direction, maximizes
from ablate.vocab.objectives import describe_objectives, is_feasible

if TYPE_CHECKING:
    import optuna

    from ablate.vocab.params import Params


def study_flags(params: Params) -> tuple[str, ...]:
    """The flags a study's table has: ``pareto`` with several objectives, ``feasible`` with constraints."""
    wanted = {"pareto": params.study.multi_objective, "feasible": bool(params.study.constraints)}
    return tuple(f for f in FLAGS if wanted[f])


def trials_frame(study: optuna.Study | None, params: Params) -> pd.DataFrame:
    """One row per trial: number, state, metrics (objective first), params (empty where a
    conditional knob was inactive), enqueued, seeds, duration, worker, error, reason, where it
    ran (host, worker address, batch job id), and where its result came from (cached, cache key,
    git commit, code version)."""
    names = [p.name for p in params.search.space] if params.search is not None else []
    rows, metric_names = [], list(params.study.metrics)
    trials = study.get_trials(deepcopy=False) if study is not None else []
    for t in trials:
        if t.state.name == states.WAITING:
            continue
        metrics = t.user_attrs.get("metrics") or {}
        metric_names += [m for m in metrics if m not in metric_names and m not in FIXED_COLUMNS]
        all_params = t.user_attrs.get("params") or t.params
        attrs = t.user_attrs
        fixed = {"number": t.number, "state": t.state.name, "duration_s": attrs.get("duration_s")}
        fixed |= {"enqueued": bool(attrs.get("enqueued")), "n_seeds": attrs.get("n_seeds") or 1}
        fixed |= {k: attrs.get(k) or "" for k in ("worker", "error", "reason", "straggler", "note", *PLACEMENT)}
        fixed |= {k: attrs.get(k) for k in PROVENANCE}
        # The constraint values the study stored with the trial (what the sampler saw).
        fixed["feasible"] = is_feasible(t.constraints) if t.constraints else None
        rows.append({**metrics, **{n: all_params.get(n) for n in names}, **fixed})
    flags = study_flags(params)
    frame = pd.DataFrame(rows, columns=table_columns(metric_names, names, ("feasible",)))
    for n in names:  # an inactive knob's None would turn 128 into 128.0 in a float column
        if frame[n].isna().any():
            frame[n] = pd.Series([r[n] for r in rows], index=frame.index, dtype=object)
    for m in metric_names:
        frame[m] = pd.to_numeric(frame[m], errors="coerce")
    frame["duration_s"] = pd.to_numeric(frame["duration_s"], errors="coerce")
    frame = frame.sort_values("number").reset_index(drop=True)
    frame["feasible"] = frame["feasible"].astype("boolean")
    if "feasible" not in flags:
        frame = frame.drop(columns="feasible")
    if "pareto" in flags:
        frame.insert(2, "pareto", front_flags(frame, params.study.metrics, params.study.directions))
    return frame


def count_states(frame: pd.DataFrame) -> dict[str, int]:
    """Trials by state: complete, pruned, failed, and running (asked, not yet told: a run in
    progress, or one that was killed and has not been resumed)."""
    counts = frame["state"].value_counts()
    names = {states.COMPLETE: "complete", states.PRUNED: "pruned", states.FAIL: "failed", states.RUNNING: "running"}
    return {name: int(counts.get(state, 0)) for state, name in names.items()}


def describe_interventions(frame: pd.DataFrame) -> str | None:
    """What the run's driver did to trials (ablate.runtime.guard), in one phrase, or None:
    those it stopped (reason timeout or straggler: stopped as hung, or as stragglers) with how
    long each held its worker, those it moved to another worker, and those flagged as stragglers."""
    parts = []
    empty = pd.Series("", index=frame.index)
    reason = frame.get("reason", empty).fillna("").astype(str)  # a table written by an older ablate
    stopped = frame[reason.isin(reasons.STOPPED) & (frame["state"] == states.FAIL)]
    if len(stopped):
        held = [
            f"{int(t.number)} ({t.reason}, held its worker {t.duration_s:.1f} s)"
            if pd.notna(t.duration_s)
            else f"{int(t.number)} ({t.reason})"
            for t in stopped.itertuples()
        ]
        parts.append(f"stopped {_trials(held)}")
    moved = frame.loc[reason == reasons.MOVED, "number"].astype(int).tolist()
    if moved:
        parts.append(f"moved {_trials([str(n) for n in moved])} to another worker")
    flagged = frame.loc[frame.get("straggler", empty).fillna("").astype(str) != "", "number"].astype(int).tolist()
    if flagged:
        parts.append(f"flagged {_trials([str(n) for n in flagged])} as straggler{'s' if len(flagged) > 1 else ''}")
    return "; ".join(parts) or None


def _trials(items: list[str]) -> str:
    shown = ", ".join(items[:10]) + (f", and {len(items) - 10} more" if len(items) > 10 else "")
    return f"trial{'s' if len(items) > 1 else ''} {shown}"


def best_of(study: optuna.Study | None, params: Params, first: int | None = None) -> dict[str, Any] | None:
    """The best COMPLETE (and feasible) trial: number, value, metric and all its params (fixed
    options too); ``first``: of the trials numbered below it only. None with several objectives:
    there the front stands for it (:func:`front_of`)."""
    if params.study.multi_objective:
        return None
    trials = study.get_trials(deepcopy=False) if study else []
    complete = [t for t in trials if t.state.name == states.COMPLETE and (first is None or t.number < first)]
    complete = [t for t in complete if is_feasible(t.constraints)]
    if not complete:
        return None
    pick = max if maximizes(params.study.direction) else min
    t = pick(complete, key=lambda t: float("nan") if t.value is None else t.value)
    return {
        "number": t.number,
        "value": t.value,
        "metric": params.study.metric,
        "params": t.user_attrs.get("params") or t.params,
    }


def front_of(frame: pd.DataFrame, params: Params) -> dict[str, Any] | None:
    """With several objectives, the Pareto front in place of a best trial: its size, its trials'
    numbers, the objectives and their directions. None with one objective."""
    if not params.study.multi_objective:
        return None
    return {
        "size": len(numbers := front_numbers(frame)),
        "trials": numbers,
        "metrics": list(params.study.metrics),
        "directions": list(params.study.directions),
    }


def describe_front(front: Mapping[str, Any]) -> str:
    """One line: ``3 trial(s) on the Pareto front of val_accuracy (maximize), n_params (minimize): 4, 9, 17``."""
    numbers = front["trials"]
    shown = ", ".join(map(str, numbers[:12])) + (f", ... ({len(numbers) - 12} more)" if len(numbers) > 12 else "")
    what = describe_objectives(front["metrics"], front["directions"])
    return f"{front['size']} trial(s) on the Pareto front of {what}" + (f": {shown}" if numbers else "")


def numeric_values(values: pd.Series) -> pd.Series:
    return pd.to_numeric(values, errors="coerce").astype(float)


def completed_trials(trials: pd.DataFrame, metric: str) -> pd.DataFrame:
    """COMPLETE trials with a finite objective, sorted by trial number."""
    values = numeric_values(trials[metric])
    done = trials[(trials["state"] == states.COMPLETE) & values.notna()].copy()
    done[metric] = values[done.index]
    return done.sort_values("number", kind="stable")


def best_trial(trials: pd.DataFrame, metric: str, direction: str) -> pd.Series | None:
    """Pick the best COMPLETE trial by the objective (the best feasible one, where the trials
    have a ``feasible`` column).

    Args:
        trials: The trials frame (``number``, ``state``, metric and parameter columns, ...).
        metric: Name of the objective column.
        direction: ``"maximize"`` or ``"minimize"``.

    Returns:
        The best trial's row, or None when no COMPLETE trial has a value. Ties go to the lowest
        trial number, so the choice is stable across re-runs.

    Raises:
        ValueError: If ``direction`` is neither ``"maximize"`` nor ``"minimize"``.
    """
    check_direction(direction)
    done = completed_trials(trials, metric)
    if "feasible" in done:  # with constraints, the best trial is the best feasible one
        done = done[flag_set(done["feasible"])]
    if done.empty:
        return None
    values = done[metric]
    label = values.idxmax() if maximizes(direction) else values.idxmin()
    return trials.loc[label]
