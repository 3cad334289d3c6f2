"""The trials table: one row per trial of a study, as ``trials.csv`` and the report show it.

This module owns the table's fixed columns. Every other column is a metric the trial function
returned (the study's objective first) or a searched parameter, so neither may be named like a
fixed column: the params file is checked for it (``ablate.config.load``), and so is each trial's
return value (``ablate.trial.check_metrics``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    import optuna

    from ablate.config.schema import Params

LEADING = ("number", "state")  # then the metrics, then the searched parameters
# How the trial came about: enqueued from search.enqueue (a baseline) or asked of the sampler, and
# the seeds it ran over (search.seeds: its metrics are their means; see ablate.study.repeats).
ORIGIN = ("enqueued", "n_seeds")
OUTCOME = ("duration_s", "worker", "error", "reason")  # reason: see ablate.trial.failures.REASONS
# Where each trial ran: host, Dask worker address, batch job id (SLURM_JOB_ID, PBS_JOBID); see
# ablate.trial.execute.placement.
PLACEMENT = ("host", "worker_address", "job_id")
# Where each trial's result came from (from the cache or not, the code that computed it).
PROVENANCE = ("cached", "cache_key", "git_commit", "code_version")
FIXED_COLUMNS = (*LEADING, *ORIGIN, *OUTCOME, *PLACEMENT, *PROVENANCE)


def table_columns(metrics: list[str], params: list[str]) -> list[str]:
    """The columns of a table with these metric and parameter columns, in order."""
    return [*LEADING, *metrics, *params, *ORIGIN, *OUTCOME, *PLACEMENT, *PROVENANCE]


def trials_frame(study: optuna.Study | None, params: Params) -> pd.DataFrame:
    """One row per trial: number, state, metrics (objective first), params (empty where a
    conditional knob was inactive), enqueued, seeds, duration, worker, error, reason, where it
    ran (host, worker address, batch job id), and where its result came from (cached, cache key,
    git commit, code version)."""
    names = [p.name for p in params.search.space] if params.search is not None else []
    rows, metric_names = [], [params.study.metric]
    trials = study.get_trials(deepcopy=False) if study is not None else []
    for t in trials:
        if t.state.name == "WAITING":
            continue
        metrics = t.user_attrs.get("metrics") or {}
        metric_names += [m for m in metrics if m not in metric_names and m not in FIXED_COLUMNS]
        all_params = t.user_attrs.get("params") or t.params
        attrs = t.user_attrs
        fixed = {"number": t.number, "state": t.state.name, "duration_s": attrs.get("duration_s")}
        fixed |= {"enqueued": bool(attrs.get("enqueued")), "n_seeds": attrs.get("n_seeds") or 1}
        fixed |= {k: attrs.get(k) or "" for k in ("worker", "error", "reason", *PLACEMENT)}
        fixed |= {k: attrs.get(k) for k in PROVENANCE}
        rows.append({**metrics, **{n: all_params.get(n) for n in names}, **fixed})
    frame = pd.DataFrame(rows, columns=table_columns(metric_names, names))
    for n in names:  # an inactive knob's None would turn 128 into 128.0 in a float column
        if frame[n].isna().any():
            frame[n] = pd.Series([r[n] for r in rows], index=frame.index, dtype=object)
    for m in metric_names:
        frame[m] = pd.to_numeric(frame[m], errors="coerce")
    frame["duration_s"] = pd.to_numeric(frame["duration_s"], errors="coerce")
    return frame.sort_values("number").reset_index(drop=True)


def count_states(frame: pd.DataFrame) -> dict[str, int]:
    """Trials by state: complete, pruned, failed, and running (asked, not yet told: a run in
    progress, or one that was killed and has not been resumed)."""
    counts = frame["state"].value_counts()
    names = {"COMPLETE": "complete", "PRUNED": "pruned", "FAIL": "failed", "RUNNING": "running"}
    return {name: int(counts.get(state, 0)) for state, name in names.items()}


def best_of(study: optuna.Study | None, params: Params) -> dict[str, Any] | None:
    """The best COMPLETE trial: number, value, metric and all its params (fixed options too)."""
    complete = [t for t in (study.get_trials(deepcopy=False) if study else []) if t.state.name == "COMPLETE"]
    if not complete:
        return None
    pick = max if params.study.direction == "maximize" else min
    t = pick(complete, key=lambda t: t.value)
    return {
        "number": t.number,
        "value": t.value,
        "metric": params.study.metric,
        "params": t.user_attrs.get("params") or t.params,
    }


def numeric_values(values: pd.Series) -> pd.Series:
    return pd.to_numeric(values, errors="coerce").astype(float)


def completed_trials(trials: pd.DataFrame, metric: str) -> pd.DataFrame:
    """COMPLETE trials with a finite objective, sorted by trial number."""
    values = numeric_values(trials[metric])
    done = trials[(trials["state"] == "COMPLETE") & values.notna()].copy()
    done[metric] = values[done.index]
    return done.sort_values("number", kind="stable")


def best_trial(trials: pd.DataFrame, metric: str, direction: str) -> pd.Series | None:
    """Pick the best COMPLETE trial by the objective.

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
    if direction not in ("maximize", "minimize"):
        raise ValueError(f"direction must be 'maximize' or 'minimize', got {direction!r}")
    done = completed_trials(trials, metric)
    if done.empty:
        return None
    values = done[metric]
    label = values.idxmax() if direction == "maximize" else values.idxmin()
    return trials.loc[label]
