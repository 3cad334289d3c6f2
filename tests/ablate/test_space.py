"""Unit tests for ablate.space: knobs -> Optuna suggestions, and grids."""

from __future__ import annotations

import optuna
import pytest

from ablate.space import (
    CategoricalParam,
    FloatParam,
    IntParam,
    grid_of,
    grid_size,
    grid_values,
    iter_grid,
    suggest_params,
)

optuna.logging.set_verbosity(optuna.logging.WARNING)

SPACE = (
    IntParam("layers", 1, 3),
    IntParam("units", 8, 256, log=True),
    IntParam("even", 2, 10, step=2),
    FloatParam("dropout", 0.0, 0.5),
    FloatParam("lr", 1e-4, 1e-1, log=True),
    FloatParam("momentum", 0.5, 0.9, step=0.1),
    CategoricalParam("activation", ("relu", "tanh")),
    CategoricalParam("batchnorm", (False, True)),
    CategoricalParam("batch", (32, 64, None)),
)


@pytest.mark.parametrize(
    "sampler",
    [optuna.samplers.RandomSampler(seed=0), optuna.samplers.TPESampler(seed=0, n_startup_trials=5)],
    ids=["random", "tpe"],
)
def test_suggest_params_within_bounds_and_typed(sampler: optuna.samplers.BaseSampler) -> None:
    study = optuna.create_study(sampler=sampler)
    seen: dict[str, set] = {p.name: set() for p in SPACE}
    for i in range(40):
        trial = study.ask()
        params = suggest_params(trial, SPACE)
        assert list(params) == [p.name for p in SPACE]  # every knob, in space order
        assert trial.params == params  # what Optuna recorded is what we return
        for p in SPACE:
            v = params[p.name]
            seen[p.name].add(v)
            if isinstance(p, IntParam):
                assert type(v) is int and p.low <= v <= p.high
                assert (v - p.low) % p.step == 0
            elif isinstance(p, FloatParam):
                assert type(v) is float and p.low <= v <= p.high
                if p.step is not None:
                    k = (v - p.low) / p.step
                    assert abs(k - round(k)) < 1e-6
            else:
                assert v in p.choices
                assert any(v is c or (type(v) is type(c) and v == c) for c in p.choices)
        study.tell(trial, float(i % 7))
    # The knobs actually vary (a sampler that always returns low would pass the checks above).
    assert len(seen["lr"]) > 10 and len(seen["layers"]) == 3 and len(seen["activation"]) == 2


def test_log_int_knob_favours_small_values() -> None:
    # A log-uniform int on [8, 256] puts half its mass below sqrt(8 * 256) = 45.25;
    # a uniform one would put only (45 - 8 + 1) / 249 ~ 15% there.
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    values = [suggest_params(study.ask(), (IntParam("units", 8, 256, log=True),))["units"] for _ in range(200)]
    assert 0.35 < sum(v <= 45 for v in values) / len(values) < 0.65


def test_grid_values_int() -> None:
    assert grid_values(IntParam("a", 1, 3)) == [1, 2, 3]
    assert grid_values(IntParam("a", 2, 10, step=3)) == [2, 5, 8]
    assert all(type(v) is int for v in grid_values(IntParam("a", 2, 10, step=3)))


def test_grid_values_stepped_float_have_no_float_noise() -> None:
    values = grid_values(FloatParam("d", 0.0, 0.5, step=0.1))
    assert values == [0.0, 0.1, 0.2, 0.3, 0.4, 0.5]
    assert "0.30000000000000004" not in repr(values) and "0.6000000000000001" not in repr(values)
    # (0.3 - 0.1) / 0.1 is 1.9999999999999998: the top end must still be included.
    assert grid_values(FloatParam("d", 0.1, 0.3, step=0.1)) == [0.1, 0.2, 0.3]
    # A high off the grid is not reached.
    assert grid_values(FloatParam("d", 0.0, 1.0, step=0.3)) == [0.0, 0.3, 0.6, 0.9]
    assert grid_values(FloatParam("lr", 1e-4, 5e-4, step=1e-4)) == [1e-4, 2e-4, 3e-4, 4e-4, 5e-4]
    assert grid_values(FloatParam("x", 0.0, 10.0, step=2.5)) == [0.0, 2.5, 5.0, 7.5, 10.0]


def test_grid_values_float_without_step_is_an_error() -> None:
    with pytest.raises(ValueError, match="step"):
        grid_values(FloatParam("d", 0.0, 0.5))


def test_grid_values_categorical_keeps_choices_and_types() -> None:
    values = grid_values(CategoricalParam("c", (False, True, None, 3, "x")))
    assert values == [False, True, None, 3, "x"]
    assert [type(v) for v in values] == [bool, bool, type(None), int, str]


def test_grid_size_and_iter_grid() -> None:
    space = (
        IntParam("a", 1, 2),
        FloatParam("b", 0.1, 0.3, step=0.1),
        CategoricalParam("c", ("x", "y")),
    )
    assert grid_size(space) == 2 * 3 * 2
    grid = iter_grid(space)
    assert len(grid) == grid_size(space)
    assert len({tuple(g.items()) for g in grid}) == len(grid)  # no duplicates
    assert grid[0] == {"a": 1, "b": 0.1, "c": "x"}
    assert grid[1] == {"a": 1, "b": 0.1, "c": "y"}  # stable order: last knob varies fastest
    assert grid[-1] == {"a": 2, "b": 0.3, "c": "y"}
    assert {g["b"] for g in grid} == {0.1, 0.2, 0.3}
    assert grid_of(space) == {"a": [1, 2], "b": [0.1, 0.2, 0.3], "c": ["x", "y"]}
    assert grid_size(()) == 1 and iter_grid(()) == [{}]


def test_optuna_grid_sampler_visits_exactly_the_grid() -> None:
    space = (
        IntParam("a", 1, 3, step=2),
        FloatParam("b", 0.1, 0.3, step=0.1),
        CategoricalParam("c", (False, True)),
    )
    study = optuna.create_study(sampler=optuna.samplers.GridSampler(grid_of(space), seed=0))
    visited = []

    def objective(trial: optuna.Trial) -> float:
        visited.append(suggest_params(trial, space))
        return 0.0

    study.optimize(objective, n_trials=grid_size(space) + 3)  # the sampler stops at the grid's end
    key = lambda d: (d["a"], round(d["b"], 9), d["c"])  # noqa: E731
    assert sorted(map(key, visited)) == sorted(map(key, iter_grid(space)))
