"""Re-tuned ablation (``ablation.retune``): every arm, the baseline included, tuned by a search of
its own with the same budget, sampler and sampler seed, then run over the paired seeds.

An ablation that keeps the tuned baseline's hyperparameters blames a component for settings that
were tuned with it (a learning rate tuned with batchnorm on is too high without it; Melis et al.,
2018, re-tuned every model with the same budget and reversed published rankings). Here each arm's
search covers the searched knobs that no component sets; the knobs a component sets are held at
the arm's own values (the baseline holds them on), and a feature component's columns are dropped
from every trial of its arm's search. The arm then runs with its search's best configuration over
the same paired seeds as the fixed analysis, recorded in ``<ablation dir>/retuned/``; each search
is a study of its own in ``<ablation dir>/retune/<arm slug>/``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from ablate.ablation.design import Arm, PlanContext
from ablate.ablation.runs import plan_arms
from ablate.errors import ConfigError
from ablate.samplers import check_sampler
from ablate.vocab import knobs
from ablate.vocab.conditions import Condition
from ablate.vocab.params import Params, Tuning

RETUNED = "retuned"  # the re-tuned ablation's trials and record, in the ablation's folder
RETUNE = "retune"  # the arms' searches, one folder each, in the ablation's folder


def held_knobs(params: Params, arm: Arm) -> dict[str, Any]:
    """The knobs some component sets, at ``arm``'s values: held in its search."""
    assert params.ablation is not None
    return {k: arm.params[k] for k in params.ablation.fixed_knobs if k in arm.params}


def arm_space(space: knobs.Space, held: Mapping[str, Any]) -> knobs.Space:
    """The searched knobs an arm re-tunes: those no component sets. A knob whose condition names
    a held knob is kept where the held value meets that clause (the clause then dropped), and
    left out where it does not (it does not exist in that arm)."""
    out: list[knobs.Param] = []
    for p in space:
        if p.name in held:
            continue
        if p.when is not None:
            on_held = [c for c in p.when.clauses if c.knob in held]
            if not all(c.test(held[c.knob]) for c in on_held):
                continue
            rest = tuple(c for c in p.when.clauses if c.knob not in held)
            p = replace(p, when=Condition(rest) if rest else None)
        out.append(p)
    return tuple(out)


def tuning_view(params: Params, arm: Arm) -> Params:
    """The study as ``arm``'s re-tuning search: ``retune.n_trials`` trials over its
    :func:`arm_space`, with the search's sampler (or ``retune.sampler``), pruner, repeats and the
    study seed (so every arm's search has the same budget and the same luck), the arm's other
    params fixed, its columns dropped; a study named ``<study>.retune.<arm slug>`` in
    ``<ablation dir>/retune/<arm slug>/``.

    Raises:
        ConfigError: the arm holds every searched knob, or the sampler cannot serve its space.
    """
    cfg, search = params.ablation, params.search
    assert cfg is not None and cfg.retune is not None and search is not None
    held = held_knobs(params, arm)
    space = arm_space(search.space, held)
    key = "ablation.retune"
    if not space:
        shown = ", ".join(f"{k}={v}" for k, v in held.items())
        raise ConfigError(
            params.source,
            key,
            f"needs a searched knob left in every arm, but arm {arm.name} holds {shown}: nothing is left to re-tune",
        )
    sampler = cfg.retune.sampler or search.sampler
    problem = check_sampler(sampler, space, cfg.retune.n_trials, len(params.study.metrics))
    if problem is not None:
        where = f"{key}.{problem.key}" if problem.key in ("sampler", "n_trials") else f"search.{problem.key}"
        raise ConfigError(params.source, where, f"{problem.rule} (arm {arm.name}'s search), but got {problem.got}")
    searched = {p.name for p in search.space}
    options = {k: v for k, v in arm.params.items() if k not in searched or k in held}
    return replace(
        params,
        study=replace(params.study, name=f"{params.study.name}.{RETUNE}.{arm.slug}"),
        trial=replace(params.trial, options=options),
        search=replace(search, n_trials=cfg.retune.n_trials, space=space, sampler=sampler, enqueue=(), timeout_s=None),
        ablation=None,
        tuning=Tuning(arm.name, str(Path(params.ablation_dir) / RETUNE / arm.slug), arm.drop_features),
    )


def check_arms(params: Params) -> None:
    """Refuse, before anything runs, an arm whose search cannot run (see :func:`tuning_view`).
    Where the baseline is ``best``, its searched values are not known yet: a knob a component
    sets is then left in the check, which can only pass an arm the run refuses later, never
    refuse one it would run."""
    cfg = params.ablation
    assert cfg is not None
    baseline = dict(cfg.baseline) if isinstance(cfg.baseline, dict) else dict(params.trial.options)
    ctx = PlanContext(cfg, baseline, (), params.study.direction, params.study.seed)
    for arm in plan_arms(ctx, {}):
        tuning_view(params, arm)


def planned_arms(params: Params) -> int:
    """The arms the policy will plan, before the baseline is known (a component that turns out to
    change nothing against the search's best trial then gets none: at most this many)."""
    assert params.ablation is not None
    ctx = PlanContext(params.ablation, {}, (), params.study.direction, params.study.seed)
    return len(plan_arms(ctx, {}))


def budget_line(params: Params, n_arms: int | None = None) -> str:
    """What re-tuning costs, before it runs: ``arms x K`` search trials and ``arms x seeds``."""
    assert params.ablation is not None and params.ablation.retune is not None
    n_arms = planned_arms(params) if n_arms is None else n_arms
    seeds = params.ablation.describe_seeds()
    k = params.ablation.retune.n_trials
    repeats = params.search.seeds if params.search is not None else 1
    per = f" x {repeats} seeds each" if repeats > 1 else ""
    return (
        f"re-tune: {n_arms} arms x {k} search trials{per} = {n_arms * k * repeats} trials, then "
        f"{n_arms} arms x {seeds} re-tuned"
    )
