"""Hand-made frames in the shapes ``ablate.ablation.stats`` returns, for the table and figure tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

NAN = np.nan
TABLE_COLUMNS = [
    "arm",
    "role",
    "reference",
    "n",
    "n_failed",
    "n_missing",
    "mean",
    "std",
    "ci_low",
    "ci_high",
    "delta",
    "delta_ci_low",
    "delta_ci_high",
    "p_value",
    "p_wilcoxon",
    "p_holm",
    "significant",
    "cohen_dz",
    "test_mean",
    "test_ci_low",
    "test_ci_high",
    "note",
]


def make_table(test: bool = True) -> pd.DataFrame:
    """Leave-one-out over 5 seeds: one arm significantly worse, one better, one with 2 failed seeds,
    one with no complete seed at all."""
    # fmt: off
    rows = [
        ["baseline", "baseline", None, 5, 0, 0, 0.9712, 0.005, 0.9650, 0.9774,
         NAN, NAN, NAN, NAN, NAN, NAN, False, NAN, 0.9688, 0.9620, 0.9756, ""],
        ["-batchnorm", "ablated", "baseline", 5, 0, 0, 0.9410, 0.006, 0.9336, 0.9484,
         -0.0302, -0.0371, -0.0233, 0.00012, 0.0625, 0.00048, True, -5.43, 0.9391, 0.9300, 0.9482, ""],
        ["-label_smoothing", "ablated", "baseline", 3, 2, 0, 0.9700, 0.004, 0.9601, 0.9799,
         -0.0010, -0.0120, 0.0100, 0.74, 1.0, 1.0, False, -0.22, NAN, NAN, NAN, "2 of 5 seeds failed"],
        ["+mixup", "added", "baseline", 5, 0, 0, 0.9790, 0.004, 0.9740, 0.9840,
         0.0078, 0.0041, 0.0115, 0.0031, 0.0625, 0.0093, True, 2.61, 0.9770, 0.9700, 0.9840, ""],
        ["-dropout", "ablated", "baseline", 0, 0, 5, NAN, NAN, NAN, NAN,
         NAN, NAN, NAN, NAN, NAN, NAN, False, NAN, NAN, NAN, NAN, "no complete seed"],
    ]
    # fmt: on
    table = pd.DataFrame(rows, columns=TABLE_COLUMNS)
    # The verdict columns: -batchnorm and +mixup matter (margin 0.005), -label_smoothing cannot tell.
    table["verdict"] = ["", "matters", "inconclusive", "matters", ""]
    table["n_pairs"] = [0, 5, 3, 5, 0]
    table["p_equivalence_holm"] = [NAN, 1.0, 0.4, 0.7, NAN]
    table["seeds_needed"] = [NAN, NAN, 40.0, NAN, NAN]
    table["test_delta"] = [NAN, -0.0297, NAN, 0.0082, NAN]
    table["test_delta_ci_low"] = [NAN, -0.0390, NAN, 0.0030, NAN]
    table["test_delta_ci_high"] = [NAN, -0.0204, NAN, 0.0134, NAN]
    table["test_verdict"] = ["", "matters", "", "inconclusive", ""]
    table[["min_effect", "alpha", "confidence"]] = [0.005, 0.05, 0.95]
    if not test:
        table[["test_mean", "test_ci_low", "test_ci_high", "test_delta"]] = NAN
        table["test_verdict"] = ""
    return table


def make_differences() -> pd.DataFrame:
    """Per-seed paired differences of the arms of :func:`make_table` that have any."""
    per_arm = {
        "-batchnorm": [-0.031, -0.025, -0.036, -0.028, -0.031],
        "-label_smoothing": [0.004, -0.006, -0.001],
        "+mixup": [0.010, 0.006, 0.004, 0.011, 0.008],
    }
    rows = [(arm, "baseline", seed, d) for arm, deltas in per_arm.items() for seed, d in enumerate(deltas)]
    return pd.DataFrame(rows, columns=["arm", "reference", "seed", "delta"])


def make_steps() -> pd.DataFrame:
    """A 3-step path: two gains and one step that costs a little."""
    columns = ["step", "arm", "previous", "param", "n", "gain", "gain_ci_low", "gain_ci_high"]
    columns += ["p_value", "share", "cumulative", "note"]
    rows = [
        [1, "step 1: lr", "baseline", "lr", 5, 0.030, 0.022, 0.038, 0.0004, 0.75, 0.75, ""],
        [2, "step 2: batch_size", "step 1: lr", "batch_size", 5, 0.012, 0.002, 0.022, 0.03, 0.30, 1.05, ""],
        [3, "step 3: dropout", "step 2: batch_size", "dropout", 5, -0.002, -0.009, 0.005, 0.48, -0.05, 1.0, ""],
    ]
    return pd.DataFrame(rows, columns=columns)


def make_effects() -> pd.DataFrame:
    columns = ["effect", "kind", "components", "n", "estimate", "ci_low", "ci_high"]
    columns += ["p_value", "p_holm", "significant", "note"]
    rows = [
        ["batchnorm", "main", ("batchnorm",), 5, 0.0300, 0.0210, 0.0390, 0.0002, 0.0006, True, ""],
        ["dropout", "main", ("dropout",), 5, 0.0040, -0.0010, 0.0090, 0.09, 0.18, False, ""],
        ["batchnorm × dropout", "interaction", ("batchnorm", "dropout"), 5, -0.0050, -0.0120, 0.0020, 0.12, 0.18,
         False, ""],
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


def make_factorial(components: tuple[str, ...] = ("batchnorm", "dropout"), seeds: int = 4) -> tuple:
    """Runs of a full 2^k factorial (every seed complete except one failed run) and its ``present`` map.

    The metric is 0.90 + 0.03 per present batchnorm + 0.01 per present dropout, plus a seed offset.
    """
    effect = {"batchnorm": 0.03, "dropout": 0.01}
    present, rows = {}, []
    for bits in np.ndindex(*(2,) * len(components)):
        on = tuple(c for c, b in zip(components, bits) if b)
        arm = "+".join(on) or "none"
        present[arm] = on
        for seed in range(seeds):
            value = 0.90 + sum(effect.get(c, 0.002) for c in on) + 0.002 * seed
            rows.append((arm, seed, "complete", value))
    rows.append(("none", seeds, "failed", NAN))
    return pd.DataFrame(rows, columns=["arm", "seed", "status", "val_accuracy"]), present
