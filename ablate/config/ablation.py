"""The reader of the ``ablation:`` section (its records are :mod:`ablate.vocab.ablation`), and
the check of its feature patterns against the data's columns."""

from __future__ import annotations

import fnmatch
from collections.abc import Collection, Mapping
from typing import Any

from ablate._reader import Reader
from ablate.config.retune_keys import check_retune, parse_retune
from ablate.config.seed_keys import check_seeds, parse_adaptive, parse_seeds
from ablate.errors import ConfigError
from ablate.vocab.ablation import (
    BEST,
    MAX_FACTORIAL_COMPONENTS,
    POLICIES,
    RESERVED_ARM_NAMES,
    AblationConfig,
    Component,
)


def parse_ablation(
    r: Reader, options: Mapping[str, Any], space_names: Collection[str] | None, reserved: Collection[str]
) -> AblationConfig:
    """Validate the ``ablation`` section.

    Args:
        r: the section's reader.
        options: ``trial.options`` (fixed params of every trial).
        space_names: the searched parameters, or None when the file has no search section.
        reserved: column names of the trials table that a component must not take.
    """
    policy = r.choice("policy", POLICIES, AblationConfig.policy)
    baseline = _parse_config(r, "baseline", options, space_names, required=True)
    target = _parse_config(r, "target", options, space_names, required=policy == "path")
    assert baseline is not None  # required
    known = _known_params(baseline, options, space_names)
    components = _parse_components(r, baseline, known, reserved)
    seeds = parse_seeds(r)
    cfg = AblationConfig(
        baseline=baseline,
        components=components,
        policy=policy,
        seeds=seeds,
        alpha=r.float("alpha", AblationConfig.alpha, low=0.0, high=1.0, open_interval=True),
        target=target,
        n_arms=r.int("n_arms", None, low=1, allow_none=True),
        score_test=r.bool("score_test", AblationConfig.score_test),
        min_effect=r.float("min_effect", None, low=0.0, open_interval=True, allow_none=True),
        power=r.float("power", AblationConfig.power, low=0.0, high=1.0, open_interval=True),
        retune=parse_retune(r, policy, space_names),
        **parse_adaptive(r, auto=seeds is None),
    )
    _check_policy(r, cfg)
    check_retune(r, cfg.retune, cfg.tuned_knobs(space_names or ()), space_names)
    check_seeds(r, cfg.adaptive, cfg.min_effect, cfg.policy, cfg.seed_plan)
    r.done()
    return cfg


def _parse_config(
    r: Reader, name: str, options: Mapping[str, Any], space_names: Collection[str] | None, required: bool
) -> dict[str, Any] | str | None:
    value = r.get(name, None)
    if value is None:
        if required:
            raise ConfigError(
                r.source, r.key(name), "is required (a mapping of trial params, or best), but it is missing"
            )
        return None
    if value == BEST:
        if space_names is None:
            raise r.error(name, "may be best only with a search section in the same file (its best trial)", value)
        return BEST
    if not isinstance(value, dict):
        raise r.error(name, "must be a mapping of trial params (merged over trial.options), or best", value)
    return {**options, **{str(k): v for k, v in value.items()}}


def _known_params(
    baseline: dict[str, Any] | str, options: Mapping[str, Any], space_names: Collection[str] | None
) -> dict[str, Any]:
    """Params a component may set, with the baseline's value where it is known before running."""
    if isinstance(baseline, dict):
        return dict(baseline)
    unknown = object()  # a searched param: its value is the best trial's, known after the search
    return {**{n: unknown for n in space_names or ()}, **options}


def _parse_components(
    r: Reader, baseline: dict[str, Any] | str, known: dict[str, Any], reserved: Collection[str]
) -> tuple[Component, ...]:
    section = r.section("components")
    out = []
    for name in list(section.raw):
        key = f"components.{name}"
        if not _is_name(str(name)):
            raise r.error(key, "must be a name of letters, digits, '-', '_' or '.'", name)
        if name in RESERVED_ARM_NAMES or name in reserved:
            taken = ", ".join((*RESERVED_ARM_NAMES, *reserved))
            raise r.error(key, f"must not be a reserved name ({taken})", name)
        c = section.section(name)
        params = dict(c.mapping("params"))
        features = c.get("features", None) or []
        if not isinstance(features, list) or not all(isinstance(f, str) and f for f in features):
            raise c.error("features", "must be a list of column name patterns, e.g. ['worst *']", features)
        c.done()
        if not params and not features:
            raise r.error(key, "must set params or features (what removing it means)", {})
        _check_component_params(c, params, known)
        out.append(Component(str(name), params, tuple(features)))
    return tuple(out)


def _check_component_params(c: Reader, params: dict[str, Any], known: dict[str, Any]) -> None:
    for p in params:
        if p not in known:
            raise c.error(f"params.{p}", f"must be a parameter of the baseline ({', '.join(known)})", p)
    if params and all(known[p] == v for p, v in params.items()):
        raise c.error("params", "must change something against the baseline, which has the same values", params)


def _check_policy(r: Reader, cfg: AblationConfig) -> None:
    k = len(cfg.components)
    if cfg.policy == "path":
        if k:
            raise r.error(
                "components", "must be empty for policy path (it flips the params baseline and target differ in)", k
            )
        if cfg.baseline == cfg.target:
            raise r.error("target", "must differ from ablation.baseline for policy path", cfg.target)
        return
    # loco without components is the baseline alone over the seeds: the tuned model's validation
    # and held-out test scores with their intervals (docs/reports.md, "The tuned model on the test split").
    if k == 0 and cfg.policy != "loco":
        raise r.error(
            "components",
            f"must name at least one component for policy {cfg.policy} (none, with policy loco: the baseline alone)",
            {},
        )
    if cfg.policy == "factorial" and k > MAX_FACTORIAL_COMPONENTS:
        raise r.error(
            "components",
            f"must be at most {MAX_FACTORIAL_COMPONENTS} for policy factorial (2^{k} arms; use policy random)",
            k,
        )
    if cfg.target is not None:
        raise r.error("target", "is only for policy path", cfg.target)
    if cfg.n_arms is not None and cfg.policy != "random":
        raise r.error("n_arms", "is only for policy random", cfg.n_arms)


def match_features(patterns: Collection[str], columns: Collection[str]) -> tuple[str, ...]:
    """The columns matched by any of the glob ``patterns``, in column order."""
    return tuple(c for c in columns if any(fnmatch.fnmatchcase(c, p) for p in patterns))


def check_features(cfg: AblationConfig, columns: Collection[str], source: str, dataset: str = "") -> None:
    """Every pattern matches a column, and no arm is left without a column; ``dataset``: the name
    of the data set (one of ``data.sources``) whose ``columns`` these are. With several data sets,
    every pattern must match a column of each (an arm that changed nothing on one data set would
    enter its ranks as a tie, not as a missing arm).

    Raises:
        ConfigError: naming the component and pattern.
    """
    of = f" of data set {dataset}" if dataset else ""
    for c in cfg.components:
        for pattern in c.features:
            if not match_features([pattern], columns):
                shown = ", ".join(list(columns)[:6]) + (", ..." if len(columns) > 6 else "")
                raise ConfigError(
                    source,
                    f"ablation.components.{c.name}.features",
                    f"must match input columns{of} ({shown}), but {pattern!r} matches none",
                )
    every = [p for c in cfg.components for p in c.features]
    if (
        every
        and len(match_features(every, columns)) == len(columns)
        and cfg.policy in ("add_one", "factorial", "random")
    ):
        raise ConfigError(
            source,
            "ablation.components",
            f"must leave some input column when every component is removed (policy {cfg.policy}), "
            f"but their features cover all {len(columns)} columns{of}",
        )
    for c in cfg.components:
        if c.features and len(match_features(c.features, columns)) == len(columns):
            raise ConfigError(
                source,
                f"ablation.components.{c.name}.features",
                f"must leave some input column, but they match all {len(columns)} columns{of}",
            )


def _is_name(s: str) -> bool:
    return bool(s) and all(ch.isalnum() or ch in "-_." for ch in s) and not s.startswith(".")
