"""Unit tests for ablate.ablation.tables on hand-made statistics frames."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ablate.ablation.latex import to_latex
from ablate.ablation.tables import effects_markdown, format_table, steps_markdown, to_markdown
from tests.ablate.ablation.frames import make_effects, make_steps, make_table

pytestmark = pytest.mark.filterwarnings("error")
METRIC = "val_accuracy"
WILCOXON = "With n < 6 seeds the exact Wilcoxon test cannot reach p < 0.05"


def shown(table: pd.DataFrame | None = None) -> pd.DataFrame:
    """format_table of the hand-made table (or of ``table``), indexed by arm."""
    table = make_table() if table is None else table
    return format_table(table, METRIC, "maximize", 0.05).set_index("arm")


# --------------------------------------------------------------------------------- format_table


def test_format_table_columns_in_order() -> None:
    columns = list(format_table(make_table(), METRIC, "maximize", 0.05).columns)
    assert columns == [
        "arm",
        "n",
        "val_accuracy (mean [95% CI])",
        "Δ vs ref [95% CI]",
        "p (Holm)",
        "d_z",
        "test_accuracy",
        "note",
    ]


def test_format_table_cells() -> None:
    rows = shown()
    assert rows.loc["baseline", "val_accuracy (mean [95% CI])"] == "0.9712 [0.9650, 0.9774]"
    assert rows.loc["baseline", "Δ vs ref [95% CI]"] == "(reference)"
    assert rows.loc["-batchnorm", "Δ vs ref [95% CI]"] == "-0.0302 [-0.0371, -0.0233]"
    assert rows.loc["-label_smoothing", "Δ vs ref [95% CI]"] == "-0.0010 [-0.0120, +0.0100]"
    assert rows.loc["-batchnorm", "d_z"] == "-5.43" and rows.loc["+mixup", "d_z"] == "+2.61"
    assert rows.loc["-label_smoothing", "test_accuracy"] == "n/a"
    assert rows.loc["-label_smoothing", "note"] == "2 of 5 seeds failed" and rows.loc["+mixup", "note"] == ""


def test_format_table_marks_significant_p_and_says_na() -> None:
    p = shown()["p (Holm)"]
    assert list(p) == ["", "<0.001*", "1.000", "0.009*", "n/a"]


def test_format_table_counts_failed_and_missing_seeds() -> None:
    assert list(shown()["n"]) == ["5", "5", "3/5", "5", "0/5"]


def test_format_table_leaves_out_test_column_without_test_scores() -> None:
    assert "test_accuracy" not in shown(make_table(test=False)).columns


def test_format_table_decimals_follow_the_metric_scale() -> None:
    table = make_table()
    table[["mean", "ci_low", "ci_high"]] = [[123.456, 120.0, 126.9]] + [[np.nan] * 3] * 4
    table[["delta", "delta_ci_low", "delta_ci_high", "test_mean"]] = np.nan
    table.loc[1, ["delta", "delta_ci_low", "delta_ci_high"]] = [-2.04, -3.0, -1.1]
    rows = format_table(table, "val_loss", "minimize", 0.05).set_index("arm")
    assert rows.loc["baseline", "val_loss (mean [95% CI])"] == "123.5 [120.0, 126.9]"
    assert rows.loc["-batchnorm", "Δ vs ref [95% CI]"] == "-2.0 [-3.0, -1.1]"


def test_format_table_shows_mean_alone_without_an_interval() -> None:
    table = make_table()
    table.loc[0, ["ci_low", "ci_high"]] = np.nan  # one seed: no interval
    assert shown(table).loc["baseline", "val_accuracy (mean [95% CI])"] == "0.9712"


def test_format_table_names_each_reference_when_they_differ() -> None:
    table = make_table()
    table.loc[3, "reference"] = "-batchnorm"
    rows = shown(table)
    assert list(rows.columns[:2]) == ["vs", "n"]
    assert list(rows["vs"]) == ["", "baseline", "baseline", "-batchnorm", "baseline"]


@pytest.mark.parametrize(
    ("direction", "alpha", "message"),
    [
        ("max", 0.05, "direction must be 'maximize' or 'minimize', but got 'max'"),
        ("maximize", 5, "alpha must lie strictly between 0 and 1, but got 5"),
    ],
)
def test_format_table_rejects_bad_arguments(direction: str, alpha: float, message: str) -> None:
    with pytest.raises(ValueError) as raised:
        format_table(make_table(), METRIC, direction, alpha)
    assert str(raised.value) == message


# --------------------------------------------------------------------------------- markdown


def test_markdown_keeps_the_strings_and_adds_the_legend() -> None:
    md = to_markdown(make_table(), METRIC, "maximize", 0.05, title="Leave-one-out")
    assert md.startswith("**Leave-one-out**\n\n| arm")
    # tabulate must not reparse "0.9650" as a number and drop its trailing zero
    assert "| baseline         |   5 |        0.9712 [0.9650, 0.9774] |" in md
    assert "|  3/5 |" not in md and "| 3/5 |" in md
    assert "- Δ: mean over seeds of the paired difference arm − baseline in val_accuracy" in md
    assert "higher val_accuracy is better (maximize)" in md
    assert "Holm-corrected across the compared arms; * marks p < 0.05 after correction" in md
    assert "a/b: a of b seeds complete" in md
    assert WILCOXON in md


def test_markdown_wilcoxon_caveat_only_when_every_arm_has_fewer_than_six_seeds() -> None:
    table = make_table()
    table.loc[1:, "n"] = 6
    table.loc[1:, ["n_failed", "n_missing"]] = 0
    md = to_markdown(table, METRIC, "minimize", 0.01)
    assert WILCOXON not in md
    assert "lower val_accuracy is better (minimize)" in md and "p < 0.01" in md
    assert "a/b" not in md


def test_markdown_escapes_pipes_and_drops_an_empty_note_column() -> None:
    table = make_table()
    table["note"] = ""
    table.loc[1, "arm"] = "a|b"
    md = to_markdown(table, METRIC, "maximize", 0.05)
    assert r"| a\|b " in md
    assert "note" not in md.splitlines()[0]


# --------------------------------------------------------------------------------- latex


def test_latex_is_a_booktabs_table_with_escaped_names() -> None:
    tex = to_latex(make_table(), METRIC, "maximize", 0.05, "Ablation of val_accuracy", "tab:ablation")
    for rule in (r"\toprule", r"\midrule", r"\bottomrule"):
        assert tex.count(rule) == 1
    assert r"w/o label\_smoothing & 3/5 &" in tex
    assert r"\caption{Ablation of val\_accuracy}" in tex and r"\label{tab:ablation}" in tex
    assert r"\begin{tabular}{lrrrrrrl}" in tex
    assert r"$\Delta$ vs ref [95\% CI]" in tex and "$d_z$" in tex
    assert tex.isascii()  # pdflatex's default setup rejects Δ, −, × in the source


def test_latex_bolds_significant_deltas_only() -> None:
    tex = to_latex(make_table(), METRIC, "maximize", 0.05, "c", "l")
    assert r"\textbf{$-$0.0302 [$-$0.0371, $-$0.0233]}" in tex
    assert r"\textbf{+0.0078 [+0.0041, +0.0115]}" in tex
    assert r"& $-$0.0010 [$-$0.0120, +0.0100] &" in tex
    assert r"baseline & 5 & 0.9712 [0.9650, 0.9774] & (reference) &" in tex


def test_latex_ends_with_the_legend_in_the_float() -> None:
    tex = to_latex(make_table(), METRIC, "maximize", 0.05, "c", "l")
    notes = tex[tex.index(r"\end{tabular}") : tex.index(r"\end{table}")]
    assert r"{\footnotesize $\Delta$: mean over seeds of the paired difference arm $-$ baseline" in notes
    assert r"* marks p $<$ 0.05" in notes and r"p\_wilcoxon" in notes


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed on this machine")
def test_latex_compiles(tmp_path: Path) -> None:
    table = to_latex(make_table(), METRIC, "maximize", 0.05, "Ablation of val_accuracy", "tab:ablation")
    (tmp_path / "table.tex").write_text(table, encoding="utf-8")
    doc = (
        "\\documentclass{article}\n\\usepackage{booktabs,graphicx}\n"
        "\\begin{document}\n\\input{table.tex}\n\\end{document}\n"
    )
    (tmp_path / "doc.tex").write_text(doc, encoding="utf-8")
    done = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "doc.tex"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout[-3000:]


# --------------------------------------------------------------------------------- path and factorial


def test_steps_markdown() -> None:
    md = steps_markdown(make_steps(), METRIC)
    lines = md.splitlines()
    assert lines[0].split("|")[1:-1] == [
        "   step ",
        " param      ",
        "   n ",
        "   gain in val_accuracy [95% CI] ",
        "      p ",
        "   share ",
        "   cumulative share ",
    ]
    assert "| batch_size |   5 |" in md and "+0.0120 [+0.0020, +0.0220]" in md
    assert lines[4].endswith("|     -5% |               100% |")
    assert "oriented so that positive is better" in md


def test_effects_markdown() -> None:
    md = effects_markdown(make_effects(), METRIC)
    assert "| batchnorm × dropout | interaction |" in md
    assert "+0.0300 [+0.0210, +0.0390] |    <0.001* |" in md
    assert "-0.0050 [-0.0120, +0.0020] |      0.180 |" in md
    assert "Holm-corrected across the effects" in md
