"""Unit tests for ablate.vocab.objectives: outcome constraints as written, their values in
Optuna's convention, and the check that a trial returns every constrained metric."""

from __future__ import annotations

import pytest

from ablate.errors import ConfigError, InvalidMetricError
from ablate.vocab.objectives import (
    Constraint,
    check_constrained,
    constraint_values,
    describe_objectives,
    is_feasible,
    parse_constraint,
)


@pytest.mark.parametrize(
    ("text", "parsed", "normalized"),
    [
        ("train_time_s <= 2.0", Constraint("train_time_s", "<=", 2.0), "train_time_s <= 2"),
        ("n_params<=50000", Constraint("n_params", "<=", 50000.0), "n_params <= 50000"),
        ("  val_accuracy >= 0.9 ", Constraint("val_accuracy", ">=", 0.9), "val_accuracy >= 0.9"),
        ("n_params <= 5e4", Constraint("n_params", "<=", 50000.0), "n_params <= 50000"),
        ("loss >= -1.5", Constraint("loss", ">=", -1.5), "loss >= -1.5"),
        ("val/acc >= 1e-3", Constraint("val/acc", ">=", 0.001), "val/acc >= 0.001"),
    ],
)
def test_a_constraint_is_metric_operator_number(text: str, parsed: Constraint, normalized: str) -> None:
    assert parse_constraint(text) == parsed
    assert parsed.text == normalized
    assert parse_constraint(parsed.text) == parsed  # the normalized text reads back the same


SHAPE = 'must be METRIC <= NUMBER or METRIC >= NUMBER, e.g. "train_time_s <= 2.0"'


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ("train_time_s < 2.0", " (the operator is <= or >=, not <)"),
        ("train_time_s == 2.0", " (the operator is <= or >=, not ==)"),
        ("train_time_s =< 2.0", " (the operator is <= or >=, not =<)"),
        ("n_params <= many", " (the bound 'many' is not a number)"),
        ("n_params <= inf", " (the bound must be a finite number, not inf)"),
        ("n_params <=", ""),
        ("n_params", ""),
        ("<= 3", ""),
        ("", ""),
        ("n_params <= 3 and x >= 2", " (the bound '3 and x >= 2' is not a number)"),
    ],
)
def test_a_malformed_constraint_says_what_must_hold(text: str, detail: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_constraint(text)
    assert str(info.value) == SHAPE + detail


def test_values_follow_optunas_convention_at_most_zero_is_met() -> None:
    at_most, at_least = Constraint("cost", "<=", 2.0), Constraint("acc", ">=", 0.9)
    assert at_most.value({"cost": 1.5}) == -0.5 and at_most.met({"cost": 2.0}) and not at_most.met({"cost": 2.5})
    assert at_least.value({"acc": 0.8}) == pytest.approx(0.1) and at_least.met({"acc": 0.9})
    values = constraint_values((at_most, at_least), {"cost": 3.0, "acc": 0.95})
    assert values == {"cost <= 2": 1.0, "acc >= 0.9": pytest.approx(-0.05)}
    assert not is_feasible(values) and is_feasible({"cost <= 2": 0.0}) and is_feasible({})


def test_describe_objectives() -> None:
    assert describe_objectives(("acc", "n"), ("maximize", "minimize")) == "acc (maximize), n (minimize)"


CONSTRAINTS = (Constraint("val_accuracy", ">=", 0.5), Constraint("n_parms", "<=", 1000.0))


def test_a_constrained_metric_no_trial_returned_is_a_mistake_in_the_params() -> None:
    with pytest.raises(ConfigError) as info:
        check_constrained({"val_accuracy": 0.9, "n_params": 10.0}, 0, CONSTRAINTS, set(), "p.yaml")
    assert info.value.key == "study.constraints[1]"
    assert str(info.value) == (
        "p.yaml: study.constraints[1]: must bound a metric the trial function returns (n_params, val_accuracy), "
        "but got 'n_parms <= 1000' (trial 0 returned no n_parms); correct it, then run again with --restart"
    )


def test_a_constrained_metric_earlier_trials_returned_fails_only_this_trial() -> None:
    with pytest.raises(InvalidMetricError) as info:
        check_constrained({"val_accuracy": 0.9}, 7, CONSTRAINTS, {"val_accuracy", "n_parms"}, "p.yaml")
    assert str(info.value) == (
        "trial 7: study.constraints metric 'n_parms' must be among the returned metrics (val_accuracy), but got none"
    )
    check_constrained({"val_accuracy": 0.1, "n_parms": 1.0}, 8, CONSTRAINTS, set(), "p.yaml")  # present: fine
