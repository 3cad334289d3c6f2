"""Conditional knobs: what a condition means (ablate.vocab.conditions), how the space suggests only the
active knobs (ablate.space), and how a params file declares them (ablate.config.search)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import optuna
import pytest
import yaml

from ablate import space as sp
from ablate.config.load import load_params, parse_params
from ablate.errors import ConfigError
from ablate.vocab import knobs
from ablate.vocab.conditions import Clause, Condition, same

optuna.logging.set_verbosity(optuna.logging.WARNING)

ROOT = Path(__file__).resolve().parents[2]
CONDITIONAL = ROOT / "params" / "digits-conditional.yaml"


def when(knob: str, op: str, value: Any) -> Condition:
    return Condition((Clause(knob, op, value),))


SPACE = (
    knobs.CategoricalParam("optimizer", ("adam", "sgd", "adamw")),
    knobs.FloatParam("momentum", 0.0, 0.99, when=when("optimizer", "==", "sgd")),
    # conditioned on a conditional knob: absent whenever momentum is
    knobs.CategoricalParam("nesterov", (False, True), when=when("momentum", ">", 0.5)),
    knobs.IntParam("layers", 1, 4),
    knobs.IntParam("units_3", 16, 256, log=True, when=when("layers", ">=", 3)),
    knobs.FloatParam("beta", 0.5, 0.99, when=when("optimizer", "in", ("adam", "adamw"))),
)


# ---------------------------------------------------------------------------------------------
# What a clause means


@pytest.mark.parametrize(
    ("op", "value", "passes", "fails"),
    [
        ("==", "sgd", ["sgd"], ["adam", 1, None]),
        ("!=", "sgd", ["adam", None], ["sgd"]),
        ("in", ("sgd", "adamw"), ["sgd", "adamw"], ["adam"]),
        ("not in", ("sgd", "adamw"), ["adam"], ["sgd"]),
        (">=", 3, [3, 4, 3.0], [2, 2.99, "3"]),
        (">", 3, [3.5], [3]),
        ("<", 0.5, [0.1], [0.5, 0.9]),
        ("<=", 0.5, [0.5], [0.51]),
        ("==", True, [True], [1, 1.0, "true"]),  # a boolean is not a number here, as in YAML
        ("==", 1, [1, 1.0], [True]),
        ("==", None, [None], [0, "", False]),
    ],
)
def test_a_clause_holds_for_the_values_it_names(op: str, value: Any, passes: list, fails: list) -> None:
    clause = Clause("k", op, value)
    assert [clause.test(v) for v in passes] == [True] * len(passes)
    assert [clause.test(v) for v in fails] == [False] * len(fails)


def test_a_condition_needs_every_clause_and_is_false_on_an_absent_knob() -> None:
    cond = Condition((Clause("layers", ">=", 2), Clause("layers", "<=", 3), Clause("optimizer", "==", "sgd")))
    assert cond.holds({"layers": 2, "optimizer": "sgd"})
    assert not cond.holds({"layers": 4, "optimizer": "sgd"})
    assert not cond.holds({"layers": 2, "optimizer": "adam"})
    assert not cond.holds({"layers": 2})  # optimizer inactive: the condition cannot hold
    assert cond.knobs == ("layers", "optimizer")
    assert cond.describe() == "layers >= 2 and layers <= 3 and optimizer == sgd"
    assert cond.to_dict() == {"layers": {">=": 2, "<=": 3}, "optimizer": {"==": "sgd"}}
    assert same(3, 3.0) and not same(True, 1) and not same("1", 1)


# ---------------------------------------------------------------------------------------------
# The space: only active knobs are suggested


@pytest.mark.parametrize("sampler", ["random", "tpe"])
def test_suggest_params_asks_only_the_active_knobs(sampler: str) -> None:
    from ablate.samplers import make_sampler

    study = optuna.create_study(sampler=make_sampler(sampler, SPACE, 60, seed=0))
    seen = {"sgd": 0, "deep": 0, "nesterov": 0}
    for i in range(60):
        trial = study.ask()
        params = sp.suggest_params(trial, SPACE)
        assert trial.params == params  # nothing suggested that the trial does not get
        sgd, deep = params["optimizer"] == "sgd", params["layers"] >= 3
        assert ("momentum" in params) == sgd and ("units_3" in params) == deep
        assert ("beta" in params) == (not sgd)
        assert ("nesterov" in params) == (sgd and params["momentum"] > 0.5)
        seen["sgd"] += sgd
        seen["deep"] += deep
        seen["nesterov"] += "nesterov" in params
        study.tell(trial, params.get("momentum", 0.0) + i % 3)
    assert all(n >= 5 for n in seen.values()), seen  # every branch was taken, not one path only


def test_active_knobs_follow_the_values_given() -> None:
    names = lambda values: [p.name for p in sp.active_knobs(SPACE, values)]  # noqa: E731
    assert names({"optimizer": "sgd", "momentum": 0.9, "layers": 2}) == ["optimizer", "momentum", "nesterov", "layers"]
    assert names({"optimizer": "adam", "layers": 3}) == ["optimizer", "layers", "units_3", "beta"]
    assert names({"optimizer": "sgd", "momentum": 0.1, "layers": 1}) == ["optimizer", "momentum", "layers"]
    assert sp.is_conditional(SPACE) and not sp.is_conditional(SPACE[:1])


@pytest.mark.parametrize(
    ("knob", "good", "bad"),
    [
        (knobs.IntParam("n", 2, 10, step=2), [2, 4.0, 10], [3, 12, 0, True, "4", 4.5]),
        (knobs.FloatParam("d", 0.0, 0.5, step=0.1), [0.0, 0.3, 0.5], [0.25, 0.6, -0.1]),
        (knobs.FloatParam("lr", 1e-4, 1e-1, log=True), [1e-4, 0.05, 1e-1], [0.0, 0.2, float("nan")]),
        (knobs.CategoricalParam("c", (False, 32, "x", None)), [False, 32, 32.0, "x", None], [0, True, "32", "y"]),
    ],
    ids=["int-step", "float-step", "float-log", "categorical"],
)
def test_takes_tells_the_values_a_knob_can_take(knob: knobs.Param, good: list, bad: list) -> None:
    assert [sp.takes(knob, v) for v in good] == [True] * len(good)
    assert [sp.takes(knob, v) for v in bad] == [False] * len(bad)


# ---------------------------------------------------------------------------------------------
# The params file


def test_the_conditional_example_loads_and_round_trips_through_yaml(tmp_path: Path) -> None:
    p = load_params(CONDITIONAL)
    knobs = {k.name: k for k in p.search.space}
    assert knobs["momentum"].when == when("optimizer", "==", "sgd")
    assert knobs["residual"].when == when("hidden_layers", ">=", 2)
    assert knobs["lr"].when is None
    written = p.to_dict()
    del written["source"]
    assert written["search"]["space"]["momentum"]["when"] == {"optimizer": {"==": "sgd"}}
    assert "when" not in written["search"]["space"]["lr"]
    again = tmp_path / "again.yaml"
    again.write_text(yaml.safe_dump(written, sort_keys=False))  # the order of the space is its meaning
    assert load_params(again).search.space == p.search.space


@pytest.mark.parametrize(
    ("written", "clauses"),
    [
        ({"opt": "sgd"}, [("opt", "==", "sgd")]),
        ({"opt": ["sgd", "adam"]}, [("opt", "in", ("sgd", "adam"))]),
        ({"opt": {"not in": ["adam"]}}, [("opt", "not in", ("adam",))]),
        ({"layers": {">=": 2, "<": 4}}, [("layers", ">=", 2), ("layers", "<", 4)]),
        ({"opt": "sgd", "layers": {"!=": 1}}, [("opt", "==", "sgd"), ("layers", "!=", 1)]),
    ],
)
def test_when_forms(written: dict, clauses: list) -> None:
    raw = {
        "study": {"name": "s"},
        "data": {"source": "sklearn:digits"},
        "search": {
            "n_trials": 2,
            "space": {
                "opt": ["sgd", "adam", "adamw"],
                "layers": {"type": "int", "low": 1, "high": 4},
                "x": {"type": "float", "low": 0.0, "high": 1.0, "when": written},
            },
        },
    }
    x = parse_params(raw, "s.yaml").search.space[-1]
    assert x.when == Condition(tuple(Clause(*c) for c in clauses))


def test_a_shorthand_list_knob_cannot_carry_a_condition() -> None:
    # `[a, b]` is the choices; a condition needs the mapping form.
    raw = {
        "study": {"name": "s"},
        "data": {"source": "sklearn:digits"},
        "search": {"n_trials": 2, "space": {"opt": ["a", "b"], "x": {"type": "categorical", "choices": [1, 2]}}},
    }
    raw["search"]["space"]["x"]["when"] = {"opt": "a"}
    assert parse_params(raw, "s.yaml").search.space[1].when == when("opt", "==", "a")
    raw["search"]["space"]["x"]["when"] = {"opt": "c"}
    with pytest.raises(ConfigError, match=r"search.space.x.when.opt: must be a value opt takes \(one of a, b\)"):
        parse_params(raw, "s.yaml")
