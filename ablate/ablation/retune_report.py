"""A re-tuned ablation (``ablation.retune``) in a study report: the fixed analysis (every arm with
the tuned baseline's hyperparameters) beside the re-tuned one (every arm with the best of its own
search), ``retune.csv`` comparing the two arm by arm, the figure ``retune.png`` of both Δs, and
the re-tuned analysis's own files in ``retuned/``.

Each side's Δ, interval and verdict are cells of its ablation table. One test of its own: the two
analyses share their paired seeds, so each arm's shift (re-tuned Δ − fixed Δ, seed by seed) gets a
t-interval and a paired t-test (``stats.estimate``: scipy), Holm-adjusted across the arms."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ablate.ablation.report import (
    DPI,
    ablation_metrics,
    markdown_section,
    write_ablation_files,
)
from ablate.ablation.retune import RETUNED
from ablate.ablation.retune_analysis import RetunedAblation
from ablate.ablation.retune_figure import plot_retune
from ablate.ablation.retune_text import retune_legend, retune_markdown_table, retune_paragraph, verdict_change
from ablate.ablation.tables import table_unit

RETUNE_CSV = "retune.csv"
RETUNE_MD = "retune.md"
RETUNE_FIGURE = "retune"  # retune.png


def fixed_note(r: RetunedAblation) -> str:
    """What the fixed analysis's section says of its arms' hyperparameters."""
    return (
        "The ablated arms keep the tuned baseline's other hyperparameters (the fixed analysis), so a Δ mixes a "
        "component's effect with how well those settings suit the arm without it; the re-tuned ablation below "
        f"gives every arm, the baseline included, a search of its own of {r.n_trials} trials and shows which "
        f"verdicts survive (retune.csv, {RETUNED}/)."
    )


def retuned_note(r: RetunedAblation) -> str:
    """What the re-tuned analysis's section says of its arms' hyperparameters."""
    knobs = f" over {', '.join(r.knobs)}" if r.knobs else ""
    return (
        f"Every arm, the baseline included, ran with the best configuration of its own search of {r.n_trials} "
        f"trials{knobs} (the knobs no component sets), so a Δ compares each arm at settings tuned for it; the "
        "fixed analysis beside it keeps the tuned baseline's (retune.csv)."
    )


def write_retuned_files(folder: Path, r: RetunedAblation, study: str) -> dict[str, str]:
    """The fixed analysis's ablation files in ``folder``, the re-tuned one's in ``folder/retuned/``,
    and ``retune.csv``, ``retune.md`` and ``retune.png`` comparing them; returns kind -> file name."""
    names = write_ablation_files(folder, r.fixed, study, fixed_note(r))
    (folder / RETUNED).mkdir()
    written = write_ablation_files(folder / RETUNED, r.retuned, f"{study} re-tuned", retuned_note(r))
    names.update({f"{RETUNED}/{kind}": f"{RETUNED}/{file}" for kind, file in written.items()})
    r.table.to_csv(folder / RETUNE_CSV, index=False)
    retune_figure(r).savefig(folder / f"{RETUNE_FIGURE}.png", dpi=DPI)
    names.update(retune_csv=RETUNE_CSV, retune=f"{RETUNE_FIGURE}.png")
    (folder / RETUNE_MD).write_text(comparison_markdown(r, [names["retune"]]), encoding="utf-8")
    names["retune_md"] = RETUNE_MD
    return names


def retune_figure(r: RetunedAblation) -> Any:
    a = r.fixed
    return plot_retune(r.table, a.metric, a.direction, table_unit(a.table, a.metric), a.min_effect, r.n_trials)


def figure_caption(r: RetunedAblation) -> str:
    return (
        f"Each arm's Δ {r.fixed.metric} against its reference, with the tuned baseline's hyperparameters (fixed) "
        f"and with each arm's own, the best of {r.n_trials} search trials (re-tuned): the mean paired difference "
        "over the seeds with its 95 % t-interval and each side's verdict on the right; arms whose verdicts "
        "differ are highlighted."
    )


def comparison_markdown(r: RetunedAblation, images: Sequence[str]) -> str:
    """The section comparing the two analyses: the paragraph, the table with its legend, the figure."""
    out = [f"## Re-tuned ablation ({r.n_trials} search trials per arm)", ""]
    out += ["### The results, as a paper would write them", "", f"> {retune_paragraph(r)}", ""]
    out += [f"### Fixed and re-tuned, side by side ({RETUNE_CSV})", "", retune_markdown_table(r), ""]
    out += [*retune_legend(r), ""]
    out += [line for i in images for line in (f"![{Path(i).stem}]({i})", "", f"*{figure_caption(r)}*", "")]
    return "\n".join(out)


def retuned_markdown(r: RetunedAblation, images: Mapping[str, Sequence[str]]) -> str:
    """The fixed analysis's section, the comparison, then the re-tuned analysis's own section
    (``images``: the report's ablation images by folder, as ``images_by_dataset`` groups them)."""
    top = [i for i in images.get("", ()) if Path(i).stem != RETUNE_FIGURE]
    comparison = [i for i in images.get("", ()) if Path(i).stem == RETUNE_FIGURE]
    section = markdown_section(r.retuned, images.get(RETUNED, ()), retuned_note(r))
    head, _, rest = section.partition("\n")
    title = head.removeprefix("## ")
    return "\n".join(
        [
            markdown_section(r.fixed, top, fixed_note(r)),
            comparison_markdown(r, comparison),
            f"## Re-tuned: {title[:1].lower()}{title[1:]}\n{rest}",
        ]
    )


def retuned_html(r: RetunedAblation, images: Mapping[str, Sequence[str]]) -> str:
    """The same sections as :func:`retuned_markdown`, as html (Python-Markdown with tables)."""
    import markdown

    return markdown.markdown(retuned_markdown(r, images), extensions=["tables"], output_format="html")


def differing(r: RetunedAblation) -> pd.DataFrame:
    """The rows of ``retune.csv`` whose verdicts differ."""
    table = r.table
    return table[table["verdicts_differ"]]


def retuned_summary(r: RetunedAblation) -> str:
    """One line for the terminal and ``ablate status``."""
    table = r.table
    compared = table[table["reference"].notna()]
    flagged = differing(r)
    head = f"re-tuned ({r.n_trials} search trials per arm)"
    if flagged.empty:
        return f"{head}: every arm's verdict holds ({len(compared)} arms)"
    shown = ", ".join(f"{row.arm} {verdict_change(row)}" for row in flagged.itertuples())
    return f"{head}: {len(flagged)} of {len(compared)} arms' verdicts differ ({shown})"


def retuned_metrics(r: RetunedAblation) -> dict[str, Any]:
    """Headline numbers for ``dvc metrics show``: the re-tuned analysis's arms, and how many arms'
    verdicts differ from the fixed analysis's."""
    return {"arms": ablation_metrics(r.retuned), "verdicts_differ": int(len(differing(r))), "n_trials": r.n_trials}
