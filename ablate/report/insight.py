"""What the report says about a search beyond its trials table, in any format: the caption of
each figure, the parameter importance section, and the best configuration's held-out score over
seeds (measured by the ablation step; see docs/reports.md, "The tuned model on the test split")."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ablate.ablation.analysis import test_metric_of
from ablate.report.model import ReportInput, fmt
from ablate.study.importance import METHOD_LABELS, METHODS, REPEATS
from ablate.study.table import best_trial
from ablate.vocab import states

# The search's figures, in report order (pareto: with several objectives).
SEARCH_FIGURES = ("pareto", "history", "params", "parallel", "curves")


def caption(inp: ReportInput, kind: str) -> str:
    """One line saying what the figure ``kind`` (its file's stem) shows."""
    m = inp.metric
    return {
        "pareto": "The trials on the objectives: the Pareto front (the feasible trials no other beats on every "
        "objective) labelled and joined by a step line, infeasible trials as grey crosses.",
        "history": f"{m} of each trial in the order they were asked, the best so far as a line; "
        "failed and pruned trials along the bottom.",
        "params": f"{m} against each knob (log axes for log-scaled knobs; categorical knobs with each choice's mean).",
        "parallel": f"Each complete trial as a line across the knobs and {m}, coloured by {m}; the best in red.",
        "curves": f"{m} at each step the trials reported (ctx.report){_over_seeds(inp)}; pruned trials in grey "
        "ending in x, the best in red.",
        "importance": f"How much each knob matters for {m}, by PED-ANOVA and fANOVA: bar = median share over "
        f"{REPEATS} refits on random halves of the trials, whisker = their range.",
    }.get(kind, "")


def _over_seeds(inp: ReportInput) -> str:
    """How a curve of a trial run over seeds (search.seeds) is drawn, where there are such trials."""
    seeds = inp.trials.get("n_seeds")
    n = int(seeds.max()) if seeds is not None and seeds.notna().any() else 1
    return f", the mean over a trial's {n} seeds at each step they all reported" if n > 1 else ""


def shown_figures(inp: ReportInput, written: dict[str, str]) -> list[str]:
    """The search figures worth showing, as file names; the others are placeholders kept on disk
    (DVC declares every file) that the report replaces with a sentence."""
    show = {
        "pareto": inp.multi_objective,
        "history": True,
        "params": True,  # says why when there is nothing to plot
        "parallel": not nothing_to_plot(inp),
        "curves": inp.curves is not None and len(inp.curves) > 0,
        "importance": inp.importance is not None and len(inp.importance.table) > 0,
    }
    return [written[k] for k in (*SEARCH_FIGURES, "importance") if k in written and show[k]]


def nothing_to_plot(inp: ReportInput) -> str:
    """Why the figures of trials across the knobs (params, parallel) have nothing to draw; "" when
    they have. They mark the best trial, which must be complete and, with constraints, feasible."""
    if not inp.params:
        return "no parameter is searched"
    if best_trial(inp.trials, inp.metric, inp.direction) is not None:
        return ""
    if inp.constraints and (inp.trials["state"] == states.COMPLETE).any():
        return "no complete trial meets the constraints"
    return "no trial completed"


def no_curves_note(inp: ReportInput) -> str:
    if inp.curves is None or len(inp.curves):
        return ""
    return "No trial reported progress (ctx.report), so there are no learning curves."


def importance_intro(inp: ReportInput) -> str:
    """What the importance rests on, or why there is none."""
    imp = inp.importance
    if imp is None:
        return ""
    words: dict[str, str] = {
        states.FAIL: "failed",
        states.PRUNED: "pruned",
        states.RUNNING: "running",
        states.WAITING: "waiting",
    }
    left = ", ".join(f"{n} {words.get(state, state.lower())}" for state, n in sorted(imp.excluded.items()))
    used = f"{imp.n_used} complete trials" + (f" ({left} left out)" if left else "")
    if imp.reason:
        return f"No parameter importance: {imp.reason} ({used})."
    return (
        f"Optuna's PED-ANOVA and fANOVA on {used}, each refit {REPEATS} times on a random half of them "
        "(fANOVA with a new forest seed each time): the importance is the median of a knob's shares "
        "over the refits, [ci_low, ci_high] their range (about the central 80 % of the refits; "
        'docs/reports.md, "Parameter importance"). importance.csv has every number.'
    )


def importance_rows(inp: ReportInput) -> tuple[list[str], list[list[str]]]:
    """One row per knob, one column per method: ``median [low, high]``."""
    imp = inp.importance
    if imp is None or imp.table.empty:
        return [], []
    methods = [m for m in METHODS if m in set(imp.table["method"])]
    wide = {m: imp.table[imp.table["method"] == m].set_index("param") for m in methods}
    order = list(dict.fromkeys(p for m in methods for p in wide[m].index))
    counts = imp.table.drop_duplicates("param").set_index("param")["n_trials"]
    conditional = bool((counts < imp.n_used).any())  # else every knob is in every trial: no column
    header = ["knob", *[METHOD_LABELS[m] for m in methods], *(["trials with it"] if conditional else [])]
    rows = []
    for p in order:
        cells = [_share(wide[m], p) for m in methods]
        rows.append([p, *cells, *([str(int(counts[p]))] if conditional else [])])
    return header, rows


def _share(rows: pd.DataFrame, param: str) -> str:
    if param not in rows.index:
        return "not rated"
    r = rows.loc[param]
    return f"{r['importance']:.3f} [{r['ci_low']:.3f}, {r['ci_high']:.3f}]"


def best_over_seeds(inp: ReportInput) -> str:
    """The tuned configuration over the ablation's repeat seeds, on validation and test; a hint
    on how to get it when the study has no such ablation."""
    a = inp.ablation
    if a is None or a.best_value is None:
        return (
            "Its held-out test score over seeds: add `ablation: {baseline: best, components: {}}` to the "
            'params file (docs/reports.md, "The tuned model on the test split").'
        )
    base = a.table[a.table["role"] == "baseline"]
    if base.empty or not np.isfinite(base["mean"].iloc[0]):
        return "Over the ablation's repeat seeds: no seed of the tuned configuration completed."
    row = base.iloc[0]
    seeds = f"{int(row['n'])} repeat seeds ({', '.join(map(str, a.seeds))}; not the search's)"
    parts = [f"{a.metric} {_mean_ci(row['mean'], row['ci_low'], row['ci_high'])}"]
    if np.isfinite(row["test_mean"]):
        test = _mean_ci(row["test_mean"], row["test_ci_low"], row["test_ci_high"])
        parts.append(f"held-out {test_metric_of(a.metric)} {test}")
    return f"The tuned configuration over {seeds}: {'; '.join(parts)} (mean, 95 % t-interval)."


def _mean_ci(mean: float, low: float, high: float) -> str:
    ci = f" [{fmt(float(low))}, {fmt(float(high))}]" if np.isfinite(low) and np.isfinite(high) else ""
    return f"{fmt(float(mean))}{ci}"
