"""The report as one self-contained html page (``index.html``): inline CSS, no scripts."""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from ablate.ablation.across_report import datasets_html, images_by_dataset
from ablate.ablation.report import html_section
from ablate.ablation.retune_report import retuned_html
from ablate.report import insight
from ablate.report.model import (
    ReportInput,
    best_note,
    best_params,
    failure_groups,
    fmt,
    metric_columns,
    provenance_rows,
    shown_note,
    sorted_for_table,
    summary_line,
    trials_table,
)
from ablate.report.pareto import feasibility_note, front_rows, front_summary
from ablate.study.pareto import front_numbers
from ablate.study.table import best_trial
from ablate.vocab.objectives import describe_objectives

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto;
       max-width: 1100px; padding: 0 1rem; color: #222; line-height: 1.45; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.25rem; margin-top: 2rem;
     border-bottom: 1px solid #ddd; padding-bottom: .2rem; }
table { border-collapse: collapse; font-size: .88rem; margin: .5rem 0; }
th, td { border: 1px solid #ddd; padding: .25rem .55rem; text-align: left; }
th { background: #f3f4f6; } tr:nth-child(even) td { background: #fafafa; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td:first-child { white-space: nowrap; }
tr.FAIL td { color: #b91c1c; } tr.PRUNED td, tr.RUNNING td { color: #92400e; }
tr.best td { background: #ecfdf5; font-weight: 600; }
.table-wrap { overflow-x: auto; }
img { max-width: 100%; height: auto; display: block; margin: .8rem 0; }
figure { margin: 1rem 0 1.4rem; } figcaption { font-size: .88rem; color: #444; font-style: italic; }
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
    header, rows = trials_table(inp)
    ordered = sorted_for_table(inp)
    highlighted = {best["number"]} if best is not None else set(front_numbers(inp.trials))
    classes = [
        f"{s} best" if n in highlighted else str(s) for s, n in zip(ordered["state"], ordered["number"], strict=True)
    ]
    kinds = {p.name: p.kind for p in inp.params}
    numeric = {"number", "duration_s", *metric_columns(inp)}
    numeric |= {n for n, k in kinds.items() if k != "categorical"}
    return _html_table(header, rows, classes, numeric)


def _html_best(inp: ReportInput, best: pd.Series | None) -> list[str]:
    note = [f"<p>{html.escape(n)}</p>" for n in [feasibility_note(inp)] if n]
    if best is None:
        return [f"<p>No {'feasible ' if note else ''}trial completed, so there is no best trial.</p>", *note]
    out = [
        f"<p>Trial <strong>{html.escape(str(best['number']))}</strong>: "
        f"{html.escape(inp.metric)} = <strong>{html.escape(fmt(best[inp.metric]))}"
        f"</strong>{html.escape(best_note(inp, best))}</p>",
        *note,
    ]
    if inp.params:
        out.append(_html_table(["parameter", "value"], best_params(inp, best)))
    return [*out, f"<p>{_inline_code(insight.best_over_seeds(inp))}</p>"]


def _inline_code(text: str) -> str:
    """Escape ``text``, its `backticked` parts as <code>."""
    parts = html.escape(text).split("`")
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))


def _html_figure(inp: ReportInput, image: str) -> str:
    esc, stem = html.escape, Path(image).stem
    return (
        f'<figure><img src="{esc(image, quote=True)}" alt="{esc(stem)}">'
        f"<figcaption>{esc(insight.caption(inp, stem))}</figcaption></figure>"
    )


def _html_importance(inp: ReportInput, images: list[str]) -> list[str]:
    intro = insight.importance_intro(inp)
    if not intro:
        return []
    body = ["<h2>Parameter importance</h2>", f"<p>{html.escape(intro)}</p>"]
    body += [_html_figure(inp, i) for i in images if Path(i).stem == "importance"]
    header, rows = insight.importance_rows(inp)
    if rows:
        body.append(_html_table(header, rows))
    notes = inp.importance.notes if inp.importance is not None else ()
    return body + ([f"<ul>{''.join(f'<li>{html.escape(n)}</li>' for n in notes)}</ul>"] if notes else [])


def _html_failures(inp: ReportInput) -> list[str]:
    out = [f"<h3>{html.escape(heading)}</h3>\n<pre>{html.escape(tail)}</pre>" for heading, tail in failure_groups(inp)]
    return ["<h2>Failed trials</h2>", *out] if out else []


def render_html(inp: ReportInput, images: list[str], ablation_images: Sequence[str] = ()) -> str:
    """Render the report as one self-contained html page.

    Args:
        inp: The study to report.
        images: Image file names, relative to the report folder, in display order.

    Returns:
        An html document with inline CSS and no scripts or external URLs; the same content as
        ``render_markdown``, images referenced by their relative file names.
    """
    esc = html.escape
    title = f"Study {inp.study}: {describe_objectives(inp.metrics, inp.directions)}"
    body = [f"<h1>{esc(title)}</h1>"]
    if inp.retuned is not None:  # the fixed analysis (inp.ablation), the comparison, the re-tuned one
        body.append(retuned_html(inp.retuned, images_by_dataset(ablation_images)))
    elif inp.ablation is not None:
        body.append(html_section(inp.ablation, ablation_images))
    if inp.datasets is not None:
        body.append(datasets_html(inp.datasets, images_by_dataset(ablation_images)))
    if inp.search:
        body += _html_search(inp, images)
    if inp.provenance:
        body += ["<h2>Provenance</h2>", _html_table(["key", "value"], provenance_rows(inp))]
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{esc(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )


def _html_search(inp: ReportInput, images: list[str]) -> list[str]:
    esc = html.escape
    best = None if inp.multi_objective else best_trial(inp.trials, inp.metric, inp.direction)
    body = ["<h2>Search</h2>", f"<p>{esc(summary_line(inp))}</p>"]
    if inp.multi_objective:
        header, rows = front_rows(inp)
        body += ["<h2>Pareto front</h2>", f"<p>{esc(front_summary(inp))}</p>"]
        body += [f"<p>{esc(n)}</p>" for n in [feasibility_note(inp)] if n]
        body += [_html_table(header, rows, numeric=set(header[: 1 + len(inp.metrics)]))] if rows else []
    else:
        body += ["<h2>Best trial</h2>", *_html_best(inp, best)]
    figures = [i for i in images if Path(i).stem in insight.SEARCH_FIGURES]
    if figures:
        body += ["<h2>Figures</h2>", *[_html_figure(inp, i) for i in figures]]
        body += [f"<p>{esc(n)}</p>" for n in (insight.no_curves_note(inp),) if n]
    body += _html_importance(inp, images)
    note = [f'<p class="note">{esc(n)}</p>' for n in shown_note(inp) if n]
    body += ["<h2>Trials</h2>", _html_trials(inp, best), *note, *_html_failures(inp)]
    return body
