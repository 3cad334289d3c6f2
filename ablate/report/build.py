"""Gather a study's trials, its ablation and the run's facts into what the report renders."""

from __future__ import annotations

import json
from typing import Any

from ablate.ablation.across_report import DatasetsAblation, analyze_datasets, datasets_summary
from ablate.ablation.analysis import AblationAnalysis, analyze_ablation
from ablate.ablation.report import ablation_summary
from ablate.ablation.retune import RETUNED
from ablate.ablation.retune_analysis import RetunedAblation, analyze_retuned
from ablate.ablation.retune_report import retuned_summary
from ablate.ablation.runs import read_design, read_runs
from ablate.data import read_manifest
from ablate.report.model import ParamInfo, ReportInput
from ablate.report.write import IMPORTANCE_RECORD
from ablate.runtime.dvc import find_repo_root, lock_hash
from ablate.study.curves import learning_curves
from ablate.study.importance_record import cached_param_importance
from ablate.study.repeats import seed_list
from ablate.study.storage import load_study
from ablate.study.table import best_of, count_states, front_of, trials_frame
from ablate.vocab.facts import RunFacts
from ablate.vocab.objectives import describe_objectives
from ablate.vocab.params import Params


def build_report_input(params: Params, run: RunFacts) -> ReportInput:
    """The report of ``params``'s study after ``run``."""
    study = load_study(params) if params.search is not None else None
    frame = trials_frame(study, params)
    trials = study.get_trials(deepcopy=False) if study is not None else []
    n_trials = params.search.n_trials if params.search is not None else 0
    facts: dict[str, Any] = {**count_states(frame), "best": best_of(study, params), "n_trials": n_trials}
    if params.study.multi_objective:  # no single best: the Pareto front
        facts["front"] = front_of(frame, params)
    ablation = _ablation(params) if not params.data.sources else None
    if ablation is not None:
        facts["ablation_summary"] = ablation_summary(ablation)
    retuned = _retuned(params, ablation)
    if retuned is not None:
        facts["ablation_summary"] += f"; {retuned_summary(retuned)}"
    datasets = _datasets(params)
    if datasets is not None:
        facts["ablation_summary"] = datasets_summary(datasets)
    views = params.datasets or {"": params}  # each of data.sources by name, or the one data.source
    manifests = {name: read_manifest(view.prepared_dir) or {} for name, view in views.items()}
    recorded = run.provenance.to_dict() if run.provenance is not None else {}  # as run.json holds it
    provenance = {
        "study": params.study.name,
        "params file": params.source,
        **_data_facts(params, manifests),
        "sampler": params.search.sampler if params.search is not None else "-",
        **(
            {"objectives": describe_objectives(params.study.metrics, params.study.directions)}
            if params.study.multi_objective
            else {}
        ),
        "seed": params.study.seed,
        "entrypoint": params.trial.entrypoint,
        "fixed options": json.dumps(params.trial.options, sort_keys=True) if params.trial.options else "-",
        **_dvc_facts(params, run),
        # In one order, whether the facts come from this run or from its record (sorted JSON).
        **{k: v for k, v in sorted(recorded.items()) if k != "versions"},
        **{f"{k} version": v for k, v in sorted(recorded.get("versions", {}).items()) if v},
    }
    return ReportInput(
        study=params.study.name,
        metric=params.study.metric,
        direction=params.study.direction,
        other_metrics=params.study.other_metrics,
        other_directions=params.study.other_directions,
        constraints=params.study.constraints,
        trials=frame,
        params=tuple(ParamInfo(p.name, p.kind, bool(p.log)) for p in (params.search.space if params.search else ())),
        run=run,
        study_facts=facts,
        provenance=provenance,
        top_trials=params.report.top_trials,
        search=params.search is not None,
        ablation=ablation,
        datasets=datasets,
        retuned=retuned,
        val_size=(manifests.get("", {}).get("shapes") or {}).get("val", [None])[0],
        importance=(
            cached_param_importance(
                trials, params.study.direction, params.study.seed, params.report_dir / IMPORTANCE_RECORD
            )
            if study
            else None
        ),
        curves=(
            learning_curves(trials, params.study_dir / "trials", params.study.metric, _run_seeds(params))
            if study
            else None
        ),
    )


def _run_seeds(params: Params) -> list[int]:
    """The seeds each trial of the search ran over (one, ``study.seed``, without ``search.seeds``)."""
    return seed_list(params.study.seed, params.search.seeds if params.search is not None else 1)


def _ablation(params: Params) -> AblationAnalysis | None:
    """The ablation's statistics, from what its step recorded (None before it first ran)."""
    if params.ablation is None:
        return None
    design, runs = read_design(params.ablation_dir), read_runs(params.ablation_dir)
    if design is None or runs is None:
        return None
    return analyze_ablation(design, runs, params.study.metric, params.study.direction)


def _retuned(params: Params, fixed: AblationAnalysis | None) -> RetunedAblation | None:
    """The re-tuned ablation (``ablation.retune``) beside the fixed one: its record in
    ``<ablation dir>/retuned/`` (None before it first ran, or without ``ablation.retune``)."""
    cfg = params.ablation
    if fixed is None or cfg is None or cfg.retune is None:
        return None
    design, runs = read_design(params.ablation_dir / RETUNED), read_runs(params.ablation_dir / RETUNED)
    if design is None or runs is None:
        return None
    retuned = analyze_ablation(design, runs, params.study.metric, params.study.direction)
    knobs = cfg.tuned_knobs([p.name for p in params.search.space] if params.search is not None else ())
    seeds = params.search.seeds if params.search is not None else 1
    return analyze_retuned(fixed, retuned, knobs, cfg.retune.n_trials, seeds)


def _datasets(params: Params) -> DatasetsAblation | None:
    """An ablation on data.sources: each data set's statistics and those across them (None before
    any data set's ablation first ran)."""
    if not params.data.sources or params.ablation is None:
        return None
    analyses = [(name, a) for name, view in params.datasets.items() if (a := _ablation(view)) is not None]
    return analyze_datasets(analyses, params.study.seed) if analyses else None


def _data_facts(params: Params, manifests: dict[str, dict[str, Any]]) -> dict[str, str]:
    """The data set (or each of data.sources, by name): its source, task and shapes, and its hash."""
    out = {}
    for name, view in (params.datasets or {"": params}).items():
        manifest = manifests[name]
        key = f"data {name}" if name else "data"
        out[key] = f"{view.data.source} ({manifest.get('task', '?')}, shapes {manifest.get('shapes', '?')})"
        out[f"{key} hash"] = manifest.get("data_hash", "?")[:16]
    return out


def _dvc_facts(params: Params, run: RunFacts) -> dict[str, Any]:
    """What DVC holds of the study: the sync of this run, else what dvc.lock records."""
    sync = run.sync
    if sync is not None:
        facts: dict[str, Any] = {"dvc sync": sync.status}
        if sync.study_hash:
            facts["dvc hash of the study"] = sync.study_hash
        if sync.remote:
            facts["dvc remote"] = f"{sync.remote} ({sync.pushed} files pushed)"
        if sync.reason:
            facts["dvc note"] = sync.reason
        return facts
    root = find_repo_root()
    if root is None:
        return {}
    try:
        rel = str(params.study_dir.resolve().relative_to(root))
    except ValueError:
        return {}
    recorded = lock_hash(root, rel)
    return {"dvc hash of the study": f"{recorded} (dvc.lock)"} if recorded else {}
