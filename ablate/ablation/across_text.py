"""The across-data-sets table as the report shows it: ``across.csv`` as display strings, and the
legend that says what each column means."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from ablate.ablation.across import DECISIVE, AcrossAnalysis
from ablate.ablation.paragraph import p_phrase
from ablate.ablation.tables import table_unit
from ablate.ablation.units import plain_number

# across.csv as the report shows it: header -> column (the probabilities are the arm's, against the baseline).
_SHOWN = {
    "arm": "arm",
    "verdict": "verdict",
    "mean rank": "mean_rank",
    "mean Δ": "mean_delta",
    "p (rank, Holm)": "p_rank_holm",
    "P(worse)": "p_worse",
    "P(≈)": "p_rope",
    "P(better)": "p_better",
    "seeds per data set": "seeds_per_dataset",
}


def across_table(a: AcrossAnalysis) -> pd.DataFrame:
    """across.csv as display strings."""
    unit = table_unit(pd.DataFrame({"mean": a.means.to_numpy().ravel(), "test_mean": np.nan}), a.metric)
    rows = []
    for r in a.table.itertuples():
        cells = {}
        for header, column in _SHOWN.items():
            v = getattr(r, column)
            if column == "mean_delta":
                cells[header] = (
                    ""
                    if not finite(v)
                    else plain_number(v * unit.scale, 2, signed=True)
                    + (f" {unit.delta_name}" if unit.delta_name else "")
                )
            elif column == "mean_rank":
                cells[header] = f"{v:.2f}"
            elif column.startswith("p_"):
                cells[header] = "" if not finite(v) else f"{v:.3f}" if column != "p_rank_holm" else p_phrase(v)
            elif column == "seeds_per_dataset":
                cells[header] = "" if pd.isna(v) else str(int(v))
            else:
                cells[header] = str(v) if isinstance(v, str) else ""
        rows.append(cells)
    return pd.DataFrame(rows)


def across_legend(a: AcrossAnalysis) -> list[str]:
    rope = f"±{a.min_effect:g}" if a.min_effect else "empty (no min_effect)"
    return [
        f"*mean rank*: the arm's rank on each data set (of its mean over the seeds; 1 = best), averaged; "
        f"Friedman's test over all arms: χ² = {a.friedman_stat:.2f}, p {p_phrase(a.friedman_p)}. *mean Δ*: the arm's "
        "mean minus the baseline's, averaged over the data sets. *p (rank, Holm)*: the arm's rank sum against the "
        "baseline's (Siegel and Castellan's z, as Demšar 2006 recommends against a control), Holm-adjusted over "
        "the arms.",
        "",
        f"*P(worse)*, *P(≈)*, *P(better)*: the Bayesian hierarchical test (Corani et al. 2017, baycomp) over every "
        f"(data set, seed) paired difference: the probability that the arm is worse than the baseline, within the "
        f"region of practical equivalence ({rope}), or better, on a data set like these. *verdict*: `matters` "
        f"where P(worse) or P(better) ≥ {DECISIVE}, `negligible` where P(≈) ≥ {DECISIVE}, else `inconclusive`. "
        "The ranks use only the per-data-set means; the hierarchical test also counts how much each data set's "
        "seeds vary.",
    ]


def finite(v: Any) -> bool:
    return isinstance(v, (int, float, np.floating)) and math.isfinite(float(v))
