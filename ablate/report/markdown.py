"""The report as markdown (``report.md``, and the Prefect artifact)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ablate.ablation.across_report import datasets_markdown, images_by_dataset
from ablate.ablation.report import markdown_section
from ablate.ablation.retune_report import retuned_markdown
from ablate.report import insight
from ablate.report.model import (
    ReportInput,
    best_note,
    best_params,
    failure_groups,
    fmt,
    provenance_rows,
    shown_note,
    summary_line,
    trials_table,
)
from ablate.report.pareto import feasibility_note, front_rows, front_summary
from ablate.study.table import best_trial
from ablate.vocab.objectives import describe_objectives


def _md_cell(text: str) -> str:
    # A pipe would split the cell, a newline would end the row.
    return text.replace("|", "\\|").replace("\n", " ")


def _md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(_md_cell(h) for h in header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
    return lines


def render_markdown(inp: ReportInput, images: list[str], ablation_images: Sequence[str] = ()) -> str:
    """Render the report as markdown.

    Args:
        inp: The study to report.
        images: Image file names, relative to the report folder, in display order.

    Returns:
        Markdown: title, counts, best trial with its parameters, figures, the trials table (best
        first, failed last), failed trials with their errors, and provenance if any.
    """
    out = [f"# Study `{inp.study}`: {describe_objectives(inp.metrics, inp.directions)}", ""]
    if inp.retuned is not None:  # the fixed analysis (inp.ablation), the comparison, the re-tuned one
        out += [retuned_markdown(inp.retuned, images_by_dataset(ablation_images)), ""]
    elif inp.ablation is not None:
        out += [markdown_section(inp.ablation, ablation_images), ""]
    if inp.datasets is not None:
        out += [datasets_markdown(inp.datasets, images_by_dataset(ablation_images)), ""]
    if not inp.search:
        return "\n".join(out + _md_provenance(inp))
    out += ["## Search", "", summary_line(inp), ""]
    out += _md_front(inp) if inp.multi_objective else _md_best(inp)
    figures = [i for i in images if Path(i).stem in insight.SEARCH_FIGURES]
    if figures:
        out += ["## Figures", "", *[line for i in figures for line in _md_figure(inp, i)]]
        out += [note + "\n" for note in (insight.no_curves_note(inp),) if note]
    out += _md_importance(inp, images)
    out += ["## Trials", "", *_md_table(*trials_table(inp)), "", *shown_note(inp)]
    failures = failure_groups(inp)
    if failures:
        out += ["## Failed trials", ""]
        for heading, tail in failures:
            out += [f"### {heading}", "", "```text", tail, "```", ""]
    return "\n".join(out + _md_provenance(inp))


def _md_best(inp: ReportInput) -> list[str]:
    out = ["## Best trial", ""]
    best = best_trial(inp.trials, inp.metric, inp.direction)
    note = feasibility_note(inp)
    if best is None:
        none = "No feasible trial completed" if note else "No trial completed"
        return [*out, f"{none}, so there is no best trial.", "", *([note, ""] if note else [])]
    out += [f"Trial **{best['number']}**: {inp.metric} = **{fmt(best[inp.metric])}**{best_note(inp, best)}", ""]
    out += [note, ""] if note else []
    if inp.params:
        out += [*_md_table(["parameter", "value"], best_params(inp, best)), ""]
    return [*out, insight.best_over_seeds(inp), ""]


def _md_front(inp: ReportInput) -> list[str]:
    out = ["## Pareto front", "", front_summary(inp), ""]
    note = feasibility_note(inp)
    out += [note, ""] if note else []
    header, rows = front_rows(inp)
    return out + ([*_md_table(header, rows), ""] if rows else [])


def _md_figure(inp: ReportInput, image: str) -> list[str]:
    stem = Path(image).stem
    return [f"![{stem}]({image})", "", f"*{_md_cell(insight.caption(inp, stem))}*", ""]


def _md_importance(inp: ReportInput, images: list[str]) -> list[str]:
    intro = insight.importance_intro(inp)
    if not intro:
        return []
    out = ["## Parameter importance", "", intro, ""]
    out += [line for i in images if Path(i).stem == "importance" for line in _md_figure(inp, i)]
    header, rows = insight.importance_rows(inp)
    if rows:
        out += [*_md_table(header, rows), ""]
    notes = inp.importance.notes if inp.importance is not None else ()
    return out + [f"- {n}" for n in notes] + ([""] if notes else [])


def _md_provenance(inp: ReportInput) -> list[str]:
    if not inp.provenance:
        return []
    return ["## Provenance", "", *_md_table(["key", "value"], provenance_rows(inp)), ""]
