"""Reading a study's objectives: ``study.metric`` and ``study.direction`` (a name and a
direction, or lists of equal length for several objectives) and ``study.constraints``; and the
rules they set for the other sections (pruning, the sampler, an ablation)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ablate._reader import Reader, describe_value
from ablate.errors import ConfigError
from ablate.vocab.direction import DIRECTIONS, Direction
from ablate.vocab.objectives import EXAMPLE, Constraint, parse_constraint
from ablate.vocab.params import Params, StudyConfig


def parse_objectives(r: Reader, is_metric_name: Callable[[str], bool], metric_rule: str) -> dict[str, Any]:
    """``metric``, ``direction``, ``other_metrics``, ``other_directions`` and ``constraints`` of
    :class:`~ablate.vocab.params.StudyConfig`, read from the ``study`` section."""
    metrics = _metrics(r, is_metric_name, metric_rule)
    directions = _directions(r, metrics)
    return {
        "metric": metrics[0],
        "direction": directions[0],
        "other_metrics": tuple(metrics[1:]),
        "other_directions": tuple(directions[1:]),
        "constraints": _constraints(r, is_metric_name, metric_rule),
    }


def _metrics(r: Reader, is_metric_name: Callable[[str], bool], metric_rule: str) -> list[str]:
    value = r.get("metric", StudyConfig.metric)
    names = value if isinstance(value, list) else [value]
    rule = f"must be {metric_rule}" + (", or a non-empty list of them (several objectives)" * isinstance(value, list))
    if not names or not all(isinstance(n, str) and is_metric_name(n) for n in names):
        raise r.error("metric", rule, value)
    if len(set(names)) != len(names):
        raise r.error("metric", "must not name a metric twice", value)
    return names


def _directions(r: Reader, metrics: list[str]) -> list[Direction]:
    value = r.get("direction", str(StudyConfig.direction))
    if isinstance(value, list) and len(value) != len(metrics):
        raise r.error("direction", f"must have as many directions as study.metric has metrics ({len(metrics)})", value)
    if not isinstance(value, list) and len(metrics) > 1:
        raise r.error(
            "direction",
            f"must be a list of {len(metrics)} directions, one per metric of study.metric ({', '.join(metrics)})",
            value,
        )
    directions = value if isinstance(value, list) else [value]
    if not all(d in DIRECTIONS for d in directions):
        raise r.error("direction", f"must be one of {', '.join(DIRECTIONS)} (or a list of them)", value)
    return [Direction(d) for d in directions]


def _constraints(r: Reader, is_metric_name: Callable[[str], bool], metric_rule: str) -> tuple[Constraint, ...]:
    value = r.get("constraints", None)
    if value is None:
        return ()
    if not isinstance(value, list):
        raise r.error("constraints", f"must be a list of constraints, e.g. [{EXAMPLE}]", value)
    out: list[Constraint] = []
    for i, text in enumerate(value):
        key = f"constraints[{i}]"
        if not isinstance(text, str):
            raise r.error(key, f"must be a string METRIC <= NUMBER or METRIC >= NUMBER, e.g. {EXAMPLE}", text)
        try:
            constraint = parse_constraint(text)
        except ValueError as err:
            raise r.error(key, str(err), text) from None
        if not is_metric_name(constraint.metric):
            raise r.error(key, f"must constrain {metric_rule}", text)
        if constraint in out:
            raise r.error(key, "must not repeat a constraint", text)
        out.append(constraint)
    return tuple(out)


def check_objectives(params: Params) -> None:
    """What several objectives or constraints rule out elsewhere in the params.

    Raises:
        ConfigError: a pruner with several objectives (Optuna prunes on one value); an ablation
            with several (its arms are compared on one metric); constraints without a search.
    """
    study, search = params.study, params.search
    if study.multi_objective and search is not None and search.pruner != "none":
        raise ConfigError(
            params.source,
            "search.pruner",
            "must be none when study.metric names several objectives (Optuna prunes on one value per step), "
            f"but got {describe_value(search.pruner)}",
        )
    if study.multi_objective and params.ablation is not None:
        raise ConfigError(
            params.source,
            "study.metric",
            "must be one metric in a study with an ablation section (its arms are compared on one metric), "
            f"but got {describe_value(list(study.metrics))}",
        )
    if study.constraints and search is None:
        raise ConfigError(
            params.source,
            "study.constraints",
            "must be empty in a study without a search (they bound the search's trials), "
            f"but got {describe_value([c.text for c in study.constraints])}",
        )
