"""An ablation on several data sets in a study report: each data set's own ablation (its table,
verdicts and figures in a folder of its name), ``ablation.csv`` with a ``dataset`` column, and the
analysis across them (``across.csv``, ``across.md``, the critical-difference diagram ``cd.png``,
the arms x data sets heat map ``heatmap.png``) with a paragraph a paper can take."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ablate.ablation.across import AcrossAnalysis, analyze_across
from ablate.ablation.across_text import across_legend, across_table, finite
from ablate.ablation.analysis import AblationAnalysis
from ablate.ablation.paragraph import p_phrase
from ablate.ablation.report import (
    DPI,
    ablation_metrics,
    ablation_summary,
    markdown_section,
    metric_number,
    write_ablation_files,
)
from ablate.vocab.direction import maximizes
from ablate.vocab.direction import sign as gain_sign

ACROSS_CSV = "across.csv"
ACROSS_MD = "across.md"


@dataclass(frozen=True)
class DatasetsAblation:
    """One ablation run on several data sets: each one's analysis, in the order of
    ``data.sources``, and the analysis across them (None, with ``why_not``, where it cannot run
    yet: fewer than 2 data sets or 3 arms complete)."""

    datasets: tuple[tuple[str, AblationAnalysis], ...]
    across: AcrossAnalysis | None
    why_not: str = ""

    @property
    def first(self) -> AblationAnalysis:
        return self.datasets[0][1]


def values_of(datasets: Sequence[tuple[str, AblationAnalysis]]) -> pd.DataFrame:
    """``dataset, arm, seed, value``: the study metric of every complete (data set, arm, seed)."""
    frames = []
    for name, a in datasets:
        runs = a.runs[a.runs["status"] == "complete"]
        if a.metric in runs.columns:
            frames.append(
                pd.DataFrame({"dataset": name, "arm": runs["arm"], "seed": runs["seed"], "value": runs[a.metric]})
            )
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["dataset", "arm", "seed", "value"])


def analyze_datasets(datasets: Sequence[tuple[str, AblationAnalysis]], seed: int = 0) -> DatasetsAblation:
    """Each data set's analysis and the one across them."""
    a = datasets[0][1]
    baseline = str(a.table.loc[a.table["role"] == "baseline", "arm"].iloc[0])
    try:
        across = analyze_across(values_of(datasets), baseline, a.metric, a.direction, a.min_effect, a.alpha, seed)
    except ValueError as err:
        return DatasetsAblation(tuple(datasets), None, str(err))
    return DatasetsAblation(tuple(datasets), across)


def write_datasets_files(folder: Path, d: DatasetsAblation, study: str) -> dict[str, str]:
    """Each data set's ablation files in ``folder/<data set>/``; in ``folder``: ``ablation.csv`` and
    ``ablation_runs.csv`` of all of them with a ``dataset`` column, and the across analysis."""
    names: dict[str, str] = {}
    for name, a in d.datasets:
        (folder / name).mkdir()
        written = write_ablation_files(folder / name, a, f"{study} on {name}")
        names.update({f"{name}/{kind}": f"{name}/{file}" for kind, file in written.items()})
    tables = [a.table.assign(dataset=name)[["dataset", *a.table.columns]] for name, a in d.datasets]
    pd.concat(tables, ignore_index=True).to_csv(folder / "ablation.csv", index=False)
    runs = [a.runs.assign(dataset=name)[["dataset", *a.runs.columns]] for name, a in d.datasets]
    pd.concat(runs, ignore_index=True).to_csv(folder / "ablation_runs.csv", index=False)
    names.update(ablation_csv="ablation.csv", ablation_runs_csv="ablation_runs.csv")
    if d.across is not None:
        d.across.table.to_csv(folder / ACROSS_CSV, index=False)
        names["across_csv"] = ACROSS_CSV
        for kind, fig in across_figures(d).items():
            fig.savefig(folder / f"{kind}.png", dpi=DPI)
            names[kind] = f"{kind}.png"
    (folder / ACROSS_MD).write_text(across_markdown(d, [n for k, n in names.items() if k in ("cd", "heatmap")]))
    names["ablation_md"] = ACROSS_MD
    return names


def across_figures(d: DatasetsAblation) -> dict[str, Any]:
    # scikit-posthocs' diagram only when a report draws it: the report imports this module for
    # every study, and most have one data set.
    from ablate.ablation.across_figures import plot_critical_difference, plot_heatmap

    a = d.across
    assert a is not None
    # arm x data set: the paired Δ each data set's verdict rests on, where the arm is compared with
    # the baseline; else the difference of the means.
    deltas = a.means.drop(columns=[a.baseline]).sub(a.means[a.baseline], axis=0).T
    for name, an in d.datasets:
        paired = an.table[an.table["reference"] == a.baseline].set_index("arm")["delta"]
        if name in deltas.columns:
            deltas.loc[deltas.index.intersection(paired.index), name] = paired
    deltas = deltas[[name for name, _ in d.datasets if name in deltas.columns]]  # in the order of data.sources
    verdicts = pd.DataFrame(
        {name: an.table.set_index("arm")["verdict"] for name, an in d.datasets if name in deltas.columns}
    ).reindex(index=deltas.index, columns=deltas.columns)
    return {
        "cd": plot_critical_difference(a),
        "heatmap": plot_heatmap(deltas, verdicts.fillna(""), a.metric, a.direction),
    }


def figure_caption(d: DatasetsAblation, kind: str) -> str:
    a = d.across
    if a is None:
        return ""
    return {
        "cd": f"Critical-difference diagram: each arm at its average rank over the {len(a.means)} data sets "
        f"(ranks of the per-data-set means of {a.metric}, 1 = best); a bar joins arms that Nemenyi's test does "
        f"not separate at α = {a.alpha:g}. It uses the per-data-set means only: the seeds are in the "
        "hierarchical test of the table.",
        "heatmap": f"Each arm's Δ {a.metric} against the baseline on each data set (the mean paired "
        "difference over the seeds both ran, as in that data set's table), coloured by side, with that data "
        "set's verdict.",
    }.get(kind, "")


def across_markdown(d: DatasetsAblation, images: Sequence[str]) -> str:
    """The across section: the paragraph, the table with its legend, the figures, the notes."""
    names = [name for name, _ in d.datasets]
    out = [f"## Across {len(names)} data sets", ""]
    if d.across is None:
        return "\n".join(out + [f"No analysis across the data sets yet: {d.why_not}.", ""])
    a = d.across
    out += ["### The results, as a paper would write them", "", f"> {across_paragraph(d)}", ""]
    out += ["### The table (across.csv)", "", across_table(a).to_markdown(index=False, disable_numparse=True), ""]
    out += [*across_legend(a), ""]
    out += [
        line for i in images for line in (f"![{Path(i).stem}]({i})", "", f"*{figure_caption(d, Path(i).stem)}*", "")
    ]
    out += ["### Each data set", "", *[f"- **{name}**: {ablation_summary(an)}" for name, an in d.datasets], ""]
    if a.notes:
        out += ["### Notes", "", *[f"- {n}" for n in a.notes], ""]
    return "\n".join(out)


def datasets_markdown(d: DatasetsAblation, images: Mapping[str, Sequence[str]]) -> str:
    """The across section, then each data set's own ablation section (``images``: the across
    figures under ``""``, each data set's under its name, relative to the report folder)."""
    out = [across_markdown(d, images.get("", ()))]
    for name, a in d.datasets:
        section = markdown_section(a, images.get(name, ()))
        head, _, rest = section.partition("\n")
        title = head.removeprefix("## ")
        out.append(f"## On {name}: {title[:1].lower()}{title[1:]}\n{rest}")
    return "\n".join(out)


def datasets_html(d: DatasetsAblation, images: Mapping[str, Sequence[str]]) -> str:
    """The same sections as :func:`datasets_markdown`, as html (Python-Markdown with tables)."""
    import markdown

    return markdown.markdown(datasets_markdown(d, images), extensions=["tables"], output_format="html")


def images_by_dataset(images: Sequence[str]) -> dict[str, list[str]]:
    """The report's ablation images by data set (``wine/forest.png`` under ``wine``), those across
    them under ``""``."""
    out: dict[str, list[str]] = {}
    for image in images:
        folder = str(Path(image).parent)
        out.setdefault("" if folder == "." else folder, []).append(image)
    return out


def across_paragraph(d: DatasetsAblation) -> str:
    """The across results in prose; every number is a cell of across.csv (or its legend's Friedman)."""
    a = d.across
    assert a is not None
    first = d.first
    names = [name for name, _ in d.datasets if name in a.means.index]
    arms = a.table[a.table["role"] == "arm"]
    worse = "lower" if maximizes(a.direction) else "higher"
    plural = "s" if len(arms) != 1 else ""
    friedman = f"χ² = {a.friedman_stat:.2f}, p {p_phrase(a.friedman_p)}"
    out = [
        f"We ablated {len(arms)} arm{plural} ({first.policy}) against the baseline on {len(names)} data sets "
        f"({', '.join(names)}), with paired seeds on each.",
        f"The arms' ranks differ across the data sets by Friedman's test ({friedman})."
        if a.friedman_p <= a.alpha
        else f"Friedman's test finds no difference among the arms' ranks ({friedman}).",
    ]
    sign = gain_sign(a.direction)
    for r in arms.itertuples():
        on = int((sign * (a.means[r.arm] - a.means[a.baseline]) < 0).sum())
        sentence = (
            f"{r.arm} scored {worse} than the baseline on {on} of {len(a.means)} data sets "
            f"(mean rank {r.mean_rank:.2f}, Holm p {p_phrase(r.p_rank_holm)})"
        )
        if finite(r.p_worse):
            sentence += (
                f"; the hierarchical model gives P(worse) = {r.p_worse:.2f}, P(within ±{a.min_effect or 0:g}) = "
                f"{r.p_rope:.2f} and P(better) = {r.p_better:.2f}: {_verdict_words(r.verdict)}"
            )
        out.append(sentence + ".")
    return " ".join(out)


def _verdict_words(verdict: str) -> str:
    return {
        "matters": "its effect holds across data sets",
        "negligible": "practically no effect on data sets like these",
        "inconclusive": "the data sets and seeds do not decide it",
    }.get(verdict, "no verdict")


def datasets_summary(d: DatasetsAblation) -> str:
    """One line for the terminal and ``ablate status``."""
    if d.across is None:
        return f"{len(d.datasets)} data sets; no analysis across them yet ({d.why_not})"
    a = d.across
    arms = a.table[a.table["role"] == "arm"]
    parts = [
        f"{r.arm} {r.verdict or 'no verdict'} (rank {r.mean_rank:.2f}"
        + (f", P(worse) {r.p_worse:.2f}, P(≈) {r.p_rope:.2f})" if finite(r.p_worse) else ")")
        for r in arms.itertuples()
    ]
    return f"across {len(a.means)} data sets: {'; '.join(parts)}; baseline rank {a.table['mean_rank'].iloc[0]:.2f}"


_HEADLINE = ("mean_rank", "mean_delta", "p_rank_holm", "p_worse", "p_rope", "p_better")  # of across.csv


def datasets_metrics(d: DatasetsAblation) -> dict[str, Any]:
    """Headline numbers for ``dvc metrics show``: each data set's arms, and the across table."""
    out: dict[str, Any] = {name: ablation_metrics(a) for name, a in d.datasets}
    if d.across is not None:
        out["across"] = {
            r["arm"]: {k: metric_number(r[k]) for k in _HEADLINE} | ({"verdict": r["verdict"]} if r["verdict"] else {})
            for _, r in d.across.table.iterrows()
        }
    return out
