"""Unit tests for ablate.ablation.tables on hand-made statistics frames."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ablate.ablation.effect_tables import effects_markdown, steps_markdown
from ablate.ablation.latex import to_latex
from ablate.ablation.tables import format_table, to_markdown
from tests.ablate.ablation.frames import make_effects, make_steps, make_table

# Every warning is an error here, but not an object of an earlier test in this process that Python
# collects meanwhile (DVC's in-process Repo leaves dulwich's pack files of the project's .git to it).
pytestmark = [
    pytest.mark.filterwarnings("error"),
    pytest.mark.filterwarnings("default::pytest.PytestUnraisableExceptionWarning"),
]
METRIC = "val_accuracy"
WILCOXON = "With n < 6 seeds the exact Wilcoxon test cannot reach p < 0.05"


def shown(table: pd.DataFrame | None = None, metric: str = METRIC) -> pd.DataFrame:
    """format_table's strings for the hand-made table (or ``table``), indexed by arm."""
    table = make_table() if table is None else table
    return format_table(table, metric, "maximize", 0.05).frame.set_index("arm")


VAL, DELTA, TEST, TEST_DELTA = (
    "val_accuracy (%) [95% CI]",
    "Δ (points) [95% CI]",
    "test_accuracy (%) [95% CI]",
    "test Δ (points) [95% CI]",
)


# --------------------------------------------------------------------------------- format_table


def test_format_table_columns_in_order() -> None:
    columns = list(format_table(make_table(), METRIC, "maximize", 0.05).frame.columns)
    assert columns == [
        "arm", "seeds", VAL, DELTA, "p", "p (Holm)", "p equiv. (Holm)", "verdict", TEST, TEST_DELTA, "test verdict",
        "notes",
    ]  # fmt: skip


def test_a_share_is_shown_in_percent_and_its_differences_in_points() -> None:
    rows = shown()
    assert rows.loc["baseline", VAL] == "97.12 [96.50, 97.74]"
    assert rows.loc["baseline", DELTA] == "(reference)" and rows.loc["baseline", "verdict"] == ""
    assert rows.loc["-batchnorm", DELTA] == "-3.02 [-3.71, -2.33]"
    assert rows.loc["-label_smoothing", DELTA] == "-0.10 [-1.20, +1.00]"
    assert rows.loc["-batchnorm", TEST_DELTA] == "-2.97 [-3.90, -2.04]"
    assert rows.loc["-label_smoothing", TEST] == "n/a"


def test_the_raw_p_stands_beside_holm_s_and_the_verdicts_beside_them() -> None:
    rows = shown()
    assert list(rows["p"]) == ["", "<0.001", "0.740", "0.003", "n/a"]
    assert list(rows["p (Holm)"]) == ["", "<0.001*", "1.000", "0.009*", "n/a"]
    assert list(rows["verdict"]) == ["", "matters", "inconclusive", "matters", ""]
    assert list(rows["test verdict"]) == ["", "matters", "", "inconclusive", ""]


def test_a_metric_that_is_not_a_share_keeps_its_units_and_decimals() -> None:
    table = make_table()
    table[["mean", "ci_low", "ci_high"]] = [[123.456, 120.0, 126.9]] + [[np.nan] * 3] * 4
    table[["delta", "delta_ci_low", "delta_ci_high", "test_mean"]] = np.nan
    table.loc[1, ["delta", "delta_ci_low", "delta_ci_high"]] = [-2.04, -3.0, -1.1]
    rows = format_table(table, "val_loss", "minimize", 0.05).frame.set_index("arm")
    assert rows.loc["baseline", "val_loss [95% CI]"] == "123.5 [120.0, 126.9]"
    assert rows.loc["-batchnorm", "Δ [95% CI]"] == "-2.0 [-3.0, -1.1]"


def test_a_value_that_rounds_to_zero_has_no_sign() -> None:
    table = make_table()
    table.loc[2, ["delta", "delta_ci_low", "delta_ci_high"]] = [-0.00001, -0.012, 0.00002]
    assert shown(table).loc["-label_smoothing", DELTA] == "0.00 [-1.20, 0.00]"


def test_an_interval_past_100_percent_is_cut_there_and_marked() -> None:
    table = make_table()
    table.loc[0, ["mean", "ci_low", "ci_high"]] = [0.993, 0.974, 1.012]  # wine: every seed near 1
    text = format_table(table, METRIC, "maximize", 0.05)
    assert text.frame.set_index("arm").loc["baseline", VAL] == "99.30 [97.40, 100.00†]"
    assert any(line.startswith("†: the t-interval runs past 100 %") for line in text.legend)


def test_format_table_counts_failed_and_missing_seeds() -> None:
    assert list(shown()["seeds"]) == ["5", "5", "3/5", "5", "0/5"]


def test_notes_are_footnotes_each_said_once() -> None:
    table = make_table()
    table.loc[4, "note"] = "2 of 5 seeds failed; no complete seed"
    text = format_table(table, METRIC, "maximize", 0.05)
    assert list(text.frame["notes"]) == ["", "", "a", "", "a,b"]
    assert text.footnotes == ["a: 2 of 5 seeds failed", "b: no complete seed"]


def test_format_table_leaves_out_test_columns_without_test_scores() -> None:
    assert not any(c.startswith("test") for c in shown(make_table(test=False)).columns)


def test_format_table_shows_mean_alone_without_an_interval() -> None:
    table = make_table()
    table.loc[0, ["ci_low", "ci_high"]] = np.nan  # one seed: no interval
    assert shown(table).loc["baseline", VAL] == "97.12"


def test_format_table_names_each_reference_when_they_differ() -> None:
    table = make_table()
    table.loc[3, "reference"] = "-batchnorm"
    rows = shown(table)
    assert list(rows.columns[:2]) == ["vs", "seeds"]
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
    md = to_markdown(make_table(), METRIC, "maximize", 0.05, title="Leave-one-out", split_sizes={"val": 288})
    assert md.startswith("**Leave-one-out**\n\n| arm")
    # tabulate must not reparse "96.50" as a number and drop its trailing zero
    assert " 97.12 [96.50, 97.74] |" in md
    assert "|     3/5 |" in md  # right-aligned, and still "3/5" (not reparsed as a number)
    assert "- Δ: arm − baseline, the mean over paired seeds of their difference in val_accuracy, in points" in md
    assert "(one validation example is worth 0.35 points, 1/288)" in md
    assert "higher is better (maximize)" in md
    assert "p (Holm): adjusted across the 4 compared arms; * marks p (Holm) < 0.05" in md
    assert "margin min_effect = ±0.50 points" in md
    assert "a/b means a of b seeds complete" in md
    assert WILCOXON in md
    assert md.count("2 of 5 seeds failed") == 1 and "- a: 2 of 5 seeds failed" in md


def test_markdown_wilcoxon_caveat_only_when_every_arm_has_fewer_than_six_seeds() -> None:
    table = make_table()
    table.loc[1:, "n"] = 6
    table.loc[1:, ["n_failed", "n_missing"]] = 0
    table["n_pairs"] = [0, 6, 6, 6, 6]
    md = to_markdown(table, METRIC, "minimize", 0.01)
    assert WILCOXON not in md
    assert "lower is better (minimize)" in md and "p (Holm) < 0.01" in md
    assert "a/b" not in md


def test_markdown_escapes_pipes_and_drops_an_empty_notes_column() -> None:
    table = make_table()
    table["note"] = ""
    table.loc[1, "arm"] = "a|b"
    md = to_markdown(table, METRIC, "maximize", 0.05)
    assert r"| a\|b " in md
    assert "notes" not in md.splitlines()[0]


def test_without_min_effect_the_legend_says_why_nothing_is_negligible() -> None:
    table = make_table()
    table["min_effect"] = np.nan
    md = to_markdown(table, METRIC, "maximize", 0.05)
    assert "Without ablation.min_effect there is no equivalence test, so no arm can be shown negligible" in md


# --------------------------------------------------------------------------------- latex


def test_latex_is_a_booktabs_table_with_escaped_names() -> None:
    tex = to_latex(make_table(), METRIC, "maximize", 0.05, "Ablation of val_accuracy", "tab:ablation")
    for rule in (r"\toprule", r"\midrule", r"\bottomrule"):
        assert tex.count(rule) == 1
    assert r"w/o label\_smoothing & 3/5 &" in tex
    assert r"\caption{Ablation of val\_accuracy}" in tex and r"\label{tab:ablation}" in tex
    assert r"\begin{tabular}{lrrrrrrlrrll}" in tex
    assert r"$\Delta$ (points) [95\% CI]" in tex
    assert tex.isascii()  # pdflatex's default setup rejects Δ, −, × in the source


def test_latex_bolds_significant_deltas_only() -> None:
    tex = to_latex(make_table(), METRIC, "maximize", 0.05, "c", "l")
    assert r"\textbf{$-$3.02 [$-$3.71, $-$2.33]}" in tex
    assert r"\textbf{+0.78 [+0.41, +1.15]}" in tex
    assert r"& $-$0.10 [$-$1.20, +1.00] &" in tex
    assert r"baseline & 5 & 97.12 [96.50, 97.74] & (reference) &" in tex


def test_latex_ends_with_the_legend_in_the_float() -> None:
    tex = to_latex(make_table(), METRIC, "maximize", 0.05, "c", "l")
    notes = tex[tex.index(r"\end{tabular}") : tex.index(r"\end{table}")]
    assert r"{\footnotesize $\Delta$: arm $-$ baseline, the mean over paired seeds" in notes
    assert r"* marks p (Holm) $<$ 0.05" in notes and r"p\_wilcoxon" in notes
    assert r"a: 2 of 5 seeds failed" in notes and notes.count("2 of 5 seeds failed") == 1


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
