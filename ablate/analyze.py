"""analyze: gather a study's trials and run facts into what the report renders."""

from __future__ import annotations

import json
from typing import Any

from ablate.config import Params
from ablate.data import read_manifest
from ablate.report import ParamInfo, ReportInput
from ablate.search import load_study
from ablate.trials_table import best_of, count_states, trials_frame
from ablate.versioning import find_repo_root, lock_hash


def build_report_input(params: Params, run: dict[str, Any]) -> ReportInput:
    """The report of ``params``'s study; ``run`` holds this run's facts (executed, cached, wall_s)."""
    study = load_study(params)
    frame = trials_frame(study, params)
    summary = {**run, **count_states(frame), "best": best_of(study, params), "n_trials": params.search.n_trials}
    manifest = read_manifest(params.prepared_dir) or {}
    provenance = {
        "study": params.study.name,
        "params file": params.source,
        "data": f"{params.data.source} ({manifest.get('task', '?')}, shapes {manifest.get('shapes', '?')})",
        "data hash": manifest.get("data_hash", "?")[:16],
        "sampler": params.search.sampler,
        "seed": params.study.seed,
        "entrypoint": params.trial.entrypoint,
        "fixed options": json.dumps(params.trial.options, sort_keys=True) if params.trial.options else "-",
        **_dvc_facts(params, run),
        **{k: v for k, v in run.get("provenance", {}).items() if k != "versions"},
        **{f"{k} version": v for k, v in run.get("provenance", {}).get("versions", {}).items() if v},
    }
    return ReportInput(
        study=params.study.name,
        metric=params.study.metric,
        direction=params.study.direction,
        trials=frame,
        params=tuple(ParamInfo(p.name, p.kind, bool(p.log)) for p in params.search.space),
        run=summary,
        provenance=provenance,
        top_trials=params.report.top_trials,
    )


def _dvc_facts(params: Params, run: dict[str, Any]) -> dict[str, Any]:
    """What DVC holds of the study: the sync of this run, else what dvc.lock records."""
    sync = run.get("sync")
    if isinstance(sync, dict):
        facts = {"dvc sync": sync.get("status")}
        if sync.get("study_hash"):
            facts["dvc hash of the study"] = sync["study_hash"]
        if sync.get("remote"):
            facts["dvc remote"] = f"{sync['remote']} ({sync.get('pushed', 0)} files pushed)"
        if sync.get("reason"):
            facts["dvc note"] = sync["reason"]
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
