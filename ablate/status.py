"""Where a study stands, read without running anything: ``ablate status PARAMS``.

Everything here reads: the study's storage (a journal read by a backend that refuses to append),
the facts of its last run, its fingerprint against the params as they are now, DVC's record and
remote, the ablation's record. It takes no lock and waits on none, so it answers before, during
(from another terminal) and after a run. It imports neither Prefect nor Dask.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ablate.data import is_prepared, read_manifest
from ablate.errors import ConfigError
from ablate.study.fingerprint import build_fingerprint, describe_changes, fingerprint_changes, read_fingerprint
from ablate.study.last_run import read_last_run
from ablate.study.lock import lock_holder
from ablate.study.storage import dashboard_target, describe_storage, load_study, needs_trials
from ablate.study.table import best_of, count_states, describe_front, describe_interventions, front_of, trials_frame
from ablate.trial.entrypoint import code_version
from ablate.vocab.facts import StudyFacts
from ablate.vocab.params import Params


@dataclass(frozen=True)
class StudyStatus:
    """What ``ablate status`` prints; :meth:`to_dict` is its ``--json``."""

    study: str
    storage: str  # where the trials are (a journal file, or a database URL with its password masked)
    running: str | None  # who runs the study now ("pid 1234"), None when nobody does
    trials: dict[str, int]  # complete, pruned, failed, running; n_trials: the budget
    # Trials the runs stopped as hung or as stragglers, moved to another worker, or flagged.
    interventions: str | None
    best: dict[str, Any] | None
    front: dict[str, Any] | None  # several objectives: the Pareto front (size, trials), in place of best
    last_run: dict[str, Any] | None  # what the last search did and when it ended
    fingerprint: dict[str, Any]  # status: match | changed | unrecorded | unknown; changes
    dvc: dict[str, str]  # ablate.runtime.dvc.push_state
    ablation: dict[str, Any] | None  # trials by status of the recorded (arm, seed) design
    dashboard: str | None  # the optuna-dashboard command for the study's storage

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def study_status(params: Params) -> StudyStatus:
    study = load_study(params, read_only=True) if params.search is not None else None
    frame = trials_frame(study, params)
    trials = count_states(frame) if params.search is not None else {}
    if params.search is not None:
        trials["n_trials"] = params.search.n_trials
    last = read_last_run(params)
    from ablate.runtime.dvc import push_state  # the DVC owner; imported here, where it is used

    return StudyStatus(
        study=params.study.name,
        storage=describe_storage(params),
        running=lock_holder(params.study_dir),
        trials=trials,
        interventions=describe_interventions(frame) if params.search is not None else None,
        best=best_of(study, params),
        front=front_of(frame, params),
        last_run=last.to_dict() if last.search.finished_at else None,
        fingerprint=fingerprint_status(params) if params.search is not None else {"status": "no search", "changes": []},
        dvc=push_state(params),
        ablation=ablation_progress(params),
        dashboard=dashboard_command(params) if study is not None else None,
    )


def fingerprint_status(params: Params) -> dict[str, Any]:
    """Whether the params would compute trials from what the study's trials were computed from
    (the fingerprint the search step recorded, against the data prepared last)."""
    stored = read_fingerprint(params.study_dir)
    if stored is None:
        return {"status": "unrecorded", "changes": []}
    manifest = read_manifest(params.prepared_dir)
    try:
        version = code_version(params.trial.entrypoint)
    except (ImportError, ValueError) as err:
        return {"status": "unknown", "changes": [f"trial.entrypoint: {err}"]}
    data_hash = manifest["data_hash"] if manifest else stored.get("data hash", "")
    changes = fingerprint_changes(stored, build_fingerprint(params, data_hash, version))
    return {"status": "changed" if changes else "match", "changes": changes}


def ablation_progress(params: Params) -> dict[str, Any] | None:
    """The (arm, seed) trials of the ablation's last recorded design, by status, and the verdicts
    they give (recorded after every round of an adaptive design, so also while it runs)."""
    if params.ablation is None:
        return None
    if params.data.sources:
        return _datasets_progress(params)
    out = _progress_of(params, params.ablation_dir)
    if params.ablation.retune is not None:
        out["retune"] = _retune_progress(params)
    return out


def _progress_of(params: Params, folder: Path) -> dict[str, Any]:
    # The ablation's statistics (scipy, statsmodels) only where there is an ablation: a search's
    # status answers without them.
    from ablate.ablation.analysis import analyze_ablation
    from ablate.ablation.report import ablation_summary
    from ablate.ablation.runs import read_design, read_runs

    runs, design = read_runs(folder), read_design(folder)
    if runs is None:
        return {"recorded": False}
    counts = runs["status"].value_counts()
    out: dict[str, Any] = {
        "recorded": True,
        "arms": int(runs["arm"].nunique()),
        "trials": len(runs),
        **{status: int(counts.get(status, 0)) for status in ("complete", "failed", "missing")},
    }
    if design is not None and len(runs):
        a = analyze_ablation(design, runs, params.study.metric, params.study.direction)
        compared = a.table[a.table["reference"].notna()]
        out["verdicts"] = {v: int(n) for v, n in compared["verdict"].value_counts().items() if v}
        out["seeds"] = {r.arm: int(r.n + r.n_failed + r.n_missing) for r in a.table.itertuples()}
        out["summary"] = ablation_summary(a)
    return out


def _retune_progress(params: Params) -> dict[str, Any]:
    """``ablation.retune``: its budget, each arm's search (finished trials of its budget), and the
    re-tuned ablation's trials and verdicts."""
    # Only with ablation.retune, as in _progress_of.
    from ablate.ablation.design import Arm
    from ablate.ablation.retune import RETUNED, budget_line, tuning_view
    from ablate.ablation.runs import read_design

    design = read_design(params.ablation_dir)
    arms = [Arm.from_dict(a) for a in design["arms"]] if design is not None else []
    searches = {}
    for arm in arms:
        try:
            view = tuning_view(params, arm)
        except ConfigError:  # the run refuses this arm (and says why); status only reads
            continue
        study = load_study(view, read_only=True)
        done = count_states(trials_frame(study, view)) if study is not None else {}
        searches[arm.name] = (
            f"{done.get('complete', 0) + done.get('failed', 0) + done.get('pruned', 0)}/{view.search_section.n_trials}"
        )
    return {
        "budget": budget_line(params, len(arms) or None),
        "searches": searches,
        "ablation": _progress_of(params, params.ablation_dir / RETUNED),
    }


def _datasets_progress(params: Params) -> dict[str, Any]:
    """The ablation on each of data.sources, summed, with each data set's verdicts (the analysis
    across them, an MCMC fit, is the report's)."""
    parts = {name: ablation_progress(view) for name, view in params.datasets.items()}
    recorded = {name: part for name, part in parts.items() if part and part["recorded"]}
    if not recorded:
        return {"recorded": False}
    out: dict[str, Any] = {
        "recorded": True,
        "arms": max(part["arms"] for part in recorded.values()),
        **{k: sum(part[k] for part in recorded.values()) for k in ("trials", "complete", "failed", "missing")},
        "datasets": f"{len(recorded)} of {len(parts)} data sets",
    }
    out["summaries"] = {name: part["summary"] for name, part in recorded.items() if part.get("summary")}
    return out


def dashboard_command(params: Params) -> str:
    return f"optuna-dashboard {dashboard_target(params)}"


def describe_status(s: StudyStatus) -> list[str]:
    """The lines ``ablate status`` prints."""
    lines = [f"study:       {s.study} ({s.storage})"]
    lines.append(f"running:     {'yes, by ' + s.running if s.running else 'no'}")
    if s.trials:
        t = s.trials
        lines.append(
            f"trials:      {t['complete']} complete, {t['running']} running, {t['failed']} failed, "
            f"{t['pruned']} pruned (budget {t['n_trials']})"
        )
        if s.interventions:
            lines.append(f"watch:       {s.interventions}")
        b = s.best
        if s.front is not None:
            lines.append(f"front:       {describe_front(s.front)}")
        else:
            lines.append(f"best:        trial {b['number']} {b['metric']}={b['value']:.4f}" if b else "best:        -")
    lines.append(f"last run:    {_describe_last_run(s.last_run)}")
    fp = s.fingerprint
    what = {
        "match": "params match the study",
        "unrecorded": "no fingerprint recorded yet (no search ran)",
        "no search": "none (no search section: the ablation's trials are keyed by their own inputs)",
    }
    text = what.get(fp["status"]) or f"{fp['status']}: {describe_changes(fp['changes'])}"
    lines.append(f"fingerprint: {text}")
    lines.append(f"dvc:         {s.dvc['status']}{': ' + s.dvc['reason'] if s.dvc.get('reason') else ''}")
    if s.ablation is not None:
        a = s.ablation
        lines.append(
            f"ablation:    {a['complete']} of {a['trials']} (arm, seed) trials complete, {a['failed']} failed "
            f"({a['arms']} arms{', on ' + a['datasets'] if a.get('datasets') else ''})"
            if a["recorded"]
            else "ablation:    not run yet"
        )
        if a.get("summary"):
            lines.append(f"verdicts:    {a['summary']}")
        for name, summary in a.get("summaries", {}).items():
            lines.append(f"verdicts:    {name}: {summary}")
        if a.get("retune"):
            lines += _describe_retune(a["retune"])
    if s.dashboard:
        lines.append(f"dashboard:   {s.dashboard}")
    return lines


def _describe_retune(r: dict[str, Any]) -> list[str]:
    lines = [f"re-tune:     {r['budget'].removeprefix('re-tune: ')}"]
    if r["searches"]:
        lines.append("searches:    " + ", ".join(f"{arm} {done}" for arm, done in r["searches"].items()))
    a = r["ablation"]
    if not a["recorded"]:
        return [*lines, "re-tuned:    not run yet"]
    lines.append(f"re-tuned:    {a['complete']} of {a['trials']} (arm, seed) trials complete, {a['failed']} failed")
    return lines + ([f"verdicts:    re-tuned: {a['summary']}"] if a.get("summary") else [])


def _describe_last_run(last: dict[str, Any] | None) -> str:
    if last is None:
        return "none yet"
    text = f"search ended {last['search_finished_at']}: executed {last['executed']}, cached {last['cached']}"
    if last.get("recovered") or last.get("requeued"):
        text += f", recovered {last['recovered']}, re-queued {last['requeued']}"
    if last.get("search_wall_s") is not None:
        text += f"; the search loop {last['search_wall_s']:.1f} s"
    if last.get("search_timed_out"):
        text += " (stopped on search.timeout_s; run again to continue)"
    return text


def nothing_to_run(params: Params) -> tuple[str, StudyFacts] | None:
    """Why ``ablate run`` of ``params`` has nothing to do, with the study as its report's run.json
    records it, or None when it has work (or may have).

    A study has nothing to do when it has no ablation, nobody runs it, its prepared data are those
    of the data source as it is now, its fingerprint matches the params, it has its
    ``search.n_trials`` finished trials, its report was written after its last search with the
    report options of the params, and DVC records its outputs as they are (and its remote has
    them, where it has one). Cheapest checks first; the last, DVC's, imports DVC.
    """
    if params.search is None or params.ablation is not None or lock_holder(params.study_dir) is not None:
        return None
    if not is_prepared(params.data, params.study.seed, params.prepared_dir):
        return None
    last = read_last_run(params)
    record = _read_json(params.report_dir / "run.json")
    if not last.search.finished_at or record is None:
        return None
    if record.get("search_finished_at") != last.search.finished_at:
        return None  # the report predates the last search
    if record.get("report_options") != {"top_trials": params.report.top_trials}:
        return None
    if fingerprint_status(params)["status"] != "match" or needs_trials(params):
        return None
    from ablate.runtime.dvc import push_state

    dvc = push_state(params)
    if dvc["status"] not in ("pushed", "committed", "skipped"):
        return None
    reason = (
        f"study {params.study.name} has its {params.search.n_trials} trials and its report "
        f"(last search ended {last.search.finished_at}), and DVC records them ({dvc['status']}"
        f"{': ' + dvc['reason'] if dvc['reason'] else ''}): nothing to run"
    )
    return reason, StudyFacts.from_record(record)


def _read_json(path: Any) -> dict[str, Any] | None:
    import json

    try:
        value = json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    return value if isinstance(value, dict) else None
