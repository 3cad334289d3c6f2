"""Reading the search keys beyond a flat space and a trial budget: a knob's ``when`` (conditional
spaces), ``search.enqueue``, ``search.timeout_s`` and ``search.seeds``. Each error is one line
naming the key, as everywhere in the params file."""

from __future__ import annotations

import dataclasses
import json
from typing import Any, NamedTuple

from ablate import space as sp
from ablate._reader import Reader, describe_value
from ablate.errors import ConfigError
from ablate.vocab import knobs
from ablate.vocab.conditions import COMPARISONS, MEMBERSHIP, OPERATORS, Clause, Condition, is_number
from ablate.vocab.params import SearchConfig, TrialConfig

_WHEN_RULE = "must map earlier knobs to the values they must take, e.g. {optimizer: sgd}"
_CANDIDATES_MAX = 10_000  # a finite grid up to this size is searched whole for a value that passes


class RunOptions(NamedTuple):
    enqueue: tuple[dict[str, Any], ...]
    timeout_s: float | None
    seeds: int


def parse_when(k: Reader, name: str, earlier: knobs.Space, names: list[str]) -> Condition | None:
    """The ``when`` of knob ``name``, checked against the knobs declared before it.

    Raises:
        ConfigError: not a mapping; a knob that is unknown, ``name`` itself or declared after
            it; an unknown operator; a value the knob can never take; a test that never holds.
    """
    raw = k.get("when", None)
    if raw is None:
        return None
    if not isinstance(raw, dict) or not raw:
        raise k.error("when", _WHEN_RULE, raw)
    k.check_names("when", raw)
    w = Reader(k.source, k.key("when"), raw)
    known = {p.name: p for p in earlier}
    clauses: list[Clause] = []
    for ref, test in raw.items():
        if ref not in known:
            raise _unknown_knob(w, ref, name, names, list(known))
        knob_clauses = _clauses(w, ref, test)
        for clause in knob_clauses:
            _check_value(w, known[ref], clause)
        if not any(all(c.test(v) for c in knob_clauses) for v in _candidates(known[ref], knob_clauses)):
            raise w.error(ref, f"must hold for some value {ref} takes ({sp.describe_domain(known[ref])})", test)
        clauses += knob_clauses
    return Condition(tuple(clauses))


def _unknown_knob(w: Reader, ref: str, name: str, names: list[str], earlier: list[str]) -> ConfigError:
    if ref == name:
        return ConfigError(w.source, w.key(ref), f"must name a knob other than {name} itself, but got {ref!r}")
    if ref in names:
        return ConfigError(
            w.source,
            w.key(ref),
            f"must name a knob declared before {name} (a condition may only refer to an earlier knob: "
            f"declare {ref} above {name}), but got {ref!r}, declared after it",
        )
    before = ", ".join(earlier) or "none"
    return ConfigError(
        w.source, w.key(ref), f"must name a knob of search.space declared before {name} ({before}), but got {ref!r}"
    )


def _clauses(w: Reader, ref: str, test: Any) -> list[Clause]:
    """``value`` (equal to), ``[values]`` (one of), or ``{op: value, ...}`` (every op holds)."""
    if isinstance(test, list):
        return [Clause(ref, "in", _members(w, ref, test))]
    if not isinstance(test, dict):
        return [Clause(ref, "==", _scalar(w, ref, test))]
    if not test:
        raise w.error(ref, f"must hold at least one test ({', '.join(OPERATORS)})", test)
    out = []
    for op, value in test.items():
        key = f"{ref}.{op}"
        if op not in OPERATORS:
            raise w.error(key, f"must be an operator ({', '.join(OPERATORS)})", op)
        if op in MEMBERSHIP:
            if not isinstance(value, list):
                raise w.error(key, f"must be a list of values for '{op}'", value)
            out.append(Clause(ref, op, _members(w, key, value)))
        elif op in COMPARISONS and not is_number(value):
            raise w.error(key, f"must be a number to compare with '{op}'", value)
        else:
            out.append(Clause(ref, op, _scalar(w, key, value)))
    return out


def _members(w: Reader, key: str, values: list[Any]) -> tuple[Any, ...]:
    if not values:
        raise w.error(key, "must be a non-empty list of values", values)
    return tuple(_scalar(w, key, v) for v in values)


def _scalar(w: Reader, key: str, value: Any) -> Any:
    if value is not None and not isinstance(value, (bool, int, float, str)):
        raise w.error(key, "must be a value (a number, string, boolean or null) or a list of values", value)
    return value


def _check_value(w: Reader, p: knobs.Param, clause: Clause) -> None:
    """Every value a clause names must be one the knob takes (a typo would silently never hold)."""
    key = f"{p.name}.{clause.op}" if isinstance(w.raw.get(p.name), dict) else p.name
    if clause.op in COMPARISONS:
        if isinstance(p, knobs.CategoricalParam) and not all(is_number(c) for c in p.choices):
            rule = f"must compare a numeric knob with '{clause.op}', but {p.name} takes {sp.describe_domain(p)}"
            raise ConfigError(w.source, w.key(key), rule)
        return
    for value in clause.value if isinstance(clause.value, tuple) else (clause.value,):
        if not sp.takes(p, value):
            raise w.error(key, f"must be a value {p.name} takes ({sp.describe_domain(p)})", value)


def _candidates(p: knobs.Param, clauses: list[Clause]) -> list[Any]:
    """Values of ``p`` among which one passes ``clauses`` if any does: what passes is a range less
    finitely many values, so its ends, the clauses' values, their grid neighbours and (on a
    continuous range) the midpoints between them cover it."""
    if isinstance(p, knobs.CategoricalParam):
        return list(p.choices)
    step = p.step  # an IntParam's is 1
    if step is not None and (p.high - p.low) / step < _CANDIDATES_MAX:
        return sp.grid_values(p)
    named = [v for c in clauses for v in (c.value if isinstance(c.value, tuple) else (c.value,))]
    points = sorted({p.low, p.high, *(float(v) for v in named if is_number(v) and p.low <= v <= p.high)})
    if step is not None:
        reach = len(clauses) + 1
        points = [p.low + (round((v - p.low) / step) + i) * step for v in points for i in range(-reach, reach + 1)]
    else:
        points += [(a + b) / 2 for a, b in zip(points, points[1:])]
    return [int(v) if isinstance(p, knobs.IntParam) else v for v in points if sp.takes(p, v)]


def parse_run_options(r: Reader, space: knobs.Space, n_trials: int, pruner: str) -> RunOptions:
    """``search.enqueue``, ``search.timeout_s`` and ``search.seeds``."""
    enqueue = _parse_enqueue(r, space, n_trials)
    timeout_s = r.float("timeout_s", None, low=0.0, open_interval=True, allow_none=True)
    seeds = r.int("seeds", SearchConfig.seeds, low=1)
    if seeds > 1 and pruner != "none":
        raise r.error(
            "seeds",
            f"must be 1 when search.pruner is {pruner} (a pruner stops single runs, not a mean over seeds; "
            "set search.pruner: none to repeat over seeds)",
            seeds,
        )
    return RunOptions(enqueue, timeout_s, seeds)


def _parse_enqueue(r: Reader, space: knobs.Space, n_trials: int) -> tuple[dict[str, Any], ...]:
    raw = r.get("enqueue", None)
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise r.error("enqueue", "must be a list of configurations (knob values by name), e.g. [{lr: 0.001}]", raw)
    if len(raw) > n_trials:
        raise ConfigError(
            r.source,
            r.key("enqueue"),
            f"must hold at most search.n_trials ({n_trials}) configurations, but got {len(raw)}",
        )
    configs: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for i, entry in enumerate(raw):
        key = f"{r.key('enqueue')}[{i}]"
        config = check_configuration(r.source, key, entry, space)
        text = json.dumps(config, sort_keys=True)
        if text in seen:
            raise ConfigError(r.source, key, f"must not repeat a configuration, but it repeats enqueue[{seen[text]}]")
        seen[text] = i
        configs.append(config)
    return tuple(configs)


def check_configuration(source: str, key: str, entry: Any, space: knobs.Space) -> dict[str, Any]:
    """One configuration of ``search.enqueue``: a value for every knob active in it, each one the
    knob takes, and no other name; returned in space order, ints as ints and floats as floats."""
    if not isinstance(entry, dict) or not entry:
        raise ConfigError(source, key, f"must be a mapping of knob values by name, but got {describe_value(entry)}")
    c = Reader(source, key, entry)
    by_name = {p.name: p for p in space}
    for name in entry:
        if name not in by_name:
            raise c.error(name, f"must be a knob of search.space ({', '.join(by_name)})", name)
    active = sp.active_knobs(space, entry)
    out: dict[str, Any] = {}
    for p in active:
        if p.name not in entry:
            under = f" (active where {p.when.describe()})" if p.when is not None else ""
            rule = f"must give a value for every knob active in it, but got none for {p.name}{under}"
            raise ConfigError(source, key, rule)
        value = entry[p.name]
        if not sp.takes(p, value):
            raise c.error(p.name, f"must be {sp.describe_domain(p)}", value)
        out[p.name] = value if isinstance(p, knobs.CategoricalParam) else (int if p.kind == "int" else float)(value)
    for name in entry:
        if name not in out:
            condition = by_name[name].when
            assert condition is not None  # only a conditional knob is left out of `out`
            when = condition.describe()
            rule = f"must be left out: {name} exists only where {when}, which this configuration does not meet"
            raise c.error(name, rule, entry[name])
    return out


def resource_from_epochs(search: SearchConfig, trial: TrialConfig) -> SearchConfig:
    """Hyperband's ``max_resource: auto`` is ``trial.options.epochs`` where the trial has it:
    Optuna's ``auto`` prunes nothing until a trial completes, so parallel trials started before run
    to their end (docs/search.md, "Samplers and pruning")."""
    options, epochs = search.pruner_options, trial.options.get("epochs")
    auto = search.pruner == "hyperband" and options.get("max_resource") == "auto"
    if not auto or isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < options["min_resource"]:
        return search
    return dataclasses.replace(search, pruner_options={**options, "max_resource": epochs})
