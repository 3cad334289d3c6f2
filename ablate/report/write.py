"""Writing the report folder: every file built in a staging folder, then swapped in whole."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import matplotlib
import pandas as pd
from matplotlib.figure import Figure

from ablate._atomic import staged_dir
from ablate.ablation.across_report import write_datasets_files
from ablate.ablation.report import write_ablation_files
from ablate.ablation.retune import RETUNED
from ablate.ablation.retune_report import write_retuned_files
from ablate.plots import DPI, plot_message
from ablate.report import insight
from ablate.report.curves_figure import plot_learning_curves
from ablate.report.figures import plot_history
from ablate.report.html import render_html
from ablate.report.importance_figure import plot_importance
from ablate.report.markdown import render_markdown
from ablate.report.model import ReportInput, run_record, study_metrics
from ablate.report.parallel_figure import plot_parallel_coordinates
from ablate.report.params_figure import plot_param_effects
from ablate.report.pareto import pareto_table, plot_pareto
from ablate.study import importance
from ablate.study.importance_record import to_record


def _write_files(folder: Path, inp: ReportInput, previous: Path) -> dict[str, str]:
    """Write every report file into ``folder``; returns kind -> file name."""
    names = {"csv": "trials.csv", "json": "run.json"}
    inp.trials.sort_values("number", kind="stable").to_csv(folder / "trials.csv", index=False)
    (folder / "run.json").write_text(json.dumps(run_record(inp), indent=2, sort_keys=True) + "\n")
    (folder / "metrics.json").write_text(json.dumps(study_metrics(inp), indent=2, sort_keys=True) + "\n")
    if inp.search:
        names.update(_write_figures(folder, inp, previous))
        study_curves(inp).to_csv(folder / CURVES_CSV, index=False)
        names["curves_csv"] = CURVES_CSV
    if inp.search and inp.multi_objective:
        pareto_table(inp).to_csv(folder / "pareto.csv", index=False)
        names["pareto_csv"] = "pareto.csv"
    if inp.importance is not None:
        inp.importance.table[importance.COLUMNS].to_csv(folder / "importance.csv", index=False, float_format="%.6g")
        names["importance_csv"] = "importance.csv"
        (folder / IMPORTANCE_RECORD).write_text(json.dumps(to_record(inp.importance)) + "\n")
    images = insight.shown_figures(inp, names)
    ablation_images = []
    if inp.retuned is not None:  # the fixed analysis's files, the re-tuned one's in retuned/, retune.*
        written = write_retuned_files(folder, inp.retuned, inp.study)
        names.update(written)
        kinds = [*ABLATION_FIGURES, "retune", *[f"{RETUNED}/{k}" for k in ABLATION_FIGURES]]
        ablation_images = [written[k] for k in kinds if k in written]
    elif inp.ablation is not None:
        written = write_ablation_files(folder, inp.ablation, inp.study)
        names.update(written)
        ablation_images = [written[k] for k in ABLATION_FIGURES if k in written]
    if inp.datasets is not None:
        written = write_datasets_files(folder, inp.datasets, inp.study)
        names.update(written)
        ablation_images = [written[k] for k in ("cd", "heatmap") if k in written]
        ablation_images += [
            written[f"{name}/{k}"]
            for name, _ in inp.datasets.datasets
            for k in ABLATION_FIGURES
            if f"{name}/{k}" in written
        ]
    (folder / "report.md").write_text(render_markdown(inp, images, ablation_images), encoding="utf-8")
    (folder / "index.html").write_text(render_html(inp, images, ablation_images), encoding="utf-8")
    return {**names, "metrics": "metrics.json", "markdown": "report.md", "html": "index.html"}


ABLATION_FIGURES = ("forest", "waterfall", "interactions")  # an ablation's, in the order shown

# Every trial's curve of the study metric, one row a (trial, step): what `dvc plots show` draws, a
# line a trial, through curves_template.json beside this file (dvc.yaml declares both).
CURVES_CSV = "curves.csv"


def study_curves(inp: ReportInput) -> pd.DataFrame:
    """``trial, step, <metric>``: the learning curves the report draws, as a table."""
    curves = inp.curves if inp.curves is not None else pd.DataFrame(columns=["number", "step", "value"])
    return curves.rename(columns={"number": "trial", "value": inp.metric})[["trial", "step", inp.metric]]


FIGURES_DIGEST = ".figures"  # what the report's figures were drawn from
# The importance table in full and what it was computed from: the next report of an unchanged
# study reads it back instead of refitting (ablate.study.importance_record).
IMPORTANCE_RECORD = ".importance.json"


def _write_figures(folder: Path, inp: ReportInput, previous: Path) -> dict[str, str]:
    """Draw the figures, or keep the previous report's when they were drawn from the same
    trials (drawing them is most of a report's cost, and a rerun usually changes no trial)."""
    # Every figure is always written (DVC declares them), and says so when there is nothing to plot.
    builders = {
        "history": lambda: plot_history(inp.trials, inp.metric, inp.direction),
        "params": lambda: _params_figure(inp),
        "parallel": lambda: _parallel_figure(inp),
        "curves": lambda: _curves_figure(inp),
        "importance": lambda: _importance_figure(inp),
    }
    if inp.multi_objective:
        builders = {"pareto": lambda: plot_pareto(inp), **builders}
    names = {kind: f"{kind}.png" for kind in builders}
    digest = _figures_digest(inp)
    old = previous / FIGURES_DIGEST
    if old.exists() and old.read_text() == digest and all((previous / n).exists() for n in names.values()):
        for name in names.values():
            shutil.copy2(previous / name, folder / name)
    else:
        for kind, build in builders.items():
            build().savefig(folder / names[kind], dpi=DPI)
    (folder / FIGURES_DIGEST).write_text(digest)
    return names


def _params_figure(inp: ReportInput) -> Figure:
    return _of_complete_trials(inp, f"{inp.metric} vs parameters", plot_param_effects)


def _parallel_figure(inp: ReportInput) -> Figure:
    return _of_complete_trials(inp, "parallel coordinates", plot_parallel_coordinates)


def _of_complete_trials(inp: ReportInput, title: str, plot: Callable[..., Figure]) -> Figure:
    """``plot`` of the searched knobs against the metric, or a figure saying why there is none."""
    why = insight.nothing_to_plot(inp)
    if why:
        return plot_message(title, why)
    return plot(inp.trials, inp.metric, inp.params, inp.direction)


def _curves_figure(inp: ReportInput) -> Figure:
    if inp.curves is None or inp.curves.empty:
        return plot_message(f"{inp.metric} per step", "no trial reported progress (ctx.report)")
    return plot_learning_curves(inp.curves, inp.trials, inp.metric, inp.direction)


def _importance_figure(inp: ReportInput) -> Figure:
    imp = inp.importance
    if imp is None or imp.table.empty:
        return plot_message("parameter importance", imp.reason if imp is not None else "not computed")
    return plot_importance(imp.table, inp.metric, imp.n_used)


@functools.cache
def _drawing_code() -> bytes:
    """The source of the code that draws the figures (this package)."""
    h = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        h.update(path.read_bytes())
    return h.digest()


def _figures_digest(inp: ReportInput) -> str:
    h = hashlib.sha256(inp.trials.sort_values("number", kind="stable").to_csv(index=False).encode())
    objectives = [inp.metrics, inp.directions, [c.text for c in inp.constraints]]
    h.update(json.dumps([*objectives, [dataclasses.astuple(p) for p in inp.params]]).encode())
    if inp.curves is not None:
        h.update(pd.util.hash_pandas_object(inp.curves, index=False).to_numpy().tobytes())
    if inp.importance is not None:
        h.update(inp.importance.table.to_csv(index=False).encode() + inp.importance.reason.encode())
    h.update(_drawing_code())  # a newer ablate may draw them differently
    h.update(matplotlib.__version__.encode())
    return h.hexdigest()


def write_report(out_dir: Path, inp: ReportInput) -> dict[str, Path]:
    """Write the report folder atomically.

    Everything is built in a hidden sibling folder, then swapped in place of ``out_dir``, so a
    crash never leaves a half-written report and readers never see old and new files mixed.

    Args:
        out_dir: The report folder, e.g. ``reports/digits``; created or replaced as a whole.
        inp: The study to report.

    Returns:
        File kind ("csv", "json", "metrics", "markdown", "html"; with a search the figures
        "history", "params", "parallel", "curves", "importance" and "importance_csv"; with
        several objectives "pareto" and "pareto_csv"; with an ablation its files; re-tuned
        (``ablation.retune``), also "retune_csv", "retune", "retune_md" and the re-tuned
        analysis's files as "retuned/<kind>") to its final path.
    """
    out_dir = Path(out_dir)
    with staged_dir(out_dir) as tmp:
        names = _write_files(tmp, inp, out_dir)
    return {kind: out_dir / name for kind, name in names.items()}
