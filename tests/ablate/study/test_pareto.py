"""Unit tests for ablate.study.pareto: dominance and the Pareto front, checked against small
cases worked by hand and against Optuna's own ``Study.best_trials``."""

from __future__ import annotations

import numpy as np
import optuna
import pandas as pd
import pytest

from ablate.study.pareto import dominates, front_flags, front_numbers, pareto_mask

optuna.logging.set_verbosity(optuna.logging.WARNING)
MAX_MIN = ("maximize", "minimize")


def test_dominates_means_no_worse_everywhere_and_better_somewhere() -> None:
    assert dominates([0.9, 10], [0.8, 20], MAX_MIN)
    assert dominates([0.9, 10], [0.9, 20], MAX_MIN)  # equal on one, better on the other
    assert not dominates([0.9, 10], [0.9, 10], MAX_MIN)  # equal points dominate neither way
    assert not dominates([0.9, 30], [0.8, 20], MAX_MIN)  # a trade-off
    assert dominates([1, 1], [2, 2], ("minimize", "minimize"))
    assert not dominates([1, 1], [2, 2], ("maximize", "maximize"))


def test_pareto_mask_by_hand() -> None:
    # accuracy (max), size (min): #2 is dominated by #1, #4 by #0; #0, #1, #3 trade off; #5 ties #1.
    values = np.array([[0.80, 10], [0.90, 20], [0.85, 25], [0.95, 40], [0.70, 10], [0.90, 20]])
    assert pareto_mask(values, MAX_MIN).tolist() == [True, True, False, True, False, True]
    assert pareto_mask(np.zeros((0, 2)), MAX_MIN).tolist() == []
    # One objective: the best value(s) alone.
    assert pareto_mask(np.array([[3.0], [1.0], [1.0]]), ("minimize",)).tolist() == [False, True, True]


@pytest.mark.parametrize("directions", [MAX_MIN, ("minimize", "minimize", "maximize")])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_front_is_optunas_best_trials(directions: tuple[str, ...], seed: int) -> None:
    """Random values on a coarse grid (so ties happen) with random feasibility: the front among
    the feasible trials is exactly Optuna's ``best_trials`` of the same study."""
    rng = np.random.default_rng(seed)
    study = optuna.create_study(directions=list(directions))
    rows = []
    for number in range(60):
        values = rng.integers(0, 6, len(directions)).astype(float)
        violation = float(rng.choice([-1.0, 1.0], p=[0.7, 0.3]))
        trial = study.ask()
        trial.set_constraint("c", violation)
        study.tell(trial, values.tolist())
        rows.append({"number": number, "state": "COMPLETE", "feasible": violation <= 0, **dict(enumerate(values))})
    trials = pd.DataFrame(rows)
    flags = front_flags(trials, list(range(len(directions))), directions)
    expected = sorted(t.number for t in study.best_trials)
    assert sorted(trials.loc[flags, "number"]) == expected
    assert 0 < len(expected) < 60 and not trials.loc[flags, "feasible"].eq(False).any()


def test_front_flags_skip_unfinished_infeasible_and_non_finite_trials() -> None:
    trials = pd.DataFrame(
        {
            "number": [0, 1, 2, 3, 4, 5],
            "state": ["COMPLETE", "COMPLETE", "FAIL", "COMPLETE", "PRUNED", "COMPLETE"],
            "acc": [0.9, 0.8, 0.99, 0.99, 0.99, np.nan],
            "size": [10.0, 5.0, 1.0, 1.0, 1.0, 1.0],
            "feasible": pd.array([True, True, None, False, None, True], dtype="boolean"),
        }
    )
    # #3 would dominate #0 and #1, but it misses a constraint: it neither joins nor pushes them off.
    flags = front_flags(trials, ["acc", "size"], MAX_MIN)
    assert flags.tolist() == [True, True, False, False, False, False]
    assert front_numbers(trials.assign(pareto=flags)) == [0, 1]
    assert front_numbers(trials) == []  # no pareto column: one objective, no front
