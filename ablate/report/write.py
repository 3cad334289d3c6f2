"""Writing the report folder: every file built in a staging folder, then swapped in whole."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
from pathlib import Path

import matplotlib
from matplotlib.figure import Figure

from ablate._atomic import staged_dir
from ablate.ablation.report import write_ablation_files
from ablate.report.figures import DPI, plot_history, plot_message
from ablate.report.html import render_html
from ablate.report.markdown import render_markdown
from ablate.report.model import ReportInput, run_record, study_metrics
from ablate.report.params_figure import plot_param_effects
from ablate.report.pareto import pareto_table, plot_pareto
from ablate.study.table import best_trial


def _write_files(folder: Path, inp: ReportInput, previous: Path) -> dict[str, str]:
    """Write every report file into ``folder``; returns kind -> file name."""
    names = {"csv": "trials.csv", "json": "run.json"}
    inp.trials.sort_values("number", kind="stable").to_csv(folder / "trials.csv", index=False)
    (folder / "run.json").write_text(json.dumps(run_record(inp), indent=2, sort_keys=True) + "\n")
    (folder / "metrics.json").write_text(json.dumps(study_metrics(inp), indent=2, sort_keys=True) + "\n")
    if inp.search:
        names.update(_write_figures(folder, inp, previous))
    if inp.search and inp.multi_objective:
        pareto_table(inp).to_csv(folder / "pareto.csv", index=False)
        names["pareto_csv"] = "pareto.csv"
    images = [names[k] for k in ("pareto", "history", "params") if k in names]
    ablation_images = []
    if inp.ablation is not None:
        written = write_ablation_files(folder, inp.ablation, inp.study)
        names.update(written)
        ablation_images = [written[k] for k in ("forest", "waterfall", "interactions") if k in written]
    (folder / "report.md").write_text(render_markdown(inp, images, ablation_images), encoding="utf-8")
    (folder / "index.html").write_text(render_html(inp, images, ablation_images), encoding="utf-8")
    return {**names, "metrics": "metrics.json", "markdown": "report.md", "html": "index.html"}


FIGURES_DIGEST = ".figures"  # what the report's figures were drawn from


def _write_figures(folder: Path, inp: ReportInput, previous: Path) -> dict[str, str]:
    """Draw the figures, or keep the previous report's when they were drawn from the same
    trials (drawing them is most of a report's cost, and a rerun usually changes no trial)."""
    # params.png is always written (DVC declares it), and says so when there is nothing to plot.
    names = {"history": "history.png", "params": "params.png"}
    if inp.multi_objective:
        names["pareto"] = "pareto.png"
    digest = _figures_digest(inp)
    old = previous / FIGURES_DIGEST
    if old.exists() and old.read_text() == digest and all((previous / n).exists() for n in names.values()):
        for name in names.values():
            shutil.copy2(previous / name, folder / name)
    else:
        plot_history(inp.trials, inp.metric, inp.direction).savefig(folder / "history.png", dpi=DPI)
        _params_figure(inp).savefig(folder / "params.png", dpi=DPI)
        if inp.multi_objective:
            plot_pareto(inp).savefig(folder / "pareto.png", dpi=DPI)
    (folder / FIGURES_DIGEST).write_text(digest)
    return names


def _params_figure(inp: ReportInput) -> Figure:
    title = f"{inp.metric} vs parameters"
    if not inp.params:
        return plot_message(title, "no parameter is searched")
    if best_trial(inp.trials, inp.metric, inp.direction) is None:
        return plot_message(title, "no trial completed")
    return plot_param_effects(inp.trials, inp.metric, inp.params, inp.direction)


def _figures_digest(inp: ReportInput) -> str:
    h = hashlib.sha256(inp.trials.sort_values("number", kind="stable").to_csv(index=False).encode())
    objectives = [inp.metrics, inp.directions, [c.text for c in inp.constraints]]
    h.update(json.dumps([*objectives, [dataclasses.astuple(p) for p in inp.params]]).encode())
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
        File kind ("csv", "json", "markdown", "html", "history" and, when drawn, "params"; with
        several objectives "pareto" and "pareto_csv") to its final path.
    """
    out_dir = Path(out_dir)
    with staged_dir(out_dir) as tmp:
        names = _write_files(tmp, inp, out_dir)
    return {kind: out_dir / name for kind, name in names.items()}
