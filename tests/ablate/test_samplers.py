"""ablate.samplers: the registry, what each name makes, and what ``auto`` picks."""

from __future__ import annotations

import optuna
import pytest

from ablate import space as sp
from ablate.samplers import NAMES, SAMPLERS, check_sampler, make_sampler, resolve_sampler
from ablate.vocab import knobs
from ablate.vocab.conditions import Clause, Condition

optuna.logging.set_verbosity(optuna.logging.WARNING)

FLOAT = knobs.FloatParam("lr", 1e-4, 1e-1, log=True)
INT = knobs.IntParam("units", 16, 256)
CAT = knobs.CategoricalParam("act", ("relu", "tanh"))


def floats(n: int) -> knobs.Space:
    return tuple(knobs.FloatParam(f"x{i}", 0.0, 1.0) for i in range(n))


@pytest.mark.parametrize(
    ("name", "cls"),
    [
        ("tpe", optuna.samplers.TPESampler),
        ("random", optuna.samplers.RandomSampler),
        ("grid", optuna.samplers.GridSampler),
        ("gp", optuna.samplers.GPSampler),
        ("cmaes", optuna.samplers.CmaEsSampler),
        ("qmc", optuna.samplers.QMCSampler),
        ("nsga2", optuna.samplers.NSGAIISampler),
    ],
)
def test_each_name_makes_its_sampler_and_it_searches(name: str, cls: type) -> None:
    space = (knobs.FloatParam("x", 0.0, 1.0, step=0.25), knobs.IntParam("n", 1, 3), CAT)
    sampler = make_sampler(name, space, 8, seed=0)
    assert isinstance(sampler, cls)
    study = optuna.create_study(sampler=sampler, direction="maximize")
    for _ in range(8):  # the ask/tell loop the search runs, on a space with every kind of knob
        trial = study.ask()
        params = sp.suggest_params(trial, space)
        study.tell(trial, params["x"] + params["n"] + (params["act"] == "relu"))
    assert len(study.trials) == 8 and study.best_value > 0


def test_the_registry_is_the_accepted_names_plus_auto() -> None:
    assert NAMES == (*SAMPLERS, "auto")
    assert set(SAMPLERS) == {"tpe", "random", "grid", "gp", "cmaes", "qmc", "nsga2"}


@pytest.mark.parametrize(
    ("space", "n_trials", "picked", "why"),
    [
        ((FLOAT, INT, CAT), 50, "tpe", "1 categorical knob(s) of 3"),
        (floats(3), 40, "gp", "3 numeric knob(s) (<= 6), no categorical, 40 trials (<= 100)"),
        (floats(6), 100, "gp", "6 numeric knob(s) (<= 6), no categorical, 100 trials (<= 100)"),
        (floats(10), 200, "cmaes", "10 numeric knob(s), no categorical, 200 trials (>= 100)"),
        (floats(3), 500, "cmaes", "3 numeric knob(s), no categorical, 500 trials (>= 100)"),
        (
            floats(10),
            30,
            "tpe",
            "10 numeric knob(s), no categorical, 30 trials: too many knobs for gp, too few trials for cmaes",
        ),
        ((FLOAT,), 300, "tpe", "1 numeric knob(s), no categorical, 300 trials: too many knobs for gp, too few"),
    ],
    ids=["categorical", "small-continuous", "gp-limits", "large-continuous", "small-long", "large-short", "one-knob"],
)
def test_auto_picks_from_space_and_budget(space: knobs.Space, n_trials: int, picked: str, why: str) -> None:
    choice = resolve_sampler("auto", space, n_trials)
    assert choice.name == picked
    assert choice.why.startswith(why)
    assert choice.describe() == f"{picked} (auto: {choice.why})"
    assert type(make_sampler("auto", space, n_trials, 0)) is type(SAMPLERS[picked].make(space, n_trials, 0))


def test_a_named_sampler_is_not_explained() -> None:
    assert resolve_sampler("random", floats(2), 10) == ("random", "")


def test_samplers_that_cannot_serve_a_space_say_why() -> None:
    assert check_sampler("cmaes", (CAT,), 10).key == "sampler"
    assert check_sampler("cmaes", (CAT, FLOAT), 10) is None  # its categorical knob is sampled beside it
    assert check_sampler("grid", (FLOAT,), 2).key == "space.lr.step"
    assert check_sampler("grid", (CAT,), 3).key == "n_trials"
    assert check_sampler("auto", (CAT,), 10) is None  # auto never picks what cannot serve
    for name in ("tpe", "random", "gp", "qmc", "nsga2"):
        assert check_sampler(name, (FLOAT, CAT), 10) is None


# ---------------------------------------------------------------------------------------------
# Conditional spaces

SGD = Condition((Clause("opt", "==", "sgd"),))
CONDITIONAL = (
    knobs.CategoricalParam("opt", ("adam", "sgd")),
    knobs.FloatParam("momentum", 0.0, 0.99, when=SGD),
    knobs.FloatParam("dampening", 0.0, 0.5, when=SGD),
    knobs.FloatParam("lr", 1e-4, 1e-1, log=True),
)


@pytest.mark.parametrize("n_trials", [20, 500])
def test_auto_picks_tpe_for_a_conditional_space_whatever_else_it_has(n_trials: int) -> None:
    numeric_only = (
        knobs.FloatParam("x", 0.0, 1.0),
        knobs.FloatParam("y", 0.0, 1.0, when=Condition((Clause("x", "<", 0.5),))),
    )
    assert resolve_sampler("auto", numeric_only, n_trials) == ("tpe", "1 conditional knob(s) (y) of 2")
    assert resolve_sampler("auto", CONDITIONAL, n_trials).why == "2 conditional knob(s) (momentum, dampening) of 4"


def test_grid_refuses_a_conditional_space() -> None:
    stepped = (knobs.CategoricalParam("opt", ("adam", "sgd")), knobs.IntParam("m", 1, 3, when=SGD))
    problem = check_sampler("grid", stepped, 2)
    assert problem == ("sampler", "must not be grid for a conditional space (m have a when); use tpe or random", "grid")


def test_tpe_models_a_conditional_branch_jointly() -> None:
    # group=True: the knobs that occur together (momentum and dampening, with sgd) are one group
    # the multivariate model samples jointly; without it, TPE's relative space is the knobs every
    # trial has, and sgd's knobs are drawn one by one.
    def relative_space(sampler: optuna.samplers.BaseSampler) -> set[str]:
        study = optuna.create_study(sampler=sampler)
        for i in range(12):
            trial = study.ask()
            study.tell(trial, sp.suggest_params(trial, CONDITIONAL).get("momentum", 0.0) + i)
        return set(sampler.infer_relative_search_space(study, study.ask()))

    assert relative_space(make_sampler("tpe", CONDITIONAL, 12, 0)) == {"opt", "momentum", "dampening", "lr"}
    flat = optuna.samplers.TPESampler(seed=0, n_startup_trials=4, multivariate=True, constant_liar=True)
    assert relative_space(flat) == {"opt", "lr"}


@pytest.mark.parametrize(
    ("space", "n_trials", "picked", "why"),
    [
        (floats(3), 40, "tpe", "2 objectives, 40 trials (< 250: multi-objective TPE)"),
        ((FLOAT, INT, CAT), 249, "tpe", "2 objectives, 249 trials (< 250: multi-objective TPE)"),
        (floats(10), 250, "nsga2", "2 objectives, 250 trials (>= 250)"),
        ((CAT,), 1000, "nsga2", "2 objectives, 1000 trials (>= 250)"),
    ],
    ids=["small-continuous", "categorical-short", "at-the-threshold", "categorical-long"],
)
def test_auto_with_several_objectives_picks_tpe_then_nsga2(
    space: knobs.Space, n_trials: int, picked: str, why: str
) -> None:
    choice = resolve_sampler("auto", space, n_trials, n_objectives=2)
    assert (choice.name, choice.why) == (picked, why)
    assert check_sampler("auto", space, n_trials, n_objectives=2) is None
    sampler = make_sampler("auto", space, n_trials, 0, n_objectives=2)
    study = optuna.create_study(directions=["maximize", "minimize"], sampler=sampler)
    for _ in range(3):  # it does search a two-objective study
        trial = study.ask()
        sp.suggest_params(trial, space)
        study.tell(trial, [0.5, 1.0])


def test_every_sampler_but_cmaes_serves_several_objectives() -> None:
    problem = check_sampler("cmaes", floats(2), 20, n_objectives=2)
    assert problem.key == "sampler" and problem.got == "cmaes"
    assert problem.rule.startswith("must serve several objectives (study.metric names 2): one of tpe, random, grid")
    for name in ("tpe", "random", "gp", "qmc", "nsga2"):
        assert check_sampler(name, floats(2), 20, n_objectives=3) is None
    with pytest.raises(ValueError, match="cannot be used"):  # what the refusal spares the user
        cmaes = make_sampler("cmaes", floats(2), 20, 0)
        study = optuna.create_study(directions=["maximize", "minimize"], sampler=cmaes)
        trial = study.ask()
        sp.suggest_params(trial, floats(2))


def test_which_samplers_model_constraints() -> None:
    assert {n for n, s in SAMPLERS.items() if s.uses_constraints} == {"tpe", "gp", "nsga2"}
