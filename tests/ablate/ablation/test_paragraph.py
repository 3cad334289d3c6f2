"""The ablation paragraph: generated from ablation.csv, every number of it a cell of that table,
"significant" only where p (Holm) < α, "no effect" only for an arm shown negligible; on tables of
every policy, fixed and adaptive designs, with and without min_effect, a share and a loss."""

from __future__ import annotations

import math
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ablate.ablation.analysis import AblationAnalysis
from ablate.ablation.paragraph import paragraph_latex, paragraph_markdown, paragraph_text
from tests.ablate.ablation.simulated import simulated_ablation

EFFECTS = {"residual": -0.03, "batchnorm": -0.006, "dropout": 0.0, "noise": 0.0}
CASES = {
    "loco fixed": dict(seeds=5),
    "loco adaptive": dict(seeds=None),
    "loco without min_effect": dict(seeds=6, min_effect=None),
    "add_one": dict(policy="add_one", seeds=6),
    "factorial adaptive": dict(policy="factorial", seeds=None),
    "random": dict(policy="random", seeds=5, n_arms=3),
    "path": dict(policy="path", seeds=4),
    "a loss": dict(seeds=6, metric="val_loss", direction="minimize", base=2.0, noise=0.05, min_effect=0.1),
    "noisy": dict(seeds=3, noise=0.03),
}
NUMBER = re.compile(r"(?<![\w.])(<\$?\s*)?[-+−]?(\d+(?:\.\d+)?)")  # "< 0.001" in LaTeX is "$<$ 0.001"


def analysis(case: str) -> AblationAnalysis:
    options = dict(CASES[case])
    effects = {k: v * 10 for k, v in EFFECTS.items()} if options.get("metric") == "val_loss" else EFFECTS
    return simulated_ablation(effects, **options)


def words_only(text: str, a: AblationAnalysis) -> str:
    """The paragraph without names (of arms, components and metrics), whose digits are no numbers."""
    names = [a.metric, "test_" + a.metric, *a.table["arm"], *a.components, *(arm.param or "" for arm in a.arms)]
    for name in sorted(filter(None, names), key=len, reverse=True):
        text = text.replace(name, " ")
    return text


def cells(table: pd.DataFrame) -> np.ndarray:
    numeric = table.select_dtypes(include="number").to_numpy(dtype=float).ravel()
    return numeric[np.isfinite(numeric)]


def appears(token: str, below: bool, table: pd.DataFrame) -> bool:
    """Whether a number of the paragraph is a cell of the table, as the paragraph rounds it (a share's
    cells times 100: points, percent); a bound (``< 0.001``) must be above some p-value cell."""
    value = float(token)
    decimals = len(token.split(".")[1]) if "." in token else 0
    if below:
        p = table[[c for c in table.columns if c.startswith(("p_", "test_p_"))]].to_numpy(dtype=float).ravel()
        return bool((p[np.isfinite(p)] < value).any())
    values = np.abs(cells(table))
    return any(math.isclose(round(v * scale, decimals), value, abs_tol=1e-9) for v in values for scale in (1, 100))


@pytest.mark.parametrize("case", list(CASES))
def test_every_number_of_the_paragraph_is_a_cell_of_ablation_csv(case: str, tmp_path: Path) -> None:
    a = analysis(case)
    a.table.to_csv(tmp_path / "ablation.csv", index=False)
    table = pd.read_csv(tmp_path / "ablation.csv")  # as a reader of the file sees it
    for text in (paragraph_markdown(a), paragraph_latex(a)):
        assert text
        numbers = [(m.group(1) is not None, m.group(2)) for m in NUMBER.finditer(words_only(text, a))]
        assert len(numbers) > 8
        missing = [token for below, token in numbers if not appears(token, below, table)]
        assert not missing, (missing, text)


@pytest.mark.parametrize("case", list(CASES))
def test_significant_is_said_only_of_arms_below_alpha_after_holm(case: str) -> None:
    a = analysis(case)
    for row in a.table[a.table["reference"].notna()].itertuples():
        sentence = _sentence_of(paragraph_text(a), row, a)
        assert ("significant" in sentence) == (row.p_holm < a.alpha), sentence


@pytest.mark.parametrize("case", list(CASES))
def test_no_effect_is_said_only_of_arms_shown_negligible(case: str) -> None:
    a = analysis(case)
    text = paragraph_text(a)
    compared = a.table[a.table["reference"].notna()]
    assert text.count("no effect") == int((compared["verdict"] == "negligible").sum())
    for row in compared.itertuples():
        assert ("no effect" in _sentence_of(text, row, a)) == (row.verdict == "negligible")


def _sentence_of(text: str, row, a: AblationAnalysis) -> str:
    """The one sentence about ``row``'s arm: it ends with the arm's seeds and its verdict."""
    sentences = [s for s in re.split(r"(?<=[.])\s+(?=[A-Z])", text) if f"{int(row.n_pairs)} seeds" in s]
    words = {"matters": "it matters", "small": "(small)", "negligible": "negligible", "inconclusive": "inconclusive"}
    mine = [s for s in sentences if words[row.verdict] in s and _delta_text(row, a) in s]
    assert len(mine) >= 1, (row.arm, text)
    return mine[0]


def _delta_text(row, a: AblationAnalysis) -> str:
    scale, decimals = (100, 2) if a.metric == "val_accuracy" else (1, 3)
    return f"{abs(row.delta) * scale:.{decimals}f}"


def test_the_verdicts_words_match_the_table() -> None:
    a = analysis("loco adaptive")
    text = paragraph_text(a)
    assert "Removing residual lowered val_accuracy by" in text and "so it matters" in text
    assert "Removing dropout changed val_accuracy by" in text and "equivalent to no effect within ±1.00 points" in text
    assert "chosen adaptively" in text and "with α spent over the looks of the adaptive design" in text
    assert "On the held-out test split, read at the same seeds" in text


def test_without_min_effect_the_paragraph_says_nothing_can_be_negligible() -> None:
    text = paragraph_text(analysis("loco without min_effect"))
    assert "no smallest effect of interest was set, so no component can be shown to be negligible" in text
    assert ": negligible" not in text and "(small)" not in text


def test_the_test_split_sentence_names_an_arm_whose_verdict_differs() -> None:
    a = analysis("loco fixed")
    table = a.table.copy()
    row = table.index[table["arm"] == "-residual"][0]
    table.loc[row, "test_verdict"] = "inconclusive"
    text = paragraph_text(type(a)(**{**a.__dict__, "table": table}))
    assert "-residual is inconclusive there" in text and "where validation finds it matters" in text


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed on this machine")
def test_the_latex_paragraph_compiles(tmp_path: Path) -> None:
    (tmp_path / "p.tex").write_text(paragraph_latex(analysis("loco adaptive")), encoding="utf-8")
    doc = "\\documentclass{article}\n\\begin{document}\n\\input{p.tex}\n\\end{document}\n"
    (tmp_path / "doc.tex").write_text(doc, encoding="utf-8")
    done = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "doc.tex"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:]


def test_a_matters_arm_whose_interval_lies_inside_the_margin_says_why_it_still_matters() -> None:
    """The 95% interval is per arm; the equivalence test is adjusted for the arms and looks."""
    a = analysis("loco fixed")
    table = a.table.copy()
    row = table.index[table["arm"] == "-batchnorm"][0]
    table.loc[row, ["verdict", "p_holm", "delta", "delta_ci_low", "delta_ci_high", "p_equivalence_holm"]] = [
        "matters", 0.01, -0.006, -0.009, -0.003, 0.07,
    ]  # fmt: skip
    text = paragraph_text(type(a)(**{**a.__dict__, "table": table}))
    assert (
        "its interval lies within ±1.00 points, but equivalence is not shown once adjusted for the arms and looks "
        "(equivalence p_Holm = 0.070)" in text
    )
