"""The ablation section of a params file: what parses, and the one-line errors of bad input."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from ablate.config.ablation import check_features
from ablate.config.load import parse_params
from ablate.errors import ConfigError
from ablate.vocab.ablation import BEST

BASE: dict[str, Any] = {
    "study": {"name": "s"},
    "data": {"source": "sklearn:digits"},
    "trial": {"options": {"epochs": 2, "batchnorm": True, "dropout": 0.2}},
    "search": {"n_trials": 4, "space": {"lr": {"type": "float", "low": 1e-4, "high": 1e-2, "log": True}}},
    "ablation": {
        "baseline": "best",
        "components": {"batchnorm": {"params": {"batchnorm": False}}, "dropout": {"params": {"dropout": 0.0}}},
    },
}


def parse(**changes: Any):
    raw = copy.deepcopy(BASE)
    for dotted, value in changes.items():
        node = raw
        *head, last = dotted.split("__")
        for part in head:
            node = node.setdefault(part, {})
        if value is DELETE:
            node.pop(last, None)
        else:
            node[last] = value
    return parse_params(raw, "p.yaml")


DELETE = object()


def error_of(**changes: Any) -> str:
    with pytest.raises(ConfigError) as info:
        parse(**changes)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_defaults_and_a_search_with_best_baseline() -> None:
    p = parse()
    cfg = p.ablation
    assert cfg.baseline == BEST and cfg.policy == "loco" and cfg.seeds == 5 and cfg.alpha == 0.05
    assert [c.name for c in cfg.components] == ["batchnorm", "dropout"]
    assert cfg.components[0].params == {"batchnorm": False} and cfg.score_test


@pytest.mark.parametrize("components", [{}, DELETE])
def test_loco_without_components_is_the_baseline_alone_over_the_seeds(components: object) -> None:
    """What a search needs for its tuned model's held-out test score over seeds."""
    cfg = parse(ablation__components=components).ablation
    assert cfg.baseline == BEST and cfg.policy == "loco" and cfg.components == () and cfg.score_test


def test_an_ablation_without_search_uses_the_options_as_baseline() -> None:
    p = parse(search=DELETE, ablation__baseline={})
    assert p.search is None
    assert p.ablation.baseline == {"epochs": 2, "batchnorm": True, "dropout": 0.2}


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"ablation__components": {"bn": {"params": {"bn_typo": False}}}},
            "p.yaml: ablation.components.bn.params.bn_typo: must be a parameter of the baseline (lr,"
            " epochs, batchnorm, dropout), but got 'bn_typo' (str)",
        ),
        (
            {"ablation__components": {"bn": {"params": {"batchnorm": True}}}},
            "p.yaml: ablation.components.bn.params: must change something against the baseline, which"
            " has the same values, but got a dict {'batchnorm': True}",
        ),
        (
            {
                "ablation__policy": "factorial",
                "ablation__components": {f"c{i}": {"features": [f"pixel_{i}_*"]} for i in range(9)},
            },
            "p.yaml: ablation.components: must be at most 8 for policy factorial (2^9 arms; use policy"
            " random), but got 9 (int)",
        ),
        (
            {"ablation__seeds": 0},
            "p.yaml: ablation.seeds: must be a positive integer (paired seeds per arm) or auto (chosen adaptively), "
            "but got 0 (int)",
        ),
        ({"ablation__alpha": 1.0}, "p.yaml: ablation.alpha: must be a number > 0.0 and < 1.0, but got 1.0 (float)"),
        ({"ablation__alpha": 0}, "p.yaml: ablation.alpha: must be a number > 0.0 and < 1.0, but got 0.0 (float)"),
        (
            {"search": DELETE},
            "p.yaml: ablation.baseline: may be best only with a search section in the same file (its"
            " best trial), but got 'best' (str)",
        ),
        (
            {
                "ablation__policy": "path",
                "ablation__components": {},
                "ablation__baseline": {"lr": 1e-3},
                "ablation__target": {"lr": 1e-3},
            },
            "p.yaml: ablation.target: must differ from ablation.baseline for policy path",
        ),
        (
            {"ablation__components": {"baseline": {"params": {"dropout": 0.0}}}},
            "p.yaml: ablation.components.baseline: must not be a reserved name",
        ),
        (
            {"ablation__components": {"state": {"params": {"dropout": 0.0}}}},
            "p.yaml: ablation.components.state: must not be a reserved name",
        ),
        (
            {"ablation__policy": "grid"},
            "p.yaml: ablation.policy: must be one of loco, add_one, factorial, path, random, but got 'grid' (str)",
        ),
        ({"ablation__components": {"x": {}}}, "p.yaml: ablation.components.x: must set params or features"),
        (
            {"ablation__components": {"x": {"features": "mean *"}}},
            "p.yaml: ablation.components.x.features: must be a list of column name patterns",
        ),
        (
            {"ablation__components": {}, "ablation__policy": "add_one"},
            "p.yaml: ablation.components: must name at least one component for policy add_one (none, with policy "
            "loco: the baseline alone), but got a dict {}",
        ),
        ({"ablation__n_arms": 3}, "p.yaml: ablation.n_arms: is only for policy random, but got 3 (int)"),
        (
            {"ablation__seeds": "many"},
            "p.yaml: ablation.seeds: must be a positive integer (paired seeds per arm) or auto (chosen adaptively), "
            "but got 'many' (str)",
        ),
        ({"ablation__seeds": 2.5}, "p.yaml: ablation.seeds: must be a positive integer"),
        (
            {"ablation__seeds": "auto"},
            "p.yaml: ablation.min_effect: is required with seeds: auto (the smallest effect of interest, in units "
            "of the study metric, e.g. 0.005 for half a point of accuracy",
        ),
        ({"ablation__min_effect": 0}, "p.yaml: ablation.min_effect: must be a number > 0.0, but got 0.0 (float)"),
        ({"ablation__min_effect": -0.01}, "p.yaml: ablation.min_effect: must be a number > 0.0, but got -0.01"),
        ({"ablation__min_effect": "half"}, "p.yaml: ablation.min_effect: must be a number > 0.0, but got 'half' (str)"),
        (
            {"ablation__seeds": "auto", "ablation__min_effect": 0.01, "ablation__max_seeds": 3},
            "p.yaml: ablation.max_seeds: must be at least pilot_seeds (5), but got 3 (int)",
        ),
        (
            {"ablation__seeds": "auto", "ablation__min_effect": 0.01, "ablation__max_seeds": 28},
            "p.yaml: ablation.max_seeds: must be a look of the design, pilot_seeds + a multiple of round_seeds "
            "(5, 10, 15, 20, ...), but got 28 (int)",
        ),
        (
            {"ablation__seeds": "auto", "ablation__min_effect": 0.01, "ablation__pilot_seeds": 2},
            "p.yaml: ablation.pilot_seeds: must be an integer >= 3, but got 2 (int)",
        ),
        (
            {"ablation__seeds": 5, "ablation__max_seeds": 30},
            "p.yaml: ablation.max_seeds: is only for seeds: auto (an integer seeds is a fixed design), but got 30",
        ),
        ({"ablation__power": 1.5}, "p.yaml: ablation.power: must be a number > 0.0 and < 1.0, but got 1.5 (float)"),
        ({"ablation__power": 0}, "p.yaml: ablation.power: must be a number > 0.0 and < 1.0, but got 0.0 (float)"),
        (
            {
                "ablation__policy": "path",
                "ablation__components": {},
                "ablation__target": "best",
                "ablation__baseline": {"lr": 1e-3},
                "ablation__seeds": "auto",
                "ablation__min_effect": 0.01,
            },
            "p.yaml: ablation.seeds: must be a number for policy path",
        ),
        ({"ablation__colour": 3}, "p.yaml: ablation.colour: must be a known key of ablation"),
    ],
)
def test_bad_ablation_sections_give_one_line(changes: dict[str, Any], expected: str) -> None:
    assert error_of(**changes).startswith(expected)


def test_seeds_auto_with_its_knobs_and_their_defaults() -> None:
    cfg = parse(ablation__seeds="auto", ablation__min_effect=0.005).ablation
    assert cfg.adaptive and cfg.min_effect == 0.005 and cfg.power == 0.8
    assert cfg.seed_plan.looks() == [5, 10, 15, 20, 25, 30] and cfg.to_dict()["seeds"] == "auto"
    cfg = parse(
        ablation__seeds="auto", ablation__min_effect=0.5, ablation__pilot_seeds=4, ablation__round_seeds=3,
        ablation__max_seeds=13, ablation__power=0.9,
    ).ablation  # fmt: skip
    assert cfg.seed_plan.looks() == [4, 7, 10, 13] and cfg.power == 0.9
    fixed = parse(ablation__min_effect=0.01).ablation  # a margin for a fixed design's verdicts
    assert fixed.seeds == 5 and not fixed.adaptive and fixed.seed_plan.looks() == [5]


def test_feature_patterns_must_match_and_leave_a_column() -> None:
    cfg = parse(ablation__components={"mean": {"features": ["mean *"]}, "err": {"features": ["* error"]}}).ablation
    columns = ["mean radius", "mean area", "radius error", "worst radius"]
    check_features(cfg, columns, "p.yaml")  # fine
    bad = parse(ablation__components={"typo": {"features": ["maen *"]}}).ablation
    with pytest.raises(
        ConfigError, match=r"ablation.components.typo.features: must match input columns .* but 'maen \*' matches none"
    ):
        check_features(bad, columns, "p.yaml")
    everything = parse(ablation__components={"all": {"features": ["*"]}}).ablation
    with pytest.raises(ConfigError, match="must leave some input column, but they match all 4 columns"):
        check_features(everything, columns, "p.yaml")
    together = parse(
        ablation__policy="add_one", ablation__components={"a": {"features": ["mean *"]}, "b": {"features": ["*r*"]}}
    ).ablation
    with pytest.raises(ConfigError, match="must leave some input column when every component is removed"):
        check_features(together, columns, "p.yaml")
