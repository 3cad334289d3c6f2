"""Study reports: a folder with the trials CSV, run summary, figures, markdown and html.

Everything here is pure (frames in, strings and figures out) except ``write_report``, the only
function that touches disk. The plotting lives in ``ablate.plots`` and is re-exported here.
"""

from __future__ import annotations

import dataclasses
import hashlib
import html
import json
import math
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ablate._atomic import staged_dir
from ablate.ablation.analysis import (
    AblationAnalysis,
    ablation_metrics,
    html_section,
    markdown_section,
    write_ablation_files,
)
from ablate.plots import DPI, best_trial, plot_history, plot_message, plot_param_effects
from ablate.trials_table import FIXED_COLUMNS

__all__ = [
    "ParamInfo",
    "ReportInput",
    "best_trial",
    "plot_history",
    "plot_param_effects",
    "render_html",
    "render_markdown",
    "write_report",
]

_STATE_ORDER = {"COMPLETE": 0, "PRUNED": 1, "RUNNING": 2, "FAIL": 3}
_ERROR_CELL_CHARS = 80
_ERROR_TAIL_LINES = 15


@dataclass(frozen=True)
class ParamInfo:
    """A searched parameter as the report needs it."""

    name: str
    kind: str  # "float" | "int" | "categorical"
    log: bool = False  # plot x on a log scale


@dataclass(frozen=True)
class ReportInput:
    """Everything a study report shows."""

    study: str
    metric: str
    direction: str  # "maximize" | "minimize"
    trials: pd.DataFrame
    params: tuple[ParamInfo, ...]
    run: dict
    provenance: dict = field(default_factory=dict)
    top_trials: int = 0  # rows of the report's trials table, best first (0: all); trials.csv has all
    search: bool = True  # False: an ablation study with no search step
    ablation: AblationAnalysis | None = None


def _fmt(value: object, kind: str | None = None) -> str:
    """One cell as text: floats to 4 significant digits, missing values empty."""
    if value is None or (isinstance(value, (float, np.floating)) and math.isnan(value)):
        return ""
    if isinstance(value, (bool, np.bool_, str)):
        return str(value)
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        # Int parameters arrive as floats when some trial lacks them (NaN forces float64).
        if kind == "int" and float(value).is_integer():
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


def _metric_columns(inp: ReportInput) -> list[str]:
    """Metric columns in frame order, the objective first."""
    names = {p.name for p in inp.params}
    cols = [c for c in inp.trials.columns if c not in FIXED_COLUMNS and c not in names]
    return [inp.metric] + [c for c in cols if c != inp.metric]


def _sorted_for_table(inp: ReportInput) -> pd.DataFrame:
    """Trials best first: complete by objective, then pruned, running and failed by number."""
    trials = inp.trials
    values = pd.to_numeric(trials[inp.metric], errors="coerce")
    complete = (trials["state"] == "COMPLETE") & values.notna()
    group = np.where(complete, 0, trials["state"].map(_STATE_ORDER).fillna(2).to_numpy() + 1)
    score = values.where(complete, 0.0)
    key = pd.DataFrame(
        {
            "group": group,
            "score": -score if inp.direction == "maximize" else score,
            "number": trials["number"],
        },
        index=trials.index,
    )
    ordered = trials.loc[key.sort_values(["group", "score", "number"], kind="stable").index]
    return ordered.head(inp.top_trials) if inp.top_trials else ordered


def _shown_note(inp: ReportInput) -> list[str]:
    """Say so when the table shows only the best trials (report.top_trials)."""
    if not inp.top_trials or len(inp.trials) <= inp.top_trials:
        return []
    return [f"The best {inp.top_trials} of {len(inp.trials)} trials; trials.csv has every trial.", ""]


def _trials_table(inp: ReportInput) -> tuple[list[str], list[list[str]]]:
    """Header and text rows of the trials table, shared by markdown and html."""
    kinds = {p.name: p.kind for p in inp.params}
    cols = ["number", "state", *_metric_columns(inp)]
    cols += [p.name for p in inp.params if p.name in inp.trials.columns]
    cols += [c for c in ("duration_s", "worker", "reason", "error") if c in inp.trials.columns]
    rows = [
        [_error_summary(t[c]) if c == "error" else _fmt(t[c], kinds.get(c)) for c in cols]
        for _, t in _sorted_for_table(inp).iterrows()
    ]
    return cols, rows


def _summary(inp: ReportInput) -> str:
    """One line of counts: states from the frame, cache and timing from the run summary."""
    states = inp.trials["state"].value_counts()
    parts = [
        f"{len(inp.trials)} trials: {states.get('COMPLETE', 0)} complete, "
        f"{states.get('PRUNED', 0)} pruned, {states.get('FAIL', 0)} failed"
    ]
    if "executed" in inp.run or "cached" in inp.run:
        last = f"last search: {inp.run.get('executed', 0)} executed, {inp.run.get('cached', 0)} from the cache"
        if isinstance(inp.run.get("search_wall_s"), (int, float)):
            last += f" in {_fmt(float(inp.run['search_wall_s']))} s"
        parts.append(last)
    return "; ".join(parts) + "."


def _best_params(inp: ReportInput, best: pd.Series) -> list[list[str]]:
    return [[p.name, _fmt(best.get(p.name), p.kind)] for p in inp.params]


def _failure_groups(inp: ReportInput) -> list[tuple[str, str]]:
    """(heading, error tail) per distinct error, so 30 identical tracebacks print once."""
    trials = inp.trials.sort_values("number", kind="stable")
    errors = trials["error"].fillna("").astype(str)
    failed = trials[(trials["state"] == "FAIL") | (errors != "")]
    groups: dict[str, list[pd.Series]] = {}
    for _, trial in failed.iterrows():
        groups.setdefault(_error_tail(trial["error"]), []).append(trial)
    out = []
    for tail, members in groups.items():
        numbers = ", ".join(str(t["number"]) for t in members)
        workers = ", ".join(dict.fromkeys(str(t.get("worker", "")) for t in members))
        states = "/".join(dict.fromkeys(str(t["state"]) for t in members))
        reasons = [r for r in dict.fromkeys(t.get("reason") for t in members) if isinstance(r, str) and r]
        states += f", reason {'/'.join(reasons)}" if reasons else ""
        noun = "Trial" if len(members) == 1 else f"{len(members)} trials:"
        out.append((f"{noun} {numbers} ({states}; worker {workers})", tail or "(no message)"))
    return out


def _provenance_rows(inp: ReportInput) -> list[list[str]]:
    def text(v: object) -> str:
        return json.dumps(v, sort_keys=True) if isinstance(v, (dict, list, tuple)) else str(v)

    return [[str(k), text(v)] for k, v in inp.provenance.items()]


def _md_cell(text: str) -> str:
    # A pipe would split the cell, a newline would end the row.
    return text.replace("|", "\\|").replace("\n", " ")


def _md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(_md_cell(h) for h in header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
    return lines


def render_markdown(inp: ReportInput, images: list[str], ablation_images: list[str] = ()) -> str:
    """Render the report as markdown.

    Args:
        inp: The study to report.
        images: Image file names, relative to the report folder, in display order.

    Returns:
        Markdown: title, counts, best trial with its parameters, figures, the trials table (best
        first, failed last), failed trials with their errors, and provenance if any.
    """
    out = [f"# Study `{inp.study}`: {inp.metric} ({inp.direction})", ""]
    if inp.ablation is not None:
        out += [markdown_section(inp.ablation, ablation_images), ""]
    if not inp.search:
        return "\n".join(out + _md_provenance(inp))
    out += ["## Search", "", _summary(inp), "", "## Best trial", ""]
    best = best_trial(inp.trials, inp.metric, inp.direction)
    if best is None:
        out += ["No trial completed, so there is no best trial.", ""]
    else:
        out += [f"Trial **{best['number']}**: {inp.metric} = **{_fmt(best[inp.metric])}**", ""]
        if inp.params:
            out += [*_md_table(["parameter", "value"], _best_params(inp, best)), ""]
    if images:
        out += ["## Figures", ""] + [f"![{Path(i).stem}]({i})\n" for i in images]
    out += ["## Trials", "", *_md_table(*_trials_table(inp)), "", *_shown_note(inp)]
    failures = _failure_groups(inp)
    if failures:
        out += ["## Failed trials", ""]
        for heading, tail in failures:
            out += [f"### {heading}", "", "```text", tail, "```", ""]
    return "\n".join(out + _md_provenance(inp))


def _md_provenance(inp: ReportInput) -> list[str]:
    if not inp.provenance:
        return []
    return ["## Provenance", "", *_md_table(["key", "value"], _provenance_rows(inp)), ""]


# ----------------------------------------------------------------------------- html

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto;
       max-width: 1100px; padding: 0 1rem; color: #222; line-height: 1.45; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.25rem; margin-top: 2rem;
     border-bottom: 1px solid #ddd; padding-bottom: .2rem; }
table { border-collapse: collapse; font-size: .88rem; margin: .5rem 0; }
th, td { border: 1px solid #ddd; padding: .25rem .55rem; text-align: left; }
th { background: #f3f4f6; } tr:nth-child(even) td { background: #fafafa; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.FAIL td { color: #b91c1c; } tr.PRUNED td, tr.RUNNING td { color: #92400e; }
tr.best td { background: #ecfdf5; font-weight: 600; }
.table-wrap { overflow-x: auto; }
img { max-width: 100%; height: auto; display: block; margin: .8rem 0; }
pre { background: #f6f8fa; padding: .6rem; overflow-x: auto; font-size: .8rem; }
code { background: #f3f4f6; padding: 0 .2rem; }
"""


def _html_table(
    header: list[str], rows: list[list[str]], row_classes: list[str] | None = None, numeric: set[str] | None = None
) -> str:
    numeric = numeric or set()
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    td = ['<td class="num">' if h in numeric else "<td>" for h in header]
    body = []
    for i, row in enumerate(rows):
        cls = f' class="{html.escape(row_classes[i])}"' if row_classes else ""
        cells = "".join(f"{td[j]}{html.escape(c)}</td>" for j, c in enumerate(row))
        body.append(f"<tr{cls}>{cells}</tr>")
    return f'<div class="table-wrap"><table><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>'


def _html_trials(inp: ReportInput, best: pd.Series | None) -> str:
    header, rows = _trials_table(inp)
    ordered = _sorted_for_table(inp)
    best_number = None if best is None else best["number"]
    classes = [
        f"{s} best" if n == best_number else str(s) for s, n in zip(ordered["state"], ordered["number"], strict=True)
    ]
    kinds = {p.name: p.kind for p in inp.params}
    numeric = {"number", "duration_s", *_metric_columns(inp)}
    numeric |= {n for n, k in kinds.items() if k != "categorical"}
    return _html_table(header, rows, classes, numeric)


def _html_best(inp: ReportInput, best: pd.Series | None) -> list[str]:
    if best is None:
        return ["<p>No trial completed, so there is no best trial.</p>"]
    out = [
        f"<p>Trial <strong>{html.escape(str(best['number']))}</strong>: "
        f"{html.escape(inp.metric)} = <strong>{html.escape(_fmt(best[inp.metric]))}"
        "</strong></p>"
    ]
    if inp.params:
        out.append(_html_table(["parameter", "value"], _best_params(inp, best)))
    return out


def _html_failures(inp: ReportInput) -> list[str]:
    out = [f"<h3>{html.escape(heading)}</h3>\n<pre>{html.escape(tail)}</pre>" for heading, tail in _failure_groups(inp)]
    return ["<h2>Failed trials</h2>", *out] if out else []


def render_html(inp: ReportInput, images: list[str], ablation_images: list[str] = ()) -> str:
    """Render the report as one self-contained html page.

    Args:
        inp: The study to report.
        images: Image file names, relative to the report folder, in display order.

    Returns:
        An html document with inline CSS and no scripts or external URLs; the same content as
        ``render_markdown``, images referenced by their relative file names.
    """
    esc = html.escape
    title = f"Study {inp.study}: {inp.metric} ({inp.direction})"
    body = [f"<h1>{esc(title)}</h1>"]
    if inp.ablation is not None:
        body.append(html_section(inp.ablation, ablation_images))
    if inp.search:
        body += _html_search(inp, images)
    if inp.provenance:
        body += ["<h2>Provenance</h2>", _html_table(["key", "value"], _provenance_rows(inp))]
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{esc(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )


def _html_search(inp: ReportInput, images: list[str]) -> list[str]:
    esc = html.escape
    best = best_trial(inp.trials, inp.metric, inp.direction)
    body = ["<h2>Search</h2>", f"<p>{esc(_summary(inp))}</p>", "<h2>Best trial</h2>", *_html_best(inp, best)]
    if images:
        body += ["<h2>Figures</h2>"]
        body += [f'<img src="{esc(i, quote=True)}" alt="{esc(Path(i).stem)}">' for i in images]
    note = [f'<p class="note">{esc(n)}</p>' for n in _shown_note(inp) if n]
    body += ["<h2>Trials</h2>", _html_trials(inp, best), *note, *_html_failures(inp)]
    return body


def _write_files(folder: Path, inp: ReportInput, previous: Path) -> dict[str, str]:
    """Write every report file into ``folder``; returns kind -> file name."""
    names = {"csv": "trials.csv", "json": "run.json"}
    inp.trials.sort_values("number", kind="stable").to_csv(folder / "trials.csv", index=False)
    (folder / "run.json").write_text(json.dumps(inp.run, indent=2, sort_keys=True) + "\n")
    (folder / "metrics.json").write_text(json.dumps(study_metrics(inp), indent=2, sort_keys=True) + "\n")
    if inp.search:
        names.update(_write_figures(folder, inp, previous))
    images = [names[k] for k in ("history", "params") if k in names]
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
    digest = _figures_digest(inp)
    old = previous / FIGURES_DIGEST
    if old.exists() and old.read_text() == digest and all((previous / n).exists() for n in names.values()):
        for name in names.values():
            shutil.copy2(previous / name, folder / name)
    else:
        plot_history(inp.trials, inp.metric, inp.direction).savefig(folder / "history.png", dpi=DPI)
        _params_figure(inp).savefig(folder / "params.png", dpi=DPI)
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
    h.update(json.dumps([inp.metric, inp.direction, [dataclasses.astuple(p) for p in inp.params]]).encode())
    h.update(matplotlib.__version__.encode())
    return h.hexdigest()


def study_metrics(inp: ReportInput) -> dict[str, object]:
    """The study's headline numbers (``dvc metrics show``): no timings, so a rerun that changes
    nothing shows no difference."""
    out: dict[str, object] = {}
    if inp.search:
        best = best_trial(inp.trials, inp.metric, inp.direction)
        counts = inp.trials["state"].value_counts()
        out = {
            "best_value": None if best is None else float(best[inp.metric]),
            "best_trial": None if best is None else int(best["number"]),
            "complete": int(counts.get("COMPLETE", 0)),
            "failed": int(counts.get("FAIL", 0)),
            "pruned": int(counts.get("PRUNED", 0)),
            "trials": int(len(inp.trials)),
        }
    if inp.ablation is not None:
        out["ablation"] = ablation_metrics(inp.ablation)
    return out


def write_report(out_dir: Path, inp: ReportInput) -> dict[str, Path]:
    """Write the report folder atomically.

    Everything is built in a hidden sibling folder, then swapped in place of ``out_dir``, so a
    crash never leaves a half-written report and readers never see old and new files mixed.

    Args:
        out_dir: The report folder, e.g. ``reports/digits``; created or replaced as a whole.
        inp: The study to report.

    Returns:
        File kind ("csv", "json", "markdown", "html", "history" and, when drawn, "params") to
        its final path.
    """
    out_dir = Path(out_dir)
    with staged_dir(out_dir) as tmp:
        names = _write_files(tmp, inp, out_dir)
    return {kind: out_dir / name for kind, name in names.items()}
