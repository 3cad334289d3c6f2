"""Effects that need more than one comparison: factorial main effects and interactions (±1
contrasts per seed, tested like any paired difference), and the gains of an ablation path's steps."""

from __future__ import annotations

import itertools
from collections.abc import Collection, Iterator, Mapping, Sequence

import numpy as np
import pandas as pd

from ablate.ablation.runs_table import check_distinct, paired, usable_values
from ablate.ablation.stats import RTOL, as_frame, check_level, estimate, scale_of, with_holm
from ablate.vocab.direction import sign as gain_sign

EFFECT_COLUMNS = "effect kind components n estimate ci_low ci_high p_value p_holm significant note".split()

PATH_COLUMNS = "step arm previous param n gain gain_ci_low gain_ci_high p_value share cumulative note".split()


def factorial_effects(
    runs: pd.DataFrame,
    present: Mapping[str, Collection[str]],
    components: Sequence[str],
    metric: str,
    alpha: float = 0.05,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Main effects and two-way interactions of a full two-level factorial design, over seeds.

    With +-1 coding (+1 = component present), per seed the effect of a contrast is
    ``mean(y | +1) - mean(y | -1)`` (Box, Hunter & Hunter); only seeds usable in every arm count.
    Each effect gets the mean over seeds, a t-interval, a one-sample t-test against 0 and Holm
    across all effects.

    Args:
        runs: The runs table, one row per planned (arm, seed).
        present: Arm -> the components present (not removed) in it; the arms form a full 2^k design.
        components: The k factors, in row order.
        metric: The metric column.
        alpha: Level for ``significant`` (``p_holm < alpha``).
        confidence: Level of the intervals.

    Returns:
        ``effect, kind, components, n, estimate, ci_low, ci_high, p_value, p_holm, significant, note``;
        main effects in component order, then interactions ``"a × b"`` in (i < j) order.

    Raises:
        ValueError: The design is not a full 2^k factorial over ``components`` (the message names a
            missing or repeated combination), or ``runs`` breaks the table's contract.
    """
    check_level("alpha", alpha)
    check_level("confidence", confidence)
    arms, design = _factorial_design(present, components)
    wide = usable_values(runs, metric, arms)
    y = wide.dropna().to_numpy()
    dropped = len(wide) - len(y)
    dropped_note = f"{dropped} seeds dropped: incomplete in some arm" if dropped else ""
    half = len(arms) // 2  # each +-1 contrast of a full 2^k design has 2^(k-1) arms on each side
    rows = []
    for effect, kind, names, contrast in _contrasts(components, design):
        est = estimate(y @ contrast / half, scale_of(y), confidence)
        note = "; ".join(part for part in (est.note, dropped_note) if part)
        rows.append([effect, kind, names, est.n, est.mean, est.ci_low, est.ci_high, est.p_value, np.nan, False, note])
    return with_holm(as_frame(rows, EFFECT_COLUMNS, ints=["n"]), alpha)


def contrast_matrix(
    present: Mapping[str, Collection[str]], components: Sequence[str]
) -> tuple[list[str], list[str], np.ndarray]:
    """The arms of a full 2^k design, its effects (mains, then two-way interactions, named as in
    :func:`factorial_effects`) and their +-1 contrasts, one column per effect."""
    arms, design = _factorial_design(present, components)
    effects = list(_contrasts(components, design))
    return arms, [e[0] for e in effects], np.column_stack([e[3] for e in effects])


def path_steps(
    runs: pd.DataFrame,
    steps: Sequence[tuple[str, str, str]],
    metric: str,
    direction: str,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Measured gain of each step of an ablation path (Fawcett & Hoos 2016), paired over seeds.

    A positive gain is an improvement: ``arm - previous`` when maximizing, ``previous - arm`` when
    minimizing. ``share`` is a step's mean gain over the sum of all steps' mean gains (NaN when that
    sum is 0, up to float round-off, or a step has no paired seed); ``cumulative`` is the running sum of mean gains. No
    multiple-comparison correction: the steps are read as one path, not as competing claims.

    Args:
        runs: The runs table, one row per planned (arm, seed).
        steps: ``(arm, previous_arm, changed_param)`` in path order.
        metric: The metric column.
        direction: ``"maximize"`` or ``"minimize"``, the metric's better direction.
        confidence: Level of the interval on each gain.

    Returns:
        ``step, arm, previous, param, n, gain, gain_ci_low, gain_ci_high, p_value, share, cumulative,
        note`` with ``step`` counted from 1.
    """
    check_level("confidence", confidence)
    sign = gain_sign(direction)
    check_distinct([(arm, previous) for arm, previous, _ in steps])
    wide = usable_values(runs, metric, [name for arm, previous, _ in steps for name in (arm, previous)])
    rows = []
    for number, (arm, previous, param) in enumerate(steps, start=1):
        _, a, b = paired(wide, arm, previous)
        est = estimate(sign * (a - b), scale_of(a, b), confidence)
        rows.append([number, arm, previous, param, est.n, est.mean, est.ci_low, est.ci_high, est.p_value])
        rows[-1] += [np.nan, np.nan, est.note]
    out = as_frame(rows, PATH_COLUMNS, ints=["step", "n"])
    gains = out["gain"].to_numpy(dtype=float)
    total = gains.sum()
    out["share"] = gains / total if abs(total) > RTOL * scale_of(gains) else np.nan
    out["cumulative"] = np.cumsum(gains)
    return out


def _contrasts(components: Sequence[str], design: np.ndarray) -> Iterator[tuple[str, str, tuple[str, ...], np.ndarray]]:
    """``(effect, kind, components, +-1 contrast over arms)``: mains, then pairwise interactions."""
    for j, name in enumerate(components):
        yield name, "main", (name,), design[:, j]
    for j, k in itertools.combinations(range(len(components)), 2):
        pair = (components[j], components[k])
        yield f"{pair[0]} × {pair[1]}", "interaction", pair, design[:, j] * design[:, k]


def _factorial_design(
    present: Mapping[str, Collection[str]], components: Sequence[str]
) -> tuple[list[str], np.ndarray]:
    """The arms and their +-1 design matrix, after checking they form a full 2^k design."""
    if not components or len(set(components)) != len(components):
        raise ValueError(f"components must be at least one distinct name, but got {list(components)}")
    for arm, names in present.items():
        if not set(names) <= set(components):
            raise ValueError(f"present[{arm!r}] must name only components {list(components)}, but got {sorted(names)}")
    codes = [tuple(c in present[arm] for c in components) for arm in present]
    for code in itertools.product((True, False), repeat=len(components)):
        if codes.count(code) != 1:
            raise ValueError(
                f"a full 2^{len(components)} design needs each combination of {list(components)} in exactly one "
                f"arm, but {codes.count(code)} arms have {_describe(components, code)}"
            )
    return list(present), np.where(np.array(codes, dtype=bool).reshape(len(codes), -1), 1.0, -1.0)


def _describe(components: Sequence[str], code: tuple[bool, ...]) -> str:
    return "{" + ", ".join(f"{c} {'present' if on else 'removed'}" for c, on in zip(components, code)) + "}"
