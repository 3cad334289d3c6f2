"""A re-tuned ablation (``ablation.retune``) in a study report: the fixed analysis (every arm with
the tuned baseline's hyperparameters) beside the re-tuned one (every arm with the best of its own
search), ``retune.csv`` comparing the two arm by arm, the figure ``retune.png`` of both Δs, and
the re-tuned analysis's own files in ``retuned/``.

Each side's Δ, interval and verdict are cells of its ablation table. One test of its own: the two
analyses share their paired seeds, so each arm's shift (re-tuned Δ − fixed Δ, seed by seed) gets a
t-interval and a paired t-test (``stats.estimate``: scipy), Holm-adjusted across the arms."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd

from ablate.ablation import stats
from ablate.ablation.analysis import AblationAnalysis
from ablate.ablation.report import (
    DPI,
    ablation_metrics,
    markdown_section,
    write_ablation_files,
)
from ablate.ablation.retune import RETUNED
from ablate.ablation.retune_figure import plot_retune
from ablate.ablation.retune_text import retune_legend, retune_markdown_table, retune_paragraph, verdict_change
from ablate.ablation.tables import table_unit

RETUNE_CSV = "retune.csv"
RETUNE_MD = "retune.md"
RETUNE_FIGURE = "retune"  # retune.png
# retune.csv, in this order: the arm, the fixed analysis's comparison, the re-tuned one's, whether
# their verdicts differ, and what re-tuning changed.
RETUNE_COLUMNS = (
    "arm role reference mean_fixed delta_fixed delta_fixed_ci_low delta_fixed_ci_high verdict_fixed mean_retuned "
    "delta_retuned delta_retuned_ci_low delta_retuned_ci_high verdict_retuned verdicts_differ shift shift_ci_low "
    "shift_ci_high p_shift p_shift_holm n_shift retuned_changes retuned_config"
).split()
_ABSENT = "–"  # a knob the arm's configuration lacks (a conditional knob that is off)


@dataclass(frozen=True)
class ArmRetune:
    """One arm's re-tuned configuration and what re-tuning changed in it.

    Attributes:
        arm: the arm's name, as in both analyses.
        config: the params it ran with in the re-tuned analysis (the best of its own search).
        changes: ``(knob, fixed value, re-tuned value)`` for each re-tuned knob whose value differs
            from what the arm ran with in the fixed analysis, in the order of ``search.space``.
    """

    arm: str
    config: Mapping[str, Any]
    changes: tuple[tuple[str, Any, Any], ...] = ()

    def changes_text(self) -> str:
        """``lr 0.01 → 0.002; dropout 0.1 → 0.3`` (empty where re-tuning changed nothing)."""
        return "; ".join(f"{k} {_value(old)} → {_value(new)}" for k, old, new in self.changes)


@dataclass(frozen=True)
class RetunedAblation:
    """The same arms and paired seeds analysed twice: with the tuned baseline's hyperparameters
    (``fixed``) and with each arm's own (``retuned``), and what re-tuning changed per arm.

    ``n_trials`` is each arm's search budget, ``search_seeds`` the seeds each search trial ran
    over, ``knobs`` the knobs every arm re-tuned (searched, set by no component)."""

    fixed: AblationAnalysis
    retuned: AblationAnalysis
    arms: tuple[ArmRetune, ...]
    n_trials: int
    knobs: tuple[str, ...] = ()
    search_seeds: int = 1

    @property
    def table(self) -> pd.DataFrame:
        """What ``retune.csv`` holds: one row per arm of the re-tuned analysis, its reference first."""
        return retune_table(self)


def analyze_retuned(
    fixed: AblationAnalysis, retuned: AblationAnalysis, knobs: Sequence[str], n_trials: int, search_seeds: int = 1
) -> RetunedAblation:
    """Pair the two analyses of one ablation; ``knobs``: the searched knobs no component sets."""
    before = {arm.name: arm.params for arm in fixed.arms}
    baseline = fixed.arms[0].params
    arms = tuple(
        ArmRetune(arm.name, dict(arm.params), _changes(before.get(arm.name, baseline), arm.params, knobs))
        for arm in retuned.arms
    )
    # The re-tuned record names the search's best value (that of the fixed baseline): its arms ran
    # configurations of their own, so no selection note or "tuned model" wording applies to them.
    return RetunedAblation(fixed, replace(retuned, best_value=None), arms, n_trials, tuple(knobs), search_seeds)


def _changes(before: Mapping[str, Any], after: Mapping[str, Any], knobs: Sequence[str]) -> tuple:
    missing = object()
    return tuple(
        (k, before.get(k, _ABSENT), after.get(k, _ABSENT))
        for k in knobs
        if before.get(k, missing) != after.get(k, missing)
    )


def _value(v: Any) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def retune_table(r: RetunedAblation) -> pd.DataFrame:
    """``retune.csv``: each arm's Δ, interval and verdict in both analyses, whether the verdicts
    differ, and its re-tuned configuration with what changed."""
    fixed, tuned = r.fixed.table.set_index("arm"), r.retuned.table.set_index("arm")
    changes = {a.arm: a for a in r.arms}
    rows = []
    for arm, t in tuned.iterrows():
        f = fixed.loc[arm] if arm in fixed.index else pd.Series(dtype=object)
        verdicts = (_verdict(f.get("verdict")), _verdict(t["verdict"]))
        rows.append(
            {
                "arm": arm,
                "role": t["role"],
                "reference": t["reference"],
                **_side(f, "fixed"),
                "verdict_fixed": verdicts[0],
                **_side(t, "retuned"),
                "verdict_retuned": verdicts[1],
                "verdicts_differ": bool(all(verdicts) and verdicts[0] != verdicts[1]),
                **_shift(r, arm),
                "retuned_changes": changes[arm].changes_text(),
                "retuned_config": json.dumps(dict(changes[arm].config), sort_keys=True, default=str),
            }
        )
    out = pd.DataFrame(rows)
    out["p_shift_holm"] = stats.holm(out["p_shift"].to_numpy(dtype=float))
    return out[RETUNE_COLUMNS]


def _shift(r: RetunedAblation, arm: str) -> dict[str, float]:
    """The re-tuned Δ minus the fixed Δ of ``arm``, seed by seed over the seeds both compared: its
    mean, 95 % t-interval (as the tables' Δ), paired t-test p, and how many seeds."""
    fixed, tuned = (a.differences[a.differences["arm"] == arm][["seed", "delta"]] for a in (r.fixed, r.retuned))
    both = tuned.merge(fixed, on="seed", suffixes=("_retuned", "_fixed"))
    values = (both["delta_retuned"] - both["delta_fixed"]).to_numpy(dtype=float)
    if not len(values):
        nan = float("nan")
        return {"shift": nan, "shift_ci_low": nan, "shift_ci_high": nan, "p_shift": nan, "n_shift": 0}
    scale = stats.scale_of(both["delta_retuned"].to_numpy(dtype=float), both["delta_fixed"].to_numpy(dtype=float))
    est = stats.estimate(values, scale, 0.95)
    return {
        "shift": est.mean,
        "shift_ci_low": est.ci_low,
        "shift_ci_high": est.ci_high,
        "p_shift": est.p_value,
        "n_shift": est.n,
    }


def _side(row: pd.Series, side: str) -> dict[str, float]:
    """One analysis's cells of an arm: ``mean_fixed, delta_fixed, delta_fixed_ci_low, delta_fixed_ci_high``."""
    nan = float("nan")
    return {
        f"mean_{side}": float(row.get("mean", nan)),
        f"delta_{side}": float(row.get("delta", nan)),
        f"delta_{side}_ci_low": float(row.get("delta_ci_low", nan)),
        f"delta_{side}_ci_high": float(row.get("delta_ci_high", nan)),
    }


def _verdict(v: Any) -> str:
    return v if isinstance(v, str) else ""


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
