"""fingerprint: what a study's trials were computed from, so one study never mixes inputs.

A study's fingerprint names the inputs that decide its trials' results: the prepared data's
content hash, the trial code's version, the entrypoint and its fixed options, the search space
(with each knob's condition), the objective(s) and their directions, the outcome constraints,
the sampler, the seed and the seeds a trial is the mean of (``search.seeds``, when above 1). The
search step stores it once, as ``data/studies/<study>/fingerprint.json``, and compares it on
every later run: a study whose inputs changed (the data file, ``trial.options.epochs``, a
knob's range) is refused before any trial runs, or, with ``--restart``, set aside whole and
started afresh.

What may change without a new study is left out on purpose: the budget (``search.n_trials``,
``search.timeout_s``), what to evaluate first (``search.enqueue``), the cluster
(``execution.*``), the report (``report.*``) and where files go (``paths.*``).
"""

from __future__ import annotations

import json
import os
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from ablate.errors import AblateError, StudyChangedError
from ablate.study.storage import load_study, set_aside_in_database
from ablate.trial.entrypoint import code_version
from ablate.vocab.params import Params

FINGERPRINT = "fingerprint.json"
# Parts whose values are content hashes: shown shortened in messages.
_HASH_PARTS = ("data hash", "trial code version")
_SHOWN_CHARS = 60  # a changed value longer than this is cut in messages
_SHOWN_CHANGES = 4  # changes named in one message; the rest are counted
_UNSET = object()


def build_fingerprint(params: Params, data_hash: str, code_version: str) -> dict[str, Any]:
    """The study's fingerprint: named parts, each a JSON value, in display order.

    A new kind of input (an ``ablation`` section, say) is one more entry. A part whose value is
    None is left out, so adding a part keeps older fingerprints valid for params that don't use it.
    """
    written = params.to_dict()  # the search space as written, normalized (shorthand expanded)
    parts = {
        "data hash": data_hash,
        "trial code version": code_version,
        "trial.entrypoint": params.trial.entrypoint,
        "trial.options": written["trial"]["options"],
        "search.space": written["search"]["space"],
        # A list with several objectives; one objective stays a name, as older fingerprints hold it.
        "study.metric": written["study"]["metric"],
        "study.direction": written["study"]["direction"],
        "study.constraints": written["study"]["constraints"] or None,
        "search.sampler": params.search_section.sampler,
        "study.seed": params.study.seed,
        # A trial's value is the mean over this many seeds; 1 (the default) is left out, so the
        # fingerprints of studies from before search.seeds stay as they were.
        "search.seeds": params.search_section.seeds if params.search_section.seeds != 1 else None,
        # An ablation arm's re-tuning search: the input columns its trials lack.
        "ablation.drop_features": list(params.tuning.drop_features) if params.tuning else None,
    }
    # Through JSON and back: compared with what a file holds, tuples are lists, keys strings.
    return json.loads(json.dumps({k: v for k, v in parts.items() if v is not None}, default=str))


def read_fingerprint(study_dir: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((study_dir / FINGERPRINT).read_text())
    except FileNotFoundError:
        return None
    except json.JSONDecodeError:
        raise AblateError(f"{study_dir / FINGERPRINT}: must be JSON, but it cannot be read") from None
    return data if isinstance(data, dict) else None


def write_fingerprint(study_dir: Path, fingerprint: dict[str, Any]) -> Path:
    """Write ``fingerprint.json`` atomically (a reader sees the old file or the new, whole)."""
    study_dir.mkdir(parents=True, exist_ok=True)
    path = study_dir / FINGERPRINT
    tmp = path.with_name(f".{FINGERPRINT}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(fingerprint, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)
    return path


def fingerprint_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """What differs, one ``key: old → new`` per changed value, e.g. ``trial.options.epochs: 20 → 3``.

    Mappings are compared key by key (``search.space.lr.high``); anything else as a whole.
    """
    out: list[str] = []
    for part in [*new, *(p for p in old if p not in new)]:
        _diff(part, old.get(part, _UNSET), new.get(part, _UNSET), part in _HASH_PARTS, out)
    return out


def _diff(key: str, old: Any, new: Any, is_hash: bool, out: list[str]) -> None:
    if isinstance(old, dict) and isinstance(new, dict):
        for k in [*new, *(k for k in old if k not in new)]:
            _diff(f"{key}.{k}", old.get(k, _UNSET), new.get(k, _UNSET), is_hash, out)
    elif old != new:
        out.append(f"{key}: {_show(old, is_hash)} → {_show(new, is_hash)}")


def _show(value: Any, is_hash: bool) -> str:
    if value is _UNSET:
        return "unset"
    if is_hash and isinstance(value, str):
        return value[:4] + "…"
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 1] + "…"


def describe_changes(changes: list[str]) -> str:
    shown = "; ".join(changes[:_SHOWN_CHANGES])
    more = len(changes) - _SHOWN_CHANGES
    return shown + (f"; and {more} more" if more > 0 else "")


# ---------------------------------------------------------------------------------------------
# The search step's first act


def guard_study(params: Params, data_hash: str, restart: bool = False) -> list[str]:
    """:func:`check_study` of the study as it is on disk against its params and prepared data."""
    study = load_study(params)
    n_trials = len(study.get_trials(deepcopy=False)) if study is not None else 0
    fingerprint = build_fingerprint(params, data_hash, code_version(params.trial.entrypoint))
    return check_study(params, fingerprint, n_trials, restart)


def check_study(
    params: Params, fingerprint: dict[str, Any], n_trials: int, restart: bool = False, now: datetime | None = None
) -> list[str]:
    """Compare the study's stored fingerprint with ``fingerprint``, before any trial runs.

    Args:
        params: the study.
        fingerprint: what its trials would be computed from now (:func:`build_fingerprint`).
        n_trials: trials the study already has (of any state).
        restart: when the inputs changed, set the old study aside and start afresh instead of
            refusing.
        now: the time that names a set-aside study (default: now, UTC).

    Returns:
        Notes for the terminal (a study recorded for the first time, a study set aside).

    Raises:
        StudyChangedError: the inputs changed, and ``restart`` is false.
    """
    stored = read_fingerprint(params.study_dir)
    if n_trials == 0 or stored == fingerprint:
        if stored != fingerprint:
            write_fingerprint(params.study_dir, fingerprint)
        return []
    if stored is None:
        path = write_fingerprint(params.study_dir, fingerprint)
        return [
            f"note: study {params.study.name} predates fingerprints; its inputs are recorded as they are "
            f"now ({path}), and later changes to them will be refused"
        ]
    changes = fingerprint_changes(stored, fingerprint)
    if not changes:  # equal values written differently (20 and 20.0): keep the stored file
        return []
    if not restart:
        name = params.study.name
        raise StudyChangedError(
            params.source,
            "",
            f"study {name}: must keep the inputs its {n_trials} trial(s) were computed from, but got "
            f"{describe_changes(changes)}; use another study.name (e.g. --set study.name={name}-2), or "
            f"--restart to keep the old study as {params.study_dir}.<UTC time> and start afresh",
        )
    moved = set_study_aside(params, now or datetime.now(timezone.utc))
    write_fingerprint(params.study_dir, fingerprint)
    kept = " and ".join(str(p) for p in moved)
    return [f"restart: study {params.study.name} changed ({describe_changes(changes)}); kept as {kept}"]


def set_study_aside(params: Params, now: datetime) -> list[Path]:
    """Move the study's folder and its report folder to ``<name>.<UTC time>`` siblings (and a
    study in a database to that name).

    Call this holding the study's lock. The prepared data stay: they follow ``data.*`` alone.
    """
    folders = [p for p in (params.study_dir, params.report_dir) if p.exists()]
    stamp = now.astimezone(timezone.utc)
    while any(archive_path(p, stamp).exists() for p in folders):  # a restart within the same second
        stamp += timedelta(seconds=1)
    moved = []
    set_aside_in_database(
        params, f"{params.study.name}.{stamp.strftime(ARCHIVE_STAMP)}"
    )  # a view's folder is its arm's
    for folder in folders:
        dest = archive_path(folder, stamp)
        os.rename(folder, dest)
        moved.append(dest)
    return moved


ARCHIVE_STAMP = "%Y%m%dT%H%M%SZ"
ARCHIVE_PATTERN = r"\d{8}T\d{6}Z"  # what ARCHIVE_STAMP writes, for finding archives again


def archive_path(folder: Path, stamp: datetime) -> Path:
    return folder.with_name(f"{folder.name}.{stamp.strftime(ARCHIVE_STAMP)}")


def archived_studies(params: Params) -> list[Path]:
    """The study and report folders ``--restart`` set aside for this study, oldest first."""
    pattern = re.compile(re.escape(params.study.name) + r"\." + ARCHIVE_PATTERN)
    found: list[Path] = []
    for parent in (params.study_dir.parent, params.report_dir.parent):
        if parent.is_dir():
            found += sorted(p for p in parent.iterdir() if p.is_dir() and pattern.fullmatch(p.name))
    return found
