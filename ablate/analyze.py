"""analyze: gather a study's trials and run facts into what the report renders."""

from __future__ import annotations

import json
from typing import Any

from ablate.config import Params
from ablate.data import read_manifest
from ablate.report import ParamInfo, ReportInput
from ablate.search import best_of, count_states, load_study, trials_frame


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
    )
