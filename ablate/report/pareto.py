"""The report of a study with several objectives or with constraints: the Pareto front as a table
(``pareto.csv``) and a figure (``pareto.png``), and what the constraints excluded.

The front itself is the trials table's ``pareto`` column (ablate.study.pareto); this module only
shows it. Two objectives are one scatter, the front joined by the step line that bounds what it
dominates; three or more are a scatter per pair of objectives (the first four), the front being
the one over all objectives, so its points need not look optimal in every pair.
"""

from __future__ import annotations

import itertools
import math
from typing import Literal

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ablate.plots import DPI, POINT_COLOR, plot_message
from ablate.report.model import ReportInput, fmt
from ablate.study.pareto import flag_set
from ablate.vocab import states
from ablate.vocab.direction import maximizes
from ablate.vocab.objectives import describe_objectives

FRONT_COLOR = "C3"
INFEASIBLE_COLOR = "0.55"
MAX_LABELS = 15  # front points labelled with their trial number, at most
MAX_PAIRS_OBJECTIVES = 4  # three or more objectives: the pairs of the first four (6 panels)
LOG_SPAN = 20  # an axis whose positive values span this factor or more is drawn on a log scale
KEEP = 0.9  # on each axis, at least this share of the trials is drawn (and the whole front)
_ARROWS = {("x", "maximize"): "→", ("x", "minimize"): "←", ("y", "maximize"): "↑", ("y", "minimize"): "↓"}


def pareto_table(inp: ReportInput) -> pd.DataFrame:
    """The front, best first by the first objective: number, each objective, each constrained
    metric, each constraint's value (Optuna's convention: <= 0 met; named as written), and the
    searched parameters. What ``pareto.csv`` holds."""
    trials = inp.trials
    front = trials[flag_set(trials["pareto"])] if "pareto" in trials else trials.iloc[0:0]
    constrained = [c.metric for c in inp.constraints if c.metric not in inp.metrics]
    out = front[["number", *inp.metrics, *dict.fromkeys(constrained)]].copy()
    for c in inp.constraints:
        out[c.text] = [c.value(row) for _, row in front.iterrows()]
    for p in inp.params:
        out[p.name] = front[p.name] if p.name in front else None
    ascending = not maximizes(inp.direction)
    return out.sort_values([inp.metric, "number"], ascending=[ascending, True], kind="stable").reset_index(drop=True)


def front_rows(inp: ReportInput) -> tuple[list[str], list[list[str]]]:
    """The front as text cells for the markdown and html tables."""
    table = pareto_table(inp)
    kinds = {p.name: p.kind for p in inp.params}
    rows = [[fmt(row[c], kinds.get(c)) for c in table.columns] for _, row in table.iterrows()]
    return list(table.columns), rows


def feasibility_note(inp: ReportInput) -> str:
    """What the constraints excluded, e.g. ``3 of 20 complete trials miss a constraint (n_params
    <= 50000) and are left out of the front.``; empty without constraints."""
    if not inp.constraints or "feasible" not in inp.trials:
        return ""
    complete = inp.trials[inp.trials["state"] == states.COMPLETE]
    missed = int((~flag_set(complete["feasible"])).sum())
    where = "the front" if inp.multi_objective else "the best trial's choice"
    texts = "; ".join(c.text for c in inp.constraints)
    return f"{missed} of {len(complete)} complete trials miss a constraint ({texts}) and are left out of {where}."


def front_summary(inp: ReportInput) -> str:
    """``5 of 17 feasible complete trials are on the Pareto front of ...``."""
    trials = inp.trials
    complete = trials["state"] == states.COMPLETE
    if "feasible" in trials:
        complete &= flag_set(trials["feasible"])
    n_front = int(flag_set(trials["pareto"]).sum()) if "pareto" in trials else 0
    kind = "feasible complete" if "feasible" in trials else "complete"
    front = f"the Pareto front of {describe_objectives(inp.metrics, inp.directions)}"
    return f"{n_front} of {int(complete.sum())} {kind} trials are on {front}; pareto.csv lists them."


def plot_pareto(inp: ReportInput) -> Figure:
    """The trials in objective space: feasible ones as dots, infeasible ones as grey crosses, the
    front highlighted and labelled with trial numbers (and, for two objectives, joined by the step
    line bounding the region it dominates). Each axis names its objective and which way is better."""
    trials = inp.trials
    complete = trials[trials["state"] == states.COMPLETE].copy()
    for m in inp.metrics:
        complete[m] = pd.to_numeric(complete[m], errors="coerce")
    complete = complete[np.isfinite(complete[list(inp.metrics)].to_numpy(dtype=float)).all(axis=1)]
    title = f"Pareto front of {len(inp.metrics)} objectives" if len(inp.metrics) > 2 else "Pareto front: {} vs {}"
    title = title.format(*inp.metrics)
    if complete.empty:
        return plot_message(title, "no trial completed")
    k = min(len(inp.metrics), MAX_PAIRS_OBJECTIVES)
    pairs = list(itertools.combinations(range(k), 2))
    ncols = min(len(pairs), 3)
    nrows = math.ceil(len(pairs) / ncols)
    size = (8.0, 5.6) if len(pairs) == 1 else (4.4 * ncols, 3.9 * nrows + 0.8)
    fig = Figure(figsize=size, dpi=DPI, layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax, (i, j) in zip(axes, pairs):
        _draw_pair(ax, complete, inp, i, j, step=len(inp.metrics) == 2)
    for ax in axes[len(pairs) :]:
        ax.set_visible(False)
    shown = "" if len(inp.metrics) <= MAX_PAIRS_OBJECTIVES else f" (the first {MAX_PAIRS_OBJECTIVES} shown)"
    fig.suptitle(title + (f", by pairs{shown}" if len(pairs) > 1 else ""), fontsize=12)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=len(handles), fontsize=9, frameon=False)
    return fig


def _draw_pair(ax: Axes, complete: pd.DataFrame, inp: ReportInput, i: int, j: int, step: bool) -> None:
    mx, my = inp.metrics[i], inp.metrics[j]
    feasible = flag_set(complete["feasible"]) if "feasible" in complete else pd.Series(True, complete.index)
    front = flag_set(complete["pareto"]) if "pareto" in complete else pd.Series(False, complete.index)
    dominated, infeasible, on = complete[feasible & ~front], complete[~feasible], complete[front]
    ax.plot(dominated[mx], dominated[my], "o", color=POINT_COLOR, alpha=0.55, label=f"dominated ({len(dominated)})")
    if len(infeasible) or inp.constraints:
        ax.plot(infeasible[mx], infeasible[my], "x", color=INFEASIBLE_COLOR, label=f"infeasible ({len(infeasible)})")
    if step and len(on) > 1:
        ordered = on.sort_values([mx, my])
        where: Literal["post", "pre"] = "post" if not maximizes(inp.directions[i]) else "pre"
        ax.step(ordered[mx], ordered[my], where=where, color=FRONT_COLOR, linewidth=1.4, alpha=0.8, zorder=3)
    ax.plot(
        on[mx],
        on[my],
        "o",
        color=FRONT_COLOR,
        markersize=8,
        markeredgecolor="black",
        markeredgewidth=0.6,
        zorder=4,
        label=f"Pareto front ({len(on)})",
    )
    if len(on) <= MAX_LABELS:
        # Neighbours along the front take turns above-right and below-left of their points: two
        # close points labelled on the same side overlap.
        for k, (_, t) in enumerate(on.sort_values([mx, my]).iterrows()):
            ax.annotate(
                f"#{int(t['number'])}",
                (t[mx], t[my]),
                xytext=(5, 4) if k % 2 == 0 else (-5, -11),
                ha="left" if k % 2 == 0 else "right",
                textcoords="offset points",
                fontsize=8,
                color=FRONT_COLOR,
                zorder=5,
            )
    x, y = complete[mx].to_numpy(dtype=float), complete[my].to_numpy(dtype=float)
    (xlo, xhi), (ylo, yhi) = _view(ax, "x", x, on[mx], inp.directions[i]), _view(ax, "y", y, on[my], inp.directions[j])
    beyond = int(((x < xlo) | (x > xhi) | (y < ylo) | (y > yhi)).sum())
    if beyond:  # said in the corner beyond the front, where no feasible trial can be
        right, top = maximizes(inp.directions[i]), maximizes(inp.directions[j])
        ax.text(
            0.98 if right else 0.02,
            0.97 if top else 0.03,
            f"{beyond} trial(s) beyond the axes",
            transform=ax.transAxes,
            ha="right" if right else "left",
            va="top" if top else "bottom",
            fontsize=8,
            color="0.4",
        )
    ax.set_xlabel(f"{mx} ({inp.directions[i]}: better {_ARROWS['x', inp.directions[i]]})", fontsize=10)
    ax.set_ylabel(f"{my} ({inp.directions[j]}: better {_ARROWS['y', inp.directions[j]]})", fontsize=10)
    ax.tick_params(labelsize=9)
    ax.grid(True, alpha=0.3)


def _view(ax: Axes, which: str, values: np.ndarray, front: pd.Series, direction: str) -> tuple[float, float]:
    """Set one axis's scale and limits, and return the limits. Log for positive values spanning
    LOG_SPAN or more (parameter counts, times). Every trial fits on the better side; on the worse
    side the front and KEEP of the trials do: one diverged run would squeeze the front into a corner."""
    log = values.min() > 0 and values.max() / values.min() >= LOG_SPAN
    v, f = (np.log10(values), np.log10(front.to_numpy(dtype=float))) if log else (values, front.to_numpy(dtype=float))
    if maximizes(direction):
        lo, hi = min(np.quantile(v, 1 - KEEP), f.min(initial=np.inf)), v.max()
    else:
        lo, hi = v.min(), max(np.quantile(v, KEEP), f.max(initial=-np.inf))
    pad = 0.06 * (hi - lo) or 0.05 * abs(hi) or 0.05
    lo, hi = lo - pad, hi + pad
    limits = (10**lo, 10**hi) if log else (lo, hi)
    (ax.set_xscale if which == "x" else ax.set_yscale)("log" if log else "linear")
    (ax.set_xlim if which == "x" else ax.set_ylim)(*limits)
    return limits
