"""The ablation's part of a study report: its files (csv, markdown, LaTeX, the paragraph, figures),
the markdown and html sections, the headline metrics for ``dvc metrics`` and the one-line summary."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ablate.ablation import figures, latex, tables
from ablate.ablation.analysis import AblationAnalysis, incomplete_arms
from ablate.ablation.effect_tables import effects_markdown, steps_markdown
from ablate.ablation.paragraph import paragraph_latex, paragraph_markdown
from ablate.ablation.units import unit_of
from ablate.ablation.verdicts import MAX_NEEDED, VERDICTS

DPI = 110
PARAGRAPH_MD = "ablation_paragraph.md"
PARAGRAPH_TEX = "ablation_paragraph.tex"


def write_ablation_files(
    folder: Path, a: AblationAnalysis, study: str, tuning_note: str | None = None
) -> dict[str, str]:
    """Write the ablation's tables, paragraph and figures into ``folder``; returns kind -> file name.
    ``tuning_note``: as for :func:`markdown_section`."""
    a.table.to_csv(folder / "ablation.csv", index=False)
    a.metrics.to_csv(folder / "ablation_metrics.csv", index=False)
    a.runs.to_csv(folder / "ablation_runs.csv", index=False)
    (folder / "ablation.md").write_text(markdown_section(a, [], tuning_note), encoding="utf-8")
    seeds = f"{len(a.seeds)} paired seeds" if not a.plan.adaptive else "paired seeds chosen adaptively"
    caption = f"Ablation of study {study} ({a.policy}, {seeds}): {a.metric}"
    label = "tab:ablation-" + "".join(ch if ch.isalnum() else "-" for ch in study)
    tex = latex.to_latex(a.table, a.metric, a.direction, a.alpha, caption, label, a.split_sizes, a.plan.adaptive)
    (folder / "ablation.tex").write_text(tex, encoding="utf-8")
    names = {"ablation_csv": "ablation.csv", "ablation_md": "ablation.md", "ablation_tex": "ablation.tex"}
    if paragraph_markdown(a):
        (folder / PARAGRAPH_MD).write_text(paragraph_markdown(a), encoding="utf-8")
        (folder / PARAGRAPH_TEX).write_text(paragraph_latex(a), encoding="utf-8")
        names.update(ablation_paragraph_md=PARAGRAPH_MD, ablation_paragraph_tex=PARAGRAPH_TEX)
    for kind, fig in ablation_figures(a).items():
        fig.savefig(folder / f"{kind}.png", dpi=DPI)
        names[kind] = f"{kind}.png"
    return names


def ablation_figures(a: AblationAnalysis) -> dict[str, Any]:
    out = {"forest": figures.plot_forest(a.table, a.differences, a.metric, a.direction, a.alpha)}
    if a.steps is not None and len(a.steps):
        base = a.table.loc[a.table["role"] == "baseline", "mean"]
        out["waterfall"] = figures.plot_waterfall(a.steps, float(base.iloc[0]), a.metric, a.direction)
    if a.effects is not None:
        present = {arm.name: set(arm.present) for arm in a.arms}
        components = [c for c in a.effects.loc[a.effects["kind"] == "main", "effect"]]
        out["interactions"] = figures.plot_interactions(a.runs, present, components, a.metric)
    return out


def markdown_section(a: AblationAnalysis, images: Sequence[str], tuning_note: str | None = None) -> str:
    """The ablation as markdown: design, the paragraph, the table with its legend, figures, path or
    effects, notes. ``tuning_note``: what the design says of the arms' hyperparameters (the
    re-tuned ablation's words, ``ablate.ablation.retune_report``); None: that a tuned baseline's
    are kept by every arm."""
    if not _compares(a):
        return _baseline_section(a)
    out = [f"## Ablation ({a.policy})", "", *_design_lines(a, tuning_note), ""]
    paragraph = paragraph_markdown(a)
    if paragraph:
        out += ["### The results, as a paper would write them", "", f"> {paragraph.strip()}", ""]
        out += [f"*Generated from ablation.csv ({PARAGRAPH_MD}, {PARAGRAPH_TEX}); every number is in the table.*", ""]
    out += ["### The table", ""]
    out += [tables.to_markdown(a.table, a.metric, a.direction, a.alpha, None, a.split_sizes, a.plan.adaptive), ""]
    out += [
        line for i in images for line in (f"![{Path(i).stem}]({i})", "", f"*{figure_caption(a, Path(i).stem)}*", "")
    ]
    if a.steps is not None and len(a.steps):
        out += ["### Ablation path", "", steps_markdown(a.steps, a.metric), ""]
    if a.effects is not None and len(a.effects):
        out += ["### Factorial effects", "", effects_markdown(a.effects, a.metric), ""]
    if a.notes:
        out += ["### Notes", "", *[f"- {n}" for n in a.notes], ""]
    return "\n".join(out)


def figure_caption(a: AblationAnalysis, kind: str) -> str:
    """One line saying what the ablation figure ``kind`` (its file's stem) shows."""
    return {
        "forest": f"Each arm's paired difference in {a.metric} from its reference: mean over the seeds with its "
        "95 % t-interval, marked by verdict, the per-seed differences as points, the band ±min_effect shaded, "
        "Holm's p and the verdict on the right.",
        "waterfall": f"The ablation path: {a.metric} after each step, from the baseline to the target, each "
        "step's gain with its 95 % interval and its share of the total.",
        "interactions": f"Two-way interactions: mean {a.metric} with each pair of components removed or present "
        "(95 % t-intervals); parallel lines mean no interaction.",
    }.get(kind, "")


def _compares(a: AblationAnalysis) -> bool:
    return bool(a.table["reference"].notna().any())


def _baseline_section(a: AblationAnalysis) -> str:
    """An ablation without components: the baseline alone over the seeds, every metric it
    returned with its interval (for ``baseline: best``, the tuned model on the test split)."""
    what = "tuned model" if a.best_value is not None else "baseline"
    rows = a.metrics[a.metrics["arm"] == "baseline"]
    cells = [_mean_cell(*row) for row in zip(rows["metric"], rows["mean"], rows["ci_low"], rows["ci_high"])]
    shown = pd.DataFrame(
        {"metric": rows["metric"], "n": rows["n"], "mean [95% CI]": cells, "std": [f"{v:.3g}" for v in rows["std"]]}
    )
    lines = [
        f"## The {what} over {len(a.seeds)} seeds",
        "",
        f"Baseline: {a.baseline_from}, run with seeds {', '.join(map(str, a.seeds))} (an ablation with no "
        "component) and scored on the validation and held-out test splits: per metric, the mean over the "
        f"seeds and its 95 % t-interval. {_SEEDS_VARY}",
        *_selection_note(a),
        "",
        shown.to_markdown(index=False),
        "",
    ]
    if any(tables.CUT in c for c in cells):
        lines += [f"{tables.CUT}: the t-interval runs past the share's bound and is cut there (a share cannot).", ""]
    bad = incomplete_arms(a.runs)
    return "\n".join(lines + ([f"**Failed or missing seeds**: {', '.join(bad)}.", ""] if bad else []))


def _mean_cell(metric: str, mean: float, low: float, high: float) -> str:
    """``0.96 [0.9352, 0.9848]``; a share's interval cut at 0 and 1, and marked where it is."""
    if not np.isfinite(low):
        return f"{mean:.4g}"
    ends = []
    for end in (low, high):
        cut = unit_of(metric, np.array([mean])).is_points and not 0.0 <= end <= 1.0
        ends.append(f"{min(max(end, 0.0), 1.0):.4g}{tables.CUT}" if cut else f"{end:.4g}")
    return f"{mean:.4g} [{ends[0]}, {ends[1]}]"


# What the seeds vary, said of any trial function (the report cannot know what a model draws).
_SEEDS_VARY = (
    "The data split is fixed (by `study.seed`); each seed is what the trial function draws its randomness "
    "from (`ctx.seed`), so the intervals cover that randomness on one validation set, not the choice of data."
)


_KEPT_NOTE = (
    "The ablated arms keep the tuned baseline's other hyperparameters (they are not retuned), so a Δ "
    "mixes a component's effect with how well those settings suit the arm without it."
)


def _design_lines(a: AblationAnalysis, tuning_note: str | None) -> list[str]:
    compared = a.table[a.table["reference"].notna()]
    lines = [
        f"Baseline: {a.baseline_from}. {len(a.arms)} arms; {a.plan.describe()}. Repeat i uses the same seed in "
        "every arm, so differences are taken per seed.",
        "",
        _SEEDS_VARY,
    ]
    if tuning_note is None and a.best_value is not None:
        tuning_note = _KEPT_NOTE
    if tuning_note:
        lines[-1] += f" {tuning_note}"
    lines += _selection_note(a)
    if a.min_effect is None:
        lines += [
            "",
            "**No smallest effect of interest** (`ablation.min_effect`): an arm can be shown to matter, never to be "
            'negligible, since "not significant" is no evidence of no effect. Set `min_effect` (in units of '
            f"{a.metric}) for a verdict either way.",
        ]
    open_ = compared[compared["verdict"] == "inconclusive"]
    if len(open_):
        lines += ["", f"**Inconclusive** at these seeds: {', '.join(_with_need(r) for r in open_.itertuples())}."]
        if a.plan.adaptive:
            lines[-1] += " Raising `ablation.max_seeds` runs only what these arms still need."
    bad = incomplete_arms(a.runs)
    if bad:
        lines += ["", f"**Incomplete arms** (failed or missing seeds, flagged in the table): {', '.join(bad)}."]
    return lines


def html_section(a: AblationAnalysis, images: Sequence[str], tuning_note: str | None = None) -> str:
    """The same section as :func:`markdown_section`, as html (Python-Markdown with tables)."""
    import markdown

    return markdown.markdown(markdown_section(a, images, tuning_note), extensions=["tables"], output_format="html")


def metric_number(v: Any) -> float | None:
    """A number for ``metrics.json``: rounded to 6 places, None where missing or not finite."""
    return None if v is None or (isinstance(v, float) and not np.isfinite(v)) else round(float(v), 6)


def ablation_metrics(a: AblationAnalysis) -> dict[str, Any]:
    """Headline numbers for ``dvc metrics show``: per arm, its mean, Δ with Holm's p, and verdict."""

    return {
        row["arm"]: {
            "mean": metric_number(row["mean"]),
            "delta": metric_number(row["delta"]),
            "p_holm": metric_number(row["p_holm"]),
            **({"verdict": row["verdict"]} if isinstance(row["verdict"], str) and row["verdict"] else {}),
        }
        for _, row in a.table.iterrows()
    }


def _selection_note(a: AblationAnalysis) -> list[str]:
    """A tuned baseline's search score was picked as the best of many on one seed: say how much
    of it holds up on the repeat seeds (the winner's curse), when the baseline is ``best``."""
    if a.best_value is None:
        return []
    base = a.table.loc[a.table["role"] == "baseline", "mean"]
    if base.empty or not np.isfinite(base.iloc[0]):
        return []
    gap = a.best_value - float(base.iloc[0])
    return [
        "",
        f"The tuned baseline scored {a.best_value:.4g} on the search's seed, where it was selected as the best "
        f"of the search; over the repeat seeds its mean is {base.iloc[0]:.4g} ({gap:+.4g}: what selection on one "
        "seed adds).",
    ]


def ablation_summary(a: AblationAnalysis) -> str:
    """One line for the terminal and ``ablate status``: the verdicts with their arms, and the seeds
    each arm got."""
    compared = a.table[a.table["reference"].notna()]
    complete = int((a.runs["status"] == "complete").sum())
    if compared.empty:
        base = a.table.iloc[0]
        test = f", test {base['test_mean']:.4g}" if np.isfinite(base["test_mean"]) else ""
        return (
            f"the baseline over {len(a.seeds)} seeds ({complete}/{len(a.runs)} trials complete): "
            f"{a.metric} {base['mean']:.4g} [{base['ci_low']:.4g}, {base['ci_high']:.4g}]{test}"
        )
    parts = []
    for verdict in VERDICTS:
        rows = compared[compared["verdict"] == verdict]
        if len(rows):
            parts.append(f"{verdict} {len(rows)} ({', '.join(_with_need(r) for r in rows.itertuples())})")
    seeds = ", ".join(f"{r.arm} {int(r.n + r.n_failed + r.n_missing)}" for r in a.table.itertuples())
    margin = "" if a.min_effect is not None else " (no min_effect: nothing can be shown negligible)"
    return f"{'; '.join(parts)}{margin}; seeds per arm: {seeds} ({complete}/{len(a.runs)} trials complete)"


def _with_need(row: Any) -> str:
    needed = float(getattr(row, "seeds_needed", np.nan))
    if row.verdict != "inconclusive" or np.isnan(needed):
        return str(row.arm)
    return f"{row.arm} needs {f'more than {MAX_NEEDED}' if np.isinf(needed) else int(needed)} seeds"
