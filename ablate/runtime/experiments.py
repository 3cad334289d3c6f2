"""A scheduled run's record as a DVC experiment, so that ``dvc exp show`` lists the runs.

After a run's sync step the study's outputs are in the DVC cache, recorded by its ``dvc.yaml``
stages (``dvc.lock``) or its ``.dvc`` files. ``dvc exp save`` then keeps that state (those
records, the study's metrics, the code as checked out) as an experiment: a git ref under
``refs/exps/``, beside the branch, which it leaves alone, as it leaves the working tree. Each
night is one experiment, named after the study and the run's scheduled time; `dvc exp show`
lists them with their metrics, and `dvc exp apply NAME` (then `dvc checkout`) brings one back.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from ablate.errors import one_line
from ablate.runtime.dvc import find_repo_root, is_under, quiet_dvc, study_outputs, study_targets
from ablate.vocab.params import Params


@dataclass(frozen=True)
class ExperimentRecord:
    status: str  # "saved" | "skipped"
    name: str | None = None
    rev: str | None = None  # the experiment's git commit
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def describe(self) -> str:
        if self.status == "saved":
            return f"{self.name} saved ({(self.rev or '')[:7]}; dvc exp show)"
        return f"skipped ({self.reason})"


def experiment_name(study: str, when: datetime) -> str:
    """``<study>-<YYYYMMDD>-<HHMMSS>`` (UTC): a git ref name, as DVC wants experiment names. A
    scheduled run tried again keeps its scheduled time, and so replaces its own experiment."""
    return f"{study}-{when.astimezone(UTC):%Y%m%d-%H%M%S}"


def save_experiment(params: Params, name: str, message: str = "") -> ExperimentRecord:
    """Record the state of ``params``'s study as the DVC experiment ``name`` (replacing one of
    that name). Call after the run's sync: what DVC records is what the experiment keeps."""
    root = find_repo_root()
    if root is None:
        return ExperimentRecord("skipped", reason="not inside a DVC repository")
    outs = [p.resolve() for p in study_outputs(params)]
    if not all(is_under(p, root) for p in outs):
        return ExperimentRecord("skipped", reason=f"the study's outputs are outside the DVC repository {root}")
    from dvc.exceptions import DvcException
    from dvc.repo import Repo

    try:
        with quiet_dvc(), Repo(str(root)) as repo:
            if not (root / ".git").exists() or repo.scm.no_commits:
                return ExperimentRecord("skipped", reason=f"{root} is not a git repository with a commit")
            targets = [os.path.relpath(t, root) if os.path.isabs(t) else t for t in study_targets(repo, outs)]
            if not targets:
                return ExperimentRecord("skipped", reason="no dvc.yaml stage or .dvc file records the study")
            untracked = set(repo.scm.untracked_files())
            # A study outside dvc.yaml: its .dvc files, which git may not track yet, go into the
            # experiment's commit (not into the branch or the index).
            include = [t for t in targets if t.endswith(".dvc") and t in untracked]
            rev = repo.experiments.save(
                targets=targets, name=name, force=True, include_untracked=include, message=message or None
            )
    except DvcException as err:
        return ExperimentRecord("skipped", name, reason=f"dvc exp save failed: {one_line(err)}")
    return ExperimentRecord("saved", name, rev)
