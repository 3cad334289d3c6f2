"""What a study report shows, independent of its format: :class:`ReportInput`, and the
tables, summaries and headline metrics that markdown and html both render."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from ablate.ablation.across_report import DatasetsAblation, datasets_metrics
from ablate.ablation.analysis import AblationAnalysis
from ablate.ablation.report import ablation_metrics
from ablate.ablation.retune_analysis import RetunedAblation
from ablate.ablation.retune_report import retuned_metrics
from ablate.ablation.units import unit_of
from ablate.study.importance import ParamImportance
from ablate.study.pareto import flag_set, front_numbers
from ablate.study.table import best_trial, completed_trials, describe_interventions
from ablate.vocab import states
from ablate.vocab.columns import FIXED_COLUMNS, FLAGS, ORIGIN
from ablate.vocab.direction import maximizes
from ablate.vocab.facts import RunFacts
from ablate.vocab.objectives import Constraint, Objectives

_STATE_ORDER = {states.COMPLETE: 0, states.PRUNED: 1, states.RUNNING: 2, states.FAIL: 3}
_ERROR_CELL_CHARS = 80
_ERROR_TAIL_LINES = 15


@dataclass(frozen=True)
class ParamInfo:
    """A searched parameter as the report needs it."""

    name: str
    kind: str  # "float" | "int" | "categorical"
    log: bool = False  # plot x on a log scale


@dataclass(frozen=True)
class ReportInput(Objectives):
    """Everything a study report shows."""

    study: str
    metric: str
    direction: str  # "maximize" | "minimize"
    trials: pd.DataFrame
    params: tuple[ParamInfo, ...]
    run: RunFacts
    study_facts: Mapping[str, Any] = field(default_factory=dict)  # counts, best trial, n_trials
    # The report's Provenance section, a row per key: the study, its data and code, and its run's Provenance.
    provenance: dict[str, Any] = field(default_factory=dict)
    top_trials: int = 0  # rows of the report's trials table, best first (0: all); trials.csv has all
    search: bool = True  # False: an ablation study with no search step
    ablation: AblationAnalysis | None = None
    datasets: DatasetsAblation | None = None  # an ablation on data.sources (then ablation is None)
    retuned: RetunedAblation | None = None  # ablation.retune: ablation (the fixed analysis) beside the re-tuned one
    importance: ParamImportance | None = None  # None: not computed (no search)
    curves: pd.DataFrame | None = None  # number, step, value: what trials reported (ctx.report)
    # Several objectives (metric and direction are the first): a Pareto front, not a best trial.
    other_metrics: tuple[str, ...] = ()
    other_directions: tuple[str, ...] = ()
    constraints: tuple[Constraint, ...] = ()  # trials that miss one are infeasible
    val_size: int | None = None  # examples in the validation split (what one of them is worth in a share)


def fmt(value: object, kind: str | None = None) -> str:
    """One cell as text: floats to 4 significant digits, missing values empty."""
    if value is None or value is pd.NA or (isinstance(value, (float, np.floating)) and math.isnan(value)):
        return ""
    if isinstance(value, (bool, np.bool_, str)):
        return str(value)
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        # Int parameters arrive as floats when some trial lacks them (NaN forces float64).
        # So are whole-numbered metrics (a parameter count): 23060, not 2.306e+04.
        if float(value).is_integer() and (kind == "int" or abs(float(value)) < 1e15):
            return str(int(value))
        return f"{value:.4g}"
    return str(value)


def _error_summary(error: object) -> str:
    """The last non-empty line of an error (for tracebacks: the exception itself), shortened."""
    lines = [ln.strip() for ln in str(error or "").splitlines() if ln.strip()]
    text = lines[-1] if lines else ""
    return text if len(text) <= _ERROR_CELL_CHARS else text[: _ERROR_CELL_CHARS - 1] + "…"


def _error_tail(error: object) -> str:
    return "\n".join(str(error).rstrip().splitlines()[-_ERROR_TAIL_LINES:])


def metric_columns(inp: ReportInput) -> list[str]:
    """Metric columns in frame order, the objectives first."""
    names = {p.name for p in inp.params}
    cols = [c for c in inp.trials.columns if c not in FIXED_COLUMNS and c not in names]
    return [*inp.metrics] + [c for c in cols if c not in inp.metrics]


def sorted_for_table(inp: ReportInput) -> pd.DataFrame:
    """Trials best first: complete by objective (those on the Pareto front first, infeasible ones
    after the feasible), then pruned, running and failed by number."""
    trials = inp.trials
    values = pd.to_numeric(trials[inp.metric], errors="coerce")
    complete = (trials["state"] == states.COMPLETE) & values.notna()
    rank = np.zeros(len(trials))
    if "pareto" in trials:
        rank += ~flag_set(trials["pareto"]).to_numpy()
    if "feasible" in trials:
        rank += 2 * ~flag_set(trials["feasible"]).to_numpy()
    # Complete trials take ranks 0-3 (front, feasible, infeasible); the others come after them.
    group = np.where(complete, rank, trials["state"].map(_STATE_ORDER).fillna(2).to_numpy() + 4)
    score = values.where(complete, 0.0)
    key = pd.DataFrame(
        {
            "group": group,
            "score": -score if maximizes(inp.direction) else score,
            "number": trials["number"],
        },
        index=trials.index,
    )
    ordered = trials.loc[key.sort_values(["group", "score", "number"], kind="stable").index]
    return ordered.head(inp.top_trials) if inp.top_trials else ordered


def capped_trials(inp: ReportInput, rows: int) -> tuple[pd.DataFrame, str]:
    """Every trial, or the best ``rows`` of them best first and a note saying so (for a table
    with a size limit, such as a Prefect artifact)."""
    if len(inp.trials) <= rows:
        return inp.trials, ""
    best = sorted_for_table(replace(inp, top_trials=rows))
    return best, f"the best {rows} of {len(inp.trials)}, best first (trials.csv has every trial)"


def shown_note(inp: ReportInput) -> list[str]:
    """Say so when the table shows only the best trials (report.top_trials)."""
    if not inp.top_trials or len(inp.trials) <= inp.top_trials:
        return []
    return [f"The best {inp.top_trials} of {len(inp.trials)} trials; trials.csv has every trial.", ""]


def trials_table(inp: ReportInput) -> tuple[list[str], list[list[str]]]:
    """Header and text rows of the trials table, shared by markdown and html."""
    kinds = {p.name: p.kind for p in inp.params}
    cols = ["number", "state", *[f for f in FLAGS if f in inp.trials], *metric_columns(inp)]
    cols += [p.name for p in inp.params if p.name in inp.trials.columns]
    cols += [c for c in ORIGIN if _varies(inp.trials, c)]
    cols += [c for c in ("duration_s", "worker", "reason", "error") if c in inp.trials.columns]
    rows = [[_cell(t, c, kinds.get(c)) for c in cols] for _, t in sorted_for_table(inp).iterrows()]
    return cols, rows


def _cell(trial: pd.Series, col: str, kind: str | None) -> str:
    if col == "error":
        return _error_summary(trial[col])
    if col == "enqueued":
        return "yes" if _is_true(trial[col]) else ""
    return fmt(trial[col], kind)


def _varies(trials: pd.DataFrame, col: str) -> bool:
    """Whether a column of ORIGIN tells anything: some trial enqueued, some run over seeds."""
    if col not in trials.columns:
        return False
    if col == "enqueued":
        return any(_is_true(v) for v in trials[col])
    return bool((pd.to_numeric(trials[col], errors="coerce") > 1).any())


def _is_true(value: object) -> bool:
    return isinstance(value, (bool, np.bool_)) and bool(value)


def best_note(inp: ReportInput, best: pd.Series) -> str:
    """What the best trial's value is, where it is not one run of a sampled configuration:
    `` ± 0.002 (mean ± std of 3 seeds; enqueued)``."""
    notes = []
    std = best.get(f"{inp.metric}_std")
    n_seeds = best.get("n_seeds")
    spread = ""
    if n_seeds is not None and not pd.isna(n_seeds) and int(n_seeds) > 1 and std is not None:
        spread = f" ± {fmt(std)}"
        notes.append(f"mean ± std of {int(n_seeds)} seeds")
    if _is_true(best.get("enqueued")):
        notes.append("enqueued")
    notes += _tie_notes(inp, best)
    return spread + (f" ({'; '.join(notes)})" if notes else "")


def _tie_notes(inp: ReportInput, best: pd.Series) -> list[str]:
    """How many validation examples a share is, and which other trials reached the same value:
    a best trial that ties six others is a different finding from one that stands alone."""
    value = float(best[inp.metric])
    done = completed_trials(inp.trials, inp.metric)
    if "feasible" in done:  # as best_trial picks it: among the feasible
        done = done[flag_set(done["feasible"])]
    values = done[inp.metric].astype(float)
    notes = []
    if inp.val_size and unit_of(inp.metric, values.to_numpy()).is_points:
        notes.append(f"{round(value * inp.val_size)} of {inp.val_size} validation examples")
    tied = done.loc[np.isclose(values, value, rtol=1e-12, atol=0.0), "number"].astype(int)
    others = [n for n in tied if n != int(best["number"])]
    if others:
        shown = ", ".join(map(str, others[:8])) + (", ..." if len(others) > 8 else "")
        trials = f"{len(others)} other trial{'s' if len(others) > 1 else ''}"
        notes.append(f"tied with {trials} ({shown}): the lowest number is shown")
    return notes


def summary_line(inp: ReportInput) -> str:
    """One line of counts: states from the frame, cache and timing from the run summary."""
    counts = inp.trials["state"].value_counts()
    parts = [
        f"{len(inp.trials)} trials: {counts.get(states.COMPLETE, 0)} complete, "
        f"{counts.get(states.PRUNED, 0)} pruned, {counts.get(states.FAIL, 0)} failed"
    ]
    search = inp.run.search
    last = f"last search: {search.executed} executed, {search.cached} from the cache"
    if search.wall_s is not None:  # the loop of trials; the run's own time, prepare to report, beside it
        whole = f" of a {fmt(float(inp.run.wall_s))} s run (prepare to report)" if inp.run.wall_s is not None else ""
        last += f"; the search loop {fmt(float(search.wall_s))} s{whole}"
    if search.timed_out:
        last += ", stopped asking on search.timeout_s (the next run continues)"
    parts.append(last)
    line = "; ".join(parts) + "."
    done = describe_interventions(inp.trials)  # hung trials stopped, trials moved, stragglers
    return f"{line} The run {done}." if done else line


def best_params(inp: ReportInput, best: pd.Series) -> list[list[str]]:
    return [[p.name, fmt(best.get(p.name), p.kind)] for p in inp.params]


def failure_groups(inp: ReportInput) -> list[tuple[str, str]]:
    """(heading, error tail) per distinct error, so 30 identical tracebacks print once."""
    trials = inp.trials.sort_values("number", kind="stable")
    errors = trials["error"].fillna("").astype(str)
    failed = trials[(trials["state"] == states.FAIL) | (errors != "")]
    groups: dict[str, list[pd.Series]] = {}
    for _, trial in failed.iterrows():
        groups.setdefault(_error_tail(trial["error"]), []).append(trial)
    out = []
    for tail, members in groups.items():
        numbers = ", ".join(str(t["number"]) for t in members)
        # A trial stopped as hung has only the address of the worker it held (ablate.runtime.guard).
        workers = ", ".join(dict.fromkeys(str(t.get("worker") or t.get("worker_address") or "") for t in members))
        shown = "/".join(dict.fromkeys(str(t["state"]) for t in members))
        reasons = [r for r in dict.fromkeys(t.get("reason") for t in members) if isinstance(r, str) and r]
        shown += f", reason {'/'.join(reasons)}" if reasons else ""
        noun = "Trial" if len(members) == 1 else f"{len(members)} trials:"
        out.append((f"{noun} {numbers} ({shown}; worker {workers})", tail or "(no message)"))
    return out


def provenance_rows(inp: ReportInput) -> list[list[str]]:
    def text(v: object) -> str:
        return json.dumps(v, sort_keys=True) if isinstance(v, (dict, list, tuple)) else str(v)

    return [[str(k), text(v)] for k, v in inp.provenance.items()]


def study_metrics(inp: ReportInput) -> dict[str, object]:
    """The study's headline numbers (``dvc metrics show``): no timings, so a rerun that changes
    nothing shows no difference."""
    out: dict[str, object] = {}
    if inp.search:
        best = None if inp.multi_objective else best_trial(inp.trials, inp.metric, inp.direction)
        counts = inp.trials["state"].value_counts()
        out = {
            "best_value": None if best is None else float(best[inp.metric]),
            "best_trial": None if best is None else int(best["number"]),
            **({"pareto_front": front_numbers(inp.trials)} if inp.multi_objective else {}),
            **({"feasible": int(flag_set(inp.trials["feasible"]).sum())} if "feasible" in inp.trials else {}),
            "complete": int(counts.get(states.COMPLETE, 0)),
            "failed": int(counts.get(states.FAIL, 0)),
            "pruned": int(counts.get(states.PRUNED, 0)),
            "trials": int(len(inp.trials)),
        }
    if inp.ablation is not None:
        out["ablation"] = ablation_metrics(inp.ablation)
    if inp.datasets is not None:
        out["ablation"] = datasets_metrics(inp.datasets)
    if inp.retuned is not None:
        out["retuned"] = retuned_metrics(inp.retuned)
    return out


def run_record(inp: ReportInput) -> dict[str, Any]:
    """What ``run.json`` holds: the run's facts, then the study's counts and best trial."""
    # The report's own options: a later `ablate run` of the finished study re-renders when they changed.
    return {**inp.run.to_dict(), **inp.study_facts, "report_options": {"top_trials": inp.top_trials}}
