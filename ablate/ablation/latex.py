"""The ablation table as a LaTeX table for a paper: booktabs rules, resized to the line width,
significant differences in bold, arms named "w/o x", the legend as table notes."""

from __future__ import annotations

import re
from collections.abc import Mapping

import pandas as pd

from ablate.ablation.tables import P_HOLM, TEXT_COLUMNS, format_table, references

# pdflatex's default fonts lack these glyphs (or, for "<" in OT1, print another one).
_LATEX_SYMBOLS = {
    "Δ": r"$\Delta$",
    "−": "$-$",
    "×": r"$\times$",
    "<": "$<$",
    ">": "$>$",
    "d\\_z": "$d_z$",
    "±": r"$\pm$",
    "≠": r"$\neq$",
    "†": r"$^\dagger$",
    "α": r"$\alpha$",
}


def escape_latex(text: str) -> str:
    # pandas escapes LaTeX specials only inside Styler; the legend and caption are not cells, so they
    # borrow its private helper here, in this one place.
    from pandas.io.formats.style_render import _escape_latex as escape

    return _latex_symbols(escape(text))


def _latex_symbols(text: str) -> str:
    """Escaped text with the symbols pdflatex cannot set, and minus signs before digits, as math."""
    for symbol, tex in _LATEX_SYMBOLS.items():
        text = text.replace(symbol, tex)
    return re.sub(r"(?<![\w$])-(?=\d)", "$-$", text)


def _bold_significant(table: pd.DataFrame, shown: pd.DataFrame) -> pd.DataFrame:
    """The Δ of an arm whose difference test rejected, in bold (its p (Holm) carries the star)."""
    style = pd.DataFrame("", index=shown.index, columns=shown.columns)
    significant = table["significant"].eq(True).to_numpy() & references(table).ne("").to_numpy()
    delta = shown.columns[list(shown.columns).index(P_HOLM) - 2]  # the column before p
    style.loc[significant, delta] = "textbf: --rwrap;"
    return style


def to_latex(
    table: pd.DataFrame,
    metric: str,
    direction: str,
    alpha: float,
    caption: str,
    label: str,
    split_sizes: Mapping[str, int] | None = None,
    adaptive: bool = False,
) -> str:
    r"""Render the ablation table as a booktabs LaTeX table for a paper to ``\input``.

    Needs ``\usepackage{booktabs}`` and ``\usepackage{graphicx}``. An arm without one component
    reads "w/o residual"; arm names and the caption are escaped (``label_smoothing`` prints as
    written); significant Δ are bold; the legend follows the tabular in footnote size.

    Args:
        table: The ablation table.
        metric: The study metric.
        direction: ``"maximize"`` or ``"minimize"``.
        alpha: The significance level after Holm correction.
        caption: Plain text (it is escaped).
        label: The ``\label`` key, e.g. ``"tab:ablation"``.

    Returns:
        A ``table`` environment.
    """
    table = table.reset_index(drop=True)
    text = format_table(table, metric, direction, alpha, split_sizes, adaptive)
    shown = text.frame.copy()
    shown["arm"] = shown["arm"].map(_paper_arm)
    columns = "".join("l" if c in TEXT_COLUMNS else "r" for c in shown.columns)
    styler = (
        shown.style.hide(axis="index")
        .format(escape="latex", formatter=_latex_symbols)
        .format_index(escape="latex", axis=1, formatter=_latex_symbols)
        .apply(lambda _: _bold_significant(table, shown), axis=None)
    )
    latex = styler.to_latex(
        hrules=True,
        caption=escape_latex(caption),
        label=label,
        column_format=columns,
        position_float="centering",
    )
    # Seven columns of intervals are wider than a paper's text: scale the tabular to the line
    # width (graphicx's \resizebox), the usual way such tables go into a paper.
    latex = latex.replace("\\begin{tabular}", "\\resizebox{\\linewidth}{!}{%\n\\begin{tabular}")
    latex = latex.replace("\\end{tabular}\n", "\\end{tabular}%\n}\n")
    notes = escape_latex(" ".join(text.legend + text.footnotes))
    return latex.replace("\\end{table}", f"\\par\\smallskip\n{{\\footnotesize {notes}\\par}}\n\\end{{table}}")


def _paper_arm(name: str) -> str:
    """``-residual`` (one component removed) as "w/o residual"; other arm names as they are
    (a component name may itself hold a "-", so several removed ones are not split)."""
    return f"w/o {name[1:]}" if name.startswith("-") and "-" not in name[1:] and len(name) > 1 else name
