"""sync: version a study's outputs with DVC and push them to the default remote.

The study's outputs are the outs of the ``prepare``, ``search`` and ``analyze`` stages of
``dvc.yaml`` that belong to it. Syncing commits them to the DVC cache and ``dvc.lock`` (as if
``dvc repro`` had produced them, so ``dvc status`` is clean after ``ablate run``) and pushes
them. A study that is not a stage of ``dvc.yaml`` (another ``study.name``) has its folders
tracked with ``.dvc`` files instead, and so have the old studies ``--restart`` set aside
(``data/studies/<name>.<UTC time>``). Outside a DVC repository there is nothing to sync.
"""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path
from typing import Any

from ablate._logs import logger_held_at
from ablate.errors import SyncError, one_line
from ablate.study.fingerprint import archived_studies
from ablate.vocab.facts import SyncResult
from ablate.vocab.params import Params
from ablate.vocab.steps import STAGES


def find_repo_root(start: Path | None = None) -> Path | None:
    """The DVC repository around ``start`` (default: the working directory), or None."""
    here = (start or Path.cwd()).resolve()
    for d in (here, *here.parents):
        if (d / ".dvc").is_dir():
            return d
    return None


def study_outputs(params: Params) -> list[Path]:
    outs = [Path(params.prepared_dir), Path(params.study_dir), Path(params.report_dir)]
    return outs + ([Path(params.ablation_dir)] if params.ablation is not None else [])


def sync_study(params: Params, steps: tuple[str, ...], push: bool = True) -> SyncResult:
    """Commit the outputs of ``steps`` (stage names) of ``params``'s study, then push them."""
    root = find_repo_root()
    if root is None:
        return SyncResult("skipped", "not inside a DVC repository")
    outs = [p.resolve() for p in study_outputs(params)]
    if not all(is_under(p, root) for p in outs):
        return SyncResult("skipped", f"the study's outputs are outside the DVC repository {root}")
    from dvc.exceptions import DvcException
    from dvc.lock import LockError
    from dvc.repo import Repo

    try:
        with quiet_dvc(), Repo(str(root)) as repo:
            stages = study_stages(repo, outs, steps)
            if stages:
                for stage in stages:
                    repo.commit(stage.addressing, force=True)
                targets = [s.addressing for s in stages]
            else:
                targets = _track_with_dvc_files(repo, outs, root)
            targets += _track_archives(repo, params, root)
            # An ablation without a search has no Optuna study: its record is the ablation folder.
            record = params.study_dir if params.search is not None else params.ablation_dir
            study_hash = _out_hash(repo, Path(record).resolve())
            remote = repo.config["core"].get("remote")
            if not push or not remote:
                return SyncResult("committed", "no default remote" if push else "", targets, study_hash, remote)
            pushed = _push(repo, targets, remote)
            return SyncResult("pushed", "", targets, study_hash, remote, pushed)
    except LockError:
        raise  # another DVC command holds the repository for a moment: the caller retries
    except DvcException as err:
        raise SyncError(f"sync: {one_line(err)}") from None


def push_state(params: Params) -> dict[str, str]:
    """Whether DVC records the study's outputs as they are and its default remote has them, as
    ``{"status": ..., "reason": ...}``; changes nothing (for ``ablate status``).

    status: ``pushed``; ``not pushed`` (committed, some files not on the remote); ``committed``
    (no default remote); ``not committed`` (the outputs differ from what DVC records, e.g. a run in
    progress); ``untracked``; ``skipped`` (outside a DVC repository).
    """
    root = find_repo_root()
    if root is None:
        return {"status": "skipped", "reason": "not inside a DVC repository"}
    outs = [p.resolve() for p in study_outputs(params)]
    if not all(is_under(p, root) for p in outs):
        return {"status": "skipped", "reason": f"the study's outputs are outside the DVC repository {root}"}
    if not any(p.exists() for p in outs):
        return {"status": "no outputs", "reason": "the study has not run yet"}
    from dvc.exceptions import DvcException
    from dvc.repo import Repo, lock_repo

    try:
        with quiet_dvc(logging.ERROR), Repo(str(root)) as repo, lock_repo(repo):
            # The stages themselves, not their addresses: `repo.status(targets)` parses dvc.yaml and
            # dvc.lock again for every target, twice over (0.3 s of the 1.3 s `ablate status` took).
            stages = study_records(repo, outs)
            if not stages:
                return {"status": "untracked", "reason": "no dvc.yaml stage or .dvc file records the study"}
            changed = [stage.addressing for stage in stages if stage.status()]
            if changed:
                return {"status": "not committed", "reason": f"changed since DVC recorded them: {', '.join(changed)}"}
            remote = repo.config["core"].get("remote")
            if not remote:
                return {"status": "committed", "reason": "no default remote"}
            used: set[Any] = set()
            for stage in stages:  # as `dvc status --cloud` gathers them: what a push would send
                for odb, objs in stage.get_used_objs(remote=remote, force=True, push=True).items():
                    used.update(objs if odb is None else ())  # an import's objects live elsewhere
            cloud = repo.cloud.status(used, remote=remote)
            missing = [*cloud.new, *cloud.deleted, *cloud.missing]
    except (DvcException, OSError) as err:  # OSError: a remote that cannot be read (not a folder, ...)
        return {"status": "unknown", "reason": one_line(err)}
    if missing:
        return {"status": "not pushed", "reason": f"{len(missing)} file(s) not on remote {remote!r}"}
    return {"status": "pushed", "reason": f"remote {remote!r}"}


def quiet_dvc(level_shown: int = logging.WARNING) -> contextlib.AbstractContextManager[None]:
    """DVC's library logs what its command line would print ("Updating lock file", hints to
    `git add`); ablate's own summary says what was synced."""
    return logger_held_at("dvc", level_shown)


def _push(repo: Any, targets: list[str], remote: str) -> int:
    from dvc.exceptions import DvcException

    try:
        return int(repo.push(targets=targets, remote=remote) or 0)
    except (DvcException, OSError) as err:
        url = repo.config["remote"].get(remote, {}).get("url", "?")
        raise SyncError(
            f"sync: cannot push to DVC remote {remote!r} ({url}): {one_line(err)}; the study's outputs "
            "and the DVC cache are intact, and the next successful run pushes what is missing"
        ) from None


def study_stages(repo: Any, outs: list[Path], steps: tuple[str, ...]) -> list[Any]:
    """The dvc.yaml stages named in ``steps`` whose outs lie in this study's folders."""
    chosen = []
    for stage in repo.index.stages:
        if getattr(stage, "name", None) not in steps:  # .dvc files are stages without a name
            continue
        paths = [Path(o.fs_path).resolve() for o in stage.outs]
        if paths and all(any(is_under(p, o) for o in outs) for p in paths):
            chosen.append(stage)
    return chosen


def study_records(repo: Any, outs: list[Path]) -> list[Any]:
    """What records the study in DVC: its dvc.yaml stages, and the .dvc files of its folders."""
    dvc_files = {p.with_name(p.name + ".dvc") for p in outs}
    added = [s for s in repo.index.stages if not getattr(s, "name", None) and Path(s.path).resolve() in dvc_files]
    return study_stages(repo, outs, STAGES) + added


def study_targets(repo: Any, outs: list[Path]) -> list[str]:
    """The addresses of :func:`study_records` (a stage's ``dvc.yaml:name``, a .dvc file's path)."""
    return [s.addressing for s in study_records(repo, outs)]


def _track_with_dvc_files(repo: Any, outs: list[Path], root: Path) -> list[str]:
    existing = [str(p.relative_to(root)) for p in outs if p.exists()]
    if existing:
        repo.add(existing)
    return [f"{path}.dvc" for path in existing]  # push by the .dvc files dvc add wrote


def _track_archives(repo: Any, params: Params, root: Path) -> list[str]:
    """Version the study's set-aside folders (once: they never change) and return their .dvc files."""
    archived = [p.resolve() for p in archived_studies(params)]
    new = [p for p in archived if not p.with_name(p.name + ".dvc").exists()]
    if new:
        repo.add([str(p.relative_to(root)) for p in new])
    return [f"{p.relative_to(root)}.dvc" for p in archived]


def _out_hash(repo: Any, path: Path) -> str | None:
    dvc_file = path.with_name(path.name + ".dvc")
    if dvc_file.exists():  # tracked by `dvc add` just now; the repo's index predates it
        import yaml

        outs = (yaml.safe_load(dvc_file.read_text()) or {}).get("outs") or [{}]
        return outs[0].get("md5")
    for stage in repo.index.stages:
        for out in stage.outs:
            if Path(out.fs_path).resolve() == path and out.hash_info:
                return out.hash_info.value
    return None


def is_under(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
        return True
    except ValueError:
        return False


def lock_hash(root: Path, out: str) -> str | None:
    """The hash ``dvc.lock`` records for ``out`` (a path relative to the repo), if any."""
    import yaml

    lock = root / "dvc.lock"
    if not lock.exists():
        return None
    data = yaml.safe_load(lock.read_text()) or {}
    for stage in (data.get("stages") or {}).values():
        for entry in stage.get("outs", []):
            if os.path.normpath(entry.get("path", "")) == os.path.normpath(out):
                return entry.get("md5") or entry.get("hash")
    return None


# ---------------------------------------------------------------------------------------------
# --set on a study that dvc.yaml records
