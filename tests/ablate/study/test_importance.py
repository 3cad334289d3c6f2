"""Parameter importance on small synthetic Optuna studies in memory, with known answers."""

from __future__ import annotations

import logging
import math

import numpy as np
import optuna
import pandas as pd

from ablate.study.importance import COLUMNS, MIN_KNOB_TRIALS, MIN_TRIALS, param_importance

optuna.logging.set_verbosity(optuna.logging.WARNING)


def study_of(objective, n: int, directions: list[str] | None = None, seed: int = 1) -> optuna.Study:
    study = optuna.create_study(directions=directions or ["maximize"], sampler=optuna.samplers.RandomSampler(seed=seed))
    study.optimize(objective, n_trials=n)
    return study


def driven_by_x(trial: optuna.Trial) -> float:
    """x decides the value; noise, a log-scaled lr and a categorical c do nothing."""
    x = trial.suggest_float("x", 0.0, 1.0)
    trial.suggest_float("noise", 0.0, 1.0)
    trial.suggest_float("lr", 1e-5, 1e-1, log=True)
    trial.suggest_categorical("c", ["a", "b", "c"])
    return -((x - 0.3) ** 2) + 0.002 * math.sin(trial.number)


def by_method(table: pd.DataFrame, method: str) -> pd.DataFrame:
    return table[table["method"] == method].set_index("param")


def test_a_knob_that_drives_the_metric_ranks_above_noise_knobs_for_both_methods() -> None:
    result = param_importance(study_of(driven_by_x, 40).trials, "maximize")
    assert list(result.table.columns) == COLUMNS and not result.reason
    assert set(result.table["method"]) == {"ped_anova", "fanova"}
    for method in ("ped_anova", "fanova"):
        rows = by_method(result.table, method)
        assert set(rows.index) == {"x", "noise", "lr", "c"}
        assert rows.index[0] == "x" and rows.loc["x", "importance"] > 0.5, (method, rows)  # first in the table
    # fANOVA's refits agree: x's range lies above every other knob's. (PED-ANOVA's need not at 40
    # trials: its top 5 of a half-sample can make a noise knob look decisive in one refit.)
    fanova = by_method(result.table, "fanova")
    for other in ("noise", "lr", "c"):
        assert fanova.loc["x", "ci_low"] > fanova.loc[other, "ci_high"], fanova
    shares = result.table[["importance", "ci_low", "ci_high"]]
    assert ((shares >= 0) & (shares <= 1)).all().all()
    assert (result.table["ci_low"] <= result.table["importance"]).all()
    assert (result.table["importance"] <= result.table["ci_high"]).all()
    assert (result.table["ci_low"] < result.table["ci_high"]).any()  # an interval, not a point
    assert (result.table["n_trials"] == 40).all() and result.n_used == 40


def test_a_log_scaled_knob_that_drives_the_metric_ranks_first() -> None:
    def objective(trial: optuna.Trial) -> float:
        lr = trial.suggest_float("lr", 1e-5, 1e-1, log=True)
        trial.suggest_int("units", 16, 256, log=True)
        trial.suggest_float("dropout", 0.0, 0.5)
        return -abs(math.log10(lr) + 4)  # best near 1e-4: the bottom fifth of the range, on a log scale

    result = param_importance(study_of(objective, 40).trials, "maximize")
    for method in ("ped_anova", "fanova"):
        rows = by_method(result.table, method)
        assert rows.index[0] == "lr" and rows.loc["lr", "importance"] > 0.5, (method, rows)


def test_the_same_trials_give_the_same_table_and_another_seed_another_spread() -> None:
    trials = study_of(driven_by_x, 30).trials
    a, b = param_importance(trials, "maximize"), param_importance(trials, "maximize")
    pd.testing.assert_frame_equal(a.table, b.table)
    c = param_importance(trials, "maximize", seed=7)
    assert not np.allclose(a.table["ci_high"], c.table["ci_high"])


def test_pruned_and_failed_trials_are_left_out_and_counted() -> None:
    def objective(trial: optuna.Trial) -> float:
        x = trial.suggest_float("x", 0.0, 1.0)
        trial.suggest_float("noise", 0.0, 1.0)
        if trial.number % 5 == 1:
            raise optuna.TrialPruned()
        if trial.number % 5 == 2:
            return float("nan")  # Optuna records a NaN objective as FAIL
        return x

    study = study_of(objective, 40)
    result = param_importance(study.trials, "maximize")
    assert result.n_used == 24 and result.excluded == {"PRUNED": 8, "FAIL": 8}
    assert by_method(result.table, "fanova").index[0] == "x"


def test_too_few_complete_trials_give_a_reason_and_an_empty_table() -> None:
    def objective(trial: optuna.Trial) -> float:
        x = trial.suggest_float("x", 0.0, 1.0)
        if trial.number >= MIN_TRIALS - 1:
            raise optuna.TrialPruned()
        return x

    result = param_importance(study_of(objective, 25).trials, "maximize")
    assert result.table.empty and list(result.table.columns) == COLUMNS
    n = MIN_TRIALS - 1
    assert result.reason == f"too few complete trials for parameter importance: {n}, at least {MIN_TRIALS} needed"
    assert result.excluded == {"PRUNED": 25 - n}


def test_an_objective_that_never_changes_explains_nothing() -> None:
    def objective(trial: optuna.Trial) -> float:
        trial.suggest_float("x", 0.0, 1.0)
        return 0.5

    result = param_importance(study_of(objective, 24).trials, "minimize")
    assert result.table.empty and "0.5 in every complete trial" in result.reason


def test_a_single_knob_has_all_the_share_and_the_report_says_why() -> None:
    def objective(trial: optuna.Trial) -> float:
        return trial.suggest_float("x", 0.0, 1.0)

    result = param_importance(study_of(objective, 24).trials, "maximize")
    assert list(result.table["param"]) == ["x", "x"]
    assert np.allclose(result.table[["importance", "ci_low", "ci_high"]], 1.0)
    assert any("One knob" in n for n in result.notes)


def test_conditional_knobs_are_rated_by_ped_anova_only_over_the_trials_that_have_them() -> None:
    """momentum exists only with sgd (as a conditional space leaves it out of the other trials)."""

    def objective(trial: optuna.Trial) -> float:
        optimizer = trial.suggest_categorical("optimizer", ["sgd", "adam"])
        x = trial.suggest_float("x", 0.0, 1.0)
        if optimizer == "sgd":
            momentum = trial.suggest_float("momentum", 0.0, 0.99)
            return x + 0.5 * momentum
        return x

    study = study_of(objective, 40)
    with_momentum = sum("momentum" in t.params for t in study.trials)
    result = param_importance(study.trials, "maximize")
    ped, fanova = by_method(result.table, "ped_anova"), by_method(result.table, "fanova")
    assert "momentum" in ped.index and ped.loc["momentum", "n_trials"] == with_momentum < 40
    assert "momentum" not in fanova.index and set(fanova.index) == {"optimizer", "x"}
    assert any("Conditional knobs (momentum)" in n for n in result.notes)


def test_a_knob_active_in_too_few_trials_is_not_rated_and_the_report_says_so() -> None:
    """A rare branch (a third of one choice in four) leaves its knob in a handful of trials."""

    def objective(trial: optuna.Trial) -> float:
        x = trial.suggest_float("x", 0.0, 1.0)
        if trial.suggest_categorical("branch", ["a", "b", "c", "rare"]) == "rare" and x > 0.66:
            return x + trial.suggest_float("rare_knob", 0.0, 1.0)
        return x

    study = study_of(objective, 40)
    n_rare = sum("rare_knob" in t.params for t in study.trials)
    assert 0 < n_rare < MIN_KNOB_TRIALS
    result = param_importance(study.trials, "maximize")
    assert "rare_knob" not in set(result.table["param"]) and {"x", "branch"} <= set(result.table["param"])
    assert any(f"Not rated: rare_knob ({n_rare})" in n for n in result.notes), result.notes


def test_a_multi_objective_study_is_rated_on_its_first_objective() -> None:
    def objective(trial: optuna.Trial) -> tuple[float, float]:
        x = trial.suggest_float("x", 0.0, 1.0)
        y = trial.suggest_float("y", 0.0, 1.0)
        return x, y

    study = study_of(objective, 30, directions=["maximize", "minimize"])
    result = param_importance(study.trials, "maximize")
    for method in ("ped_anova", "fanova"):
        assert by_method(result.table, method).index[0] == "x"


def test_fanova_refits_with_nothing_to_split_are_left_out_and_said() -> None:
    """Optuna's fANOVA raises on a forest whose trees all predict one value: here a half of the
    trials without either of the two that differ, or values too close for any split."""

    def two_differ(trial: optuna.Trial) -> float:
        trial.suggest_float("x", 0.0, 1.0)
        trial.suggest_float("y", 0.0, 1.0)
        return 0.5 if trial.number in (3, 17) else 1.0

    result = param_importance(study_of(two_differ, 30).trials, "maximize")
    assert set(result.table["method"]) == {"ped_anova", "fanova"}
    (note,) = [n for n in result.notes if "fANOVA refits found no variance" in n]
    assert note.startswith("1 of 10 fANOVA refits") and note.endswith("the others make its rows.")

    def too_close(trial: optuna.Trial) -> float:
        return 1e-200 * trial.suggest_float("x", 0.0, 1.0) + 0 * trial.suggest_float("y", 0.0, 1.0)

    result = param_importance(study_of(too_close, 30).trials, "maximize")
    assert set(result.table["method"]) == {"ped_anova"}  # PED-ANOVA ranks; it needs no variance
    assert by_method(result.table, "ped_anova").index[0] == "x"
    assert any(n.startswith("10 of 10 fANOVA refits") and n.endswith("no row of its own.") for n in result.notes)


def test_the_refits_log_no_new_study_where_optuna_logs_at_info() -> None:
    trials = study_of(driven_by_x, 20).trials
    seen: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: seen.append(record.getMessage())  # type: ignore[method-assign]
    root = logging.getLogger("optuna")
    root.addHandler(handler)
    optuna.logging.set_verbosity(optuna.logging.INFO)  # as a flow or the report called from Python
    try:
        result = param_importance(trials, "maximize")
        optuna.logging.get_logger("optuna.storages._in_memory").info("the storage's logger still logs")
    finally:
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        root.removeHandler(handler)
    assert not result.table.empty
    assert not [m for m in seen if "A new study created" in m], seen
    assert "the storage's logger still logs" in seen  # its level was given back
