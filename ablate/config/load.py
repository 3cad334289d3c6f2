"""Reading a study's params file (and ``--set`` overrides) into :class:`~ablate.vocab.params.Params`,
with one clear line for any value that breaks the schema."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from ablate import samplers
from ablate._reader import Reader, describe_value
from ablate.config.ablation import parse_ablation
from ablate.config.data import check_sources, parse_data
from ablate.config.execution import parse_execution
from ablate.config.objectives import check_objectives, parse_objectives
from ablate.config.search import parse_run_options, parse_when, resource_from_epochs
from ablate.errors import ConfigError
from ablate.pruners import PRUNERS
from ablate.vocab import knobs
from ablate.vocab.columns import FIXED_COLUMNS
from ablate.vocab.params import (
    DEFAULT_ENTRYPOINT,
    Params,
    PathsConfig,
    ReportConfig,
    SearchConfig,
    StudyConfig,
    TrialConfig,
)
from ablate.vocab.url import EXAMPLE as STORAGE_EXAMPLE
from ablate.vocab.url import StorageURL, mask_url


def load_params(path: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> Params:
    """Read, override and validate a params file.

    Args:
        path: the YAML file, e.g. ``params/digits.yaml``.
        overrides: ``KEY=VALUE`` strings; ``KEY`` is dotted (``search.n_trials``) and ``VALUE``
            is read as YAML (``3``, ``0.1``, ``[relu, tanh]``, ``null``).

    Raises:
        ConfigError: the file is missing or is not YAML, or a key breaks a rule.
    """
    source = str(path)
    raw = read_yaml(path)
    overridden: dict[str, str] = {}
    for item in overrides:
        key, value = parse_override(source, item)
        _set_dotted(source, raw, key, value)
        overridden[key] = item
    try:
        return parse_params(raw, source, default_name=Path(path).stem)
    except ConfigError as err:
        for key, item in overridden.items():
            if err.key == key or err.key.startswith((key + ".", key + "[")):
                raise ConfigError(f"{source} (--set {mask_url(item)})", err.key, err.rule) from None
        raise


def read_yaml(path: str | Path) -> dict[str, Any]:
    p = Path(path)
    if not p.is_file():
        raise ConfigError(str(path), "", "the params file must exist, but it was not found")
    try:
        data = yaml.safe_load(p.read_text())
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise ConfigError(str(path), "", f"must be valid YAML, but {where}{problem}") from None
    if not isinstance(data, dict):
        raise ConfigError(str(path), "", f"must be a mapping of sections, but got {describe_value(data)}")
    return data


def parse_override(source: str, item: str) -> tuple[str, Any]:
    key, sep, text = item.partition("=")
    if not sep or not key.strip():
        raise ConfigError(source, "--set", f"must be KEY=VALUE, e.g. search.n_trials=12, but got {item!r}")
    try:
        value = yaml.safe_load(text) if text.strip() else None
    except yaml.YAMLError:
        value = text
    return key.strip(), value


def _set_dotted(source: str, raw: dict[str, Any], key: str, value: Any) -> None:
    node = raw
    parts = key.split(".")
    for i, part in enumerate(parts[:-1]):
        nxt = node.get(part)
        if nxt is None:  # a missing or empty (null) section
            nxt = node[part] = {}
        if not isinstance(nxt, dict):
            at = ".".join(parts[: i + 1])
            raise ConfigError(f"{source} (--set {key}=...)", at, f"is not a section, but {describe_value(nxt)}")
        node = nxt
    node[parts[-1]] = value


SECTIONS = ("study", "data", "trial", "search", "ablation", "execution", "paths", "report")


def parse_params(raw: Mapping[str, Any], source: str, default_name: str = "study") -> Params:
    """Validate a raw mapping (as read from YAML) into :class:`Params`."""
    r = Reader(source, "", raw)
    unknown = [k for k in raw if k not in SECTIONS]
    if unknown:  # first: a misspelt section otherwise reads as a missing one (`serach:`)
        r.reject_unknown(unknown[0], SECTIONS)
    study = _parse_study(r.section("study", required=True), default_name)
    data = parse_data(r.section("data", required=True))
    trial = _parse_trial(r.section("trial"))
    has_search = r.raw.get("search") is not None or "ablation" not in r.raw
    n_objectives = len(study.metrics)
    search = _parse_search(r.section("search", required=True), n_objectives) if has_search else r.get("search", None)
    if search is not None:
        _check_names(source, trial, search)
        search = resource_from_epochs(search, trial)
    ablation = r.get("ablation", None) if r.raw.get("ablation") is None else None
    if r.raw.get("ablation") is not None:
        names = [p.name for p in search.space] if search is not None else None
        ablation = parse_ablation(r.section("ablation"), trial.options, names, FIXED_COLUMNS)
    execution = parse_execution(r.section("execution"))
    paths = _parse_paths(r.section("paths"))
    report = _parse_report(r.section("report"))
    r.done()
    params = Params(source, study, data, trial, search, execution, paths, report, ablation)
    check_objectives(params)
    check_sources(params)
    _check_retune(params)
    return params


def _check_retune(params: Params) -> None:
    """Each arm's search needs one objective (its best trial is the arm's configuration); that
    each has knobs left and a sampler that serves them is checked at the edge, where the arms are
    planned (:func:`ablate.ablation.retune.check_arms`)."""
    cfg, search = params.ablation, params.search
    if cfg is None or cfg.retune is None or search is None:
        return
    key = "ablation.retune"
    if params.study.multi_objective:
        raise ConfigError(
            params.source,
            key,
            "needs one objective (each arm's search gives its best trial), but study.metric names "
            f"{len(params.study.metrics)}",
        )


def _parse_study(r: Reader, default_name: str) -> StudyConfig:
    name = r.str("name", default_name, check=_is_name, rule="a name of letters, digits, '-', '_' or '.'")
    cfg = StudyConfig(
        name=name,
        seed=r.int("seed", StudyConfig.seed, low=0),
        **parse_objectives(r, _is_metric_name, _METRIC_NAME),
        storage=_parse_storage(r),
    )
    r.done()
    return cfg


def _parse_storage(r: Reader) -> StorageURL | None:
    text = r.str("storage", None, check=bool, rule=f"a database URL, e.g. {STORAGE_EXAMPLE}", allow_none=True)
    if text is None:
        return None
    try:
        return StorageURL.parse(text)
    except ValueError as err:
        raise ConfigError(r.source, r.key("storage"), str(err)) from None


def _parse_trial(r: Reader) -> TrialConfig:
    cfg = TrialConfig(
        entrypoint=r.str(
            "entrypoint", DEFAULT_ENTRYPOINT, check=_is_entrypoint, rule="module:function, e.g. mypkg.train:train"
        ),
        options=dict(r.mapping("options")),
    )
    r.done()
    return cfg


def _parse_search(r: Reader, n_objectives: int = 1) -> SearchConfig:
    sampler = r.choice("sampler", samplers.NAMES, SearchConfig.sampler)
    n_trials = r.int("n_trials", None, low=1)
    pruner = r.choice("pruner", tuple(PRUNERS), SearchConfig.pruner)
    options_reader = r.section("pruner_options")
    pruner_options = PRUNERS[pruner].read(options_reader)
    options_reader.done()
    space_reader = r.section("space")
    r.check_names("space", space_reader.raw)
    names = list(space_reader.raw)
    space: knobs.Space = ()
    for name in names:  # in order: a knob's condition may name the knobs before it
        space += (_parse_knob(space_reader, name, space, names),)
    problem = samplers.check_sampler(sampler, space, n_trials, n_objectives)
    if problem is not None:
        raise r.error(problem.key, problem.rule, problem.got)
    enqueue, timeout_s, seeds = parse_run_options(r, space, n_trials, pruner)
    r.done()
    return SearchConfig(n_trials, space, sampler, pruner, pruner_options, enqueue, timeout_s, seeds)


def _parse_knob(space: Reader, name: str, earlier: knobs.Space, names: list[str]) -> knobs.Param:
    value = space.raw.pop(name)
    if isinstance(value, list):  # shorthand: a list is a categorical knob
        value = {"type": "categorical", "choices": value}
    if not isinstance(value, dict):
        raise space.error(name, "must be a mapping with type float, int or categorical, or a list of choices", value)
    k = Reader(space.source, space.key(name), value)
    kind = k.choice("type", ("float", "int", "categorical"), None)
    knob = _parse_categorical(k, name) if kind == "categorical" else _parse_range(k, name, kind)
    when = parse_when(k, name, earlier, names)
    k.done()
    return knob if when is None else dataclasses.replace(knob, when=when)


def _parse_categorical(k: Reader, name: str) -> knobs.CategoricalParam:
    choices = k.get("choices", None)
    if not isinstance(choices, list) or not choices:
        raise k.error("choices", "must be a non-empty list", choices)
    for c in choices:
        if c is not None and not isinstance(c, (bool, int, float, str)):
            raise k.error("choices", "must hold only numbers, strings, booleans or null", choices)
    if len(set(map(repr, choices))) != len(choices):
        raise k.error("choices", "must not repeat a choice", choices)
    return knobs.CategoricalParam(name, tuple(choices))


def _parse_range(k: Reader, name: str, kind: str) -> knobs.Param:
    is_int = kind == "int"
    num = k.int if is_int else k.float
    low, high = num("low", None), num("high", None)
    log = k.bool("log", False)
    step = num("step", 1 if is_int else None, low=0, open_interval=True, allow_none=not is_int)
    if not low < high:
        raise k.error("low", f"must be < high ({high})", low)
    if log and low <= 0:
        raise k.error("low", "must be > 0 when log is true", low)
    if log and step not in (None, 1):
        raise k.error("step", "must be unset when log is true (Optuna cannot step a log scale)", step)
    if is_int:
        return knobs.IntParam(name, low, high, log=log, step=step)
    return knobs.FloatParam(name, low, high, log=log, step=step)


def _parse_paths(r: Reader) -> PathsConfig:
    cfg = PathsConfig(
        data=r.str("data", PathsConfig.data, check=bool, rule="a directory"),
        reports=r.str("reports", PathsConfig.reports, check=bool, rule="a directory"),
    )
    r.done()
    return cfg


def _parse_report(r: Reader) -> ReportConfig:
    cfg = ReportConfig(top_trials=r.int("top_trials", ReportConfig.top_trials, low=0))
    r.done()
    return cfg


def _check_names(source: str, trial: TrialConfig, search: SearchConfig) -> None:
    for p in search.space:
        if p.name in FIXED_COLUMNS:
            raise ConfigError(source, f"search.space.{p.name}", f"must not be named like {_FIXED_COLUMNS_TEXT}")
        if p.name in trial.options:
            raise ConfigError(
                source, f"search.space.{p.name}", "must not also be a fixed trial.options key (remove one of them)"
            )


# Metrics and searched parameters are columns of the trials table beside its fixed ones.
_FIXED_COLUMNS_TEXT = f"a fixed column of the trials table ({', '.join(FIXED_COLUMNS)})"


_METRIC_NAME = f"a metric name, not {_FIXED_COLUMNS_TEXT}"


def _is_metric_name(s: str) -> bool:
    return bool(s) and s not in FIXED_COLUMNS


def _is_name(s: str) -> bool:
    return bool(s) and all(c.isalnum() or c in "-_." for c in s) and not s.startswith(".")


def _is_entrypoint(s: str) -> bool:
    module, sep, func = s.partition(":")
    return bool(sep and module and func.isidentifier() and all(p.isidentifier() for p in module.split(".")))
