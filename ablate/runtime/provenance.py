"""Where a run's results come from: the code's commit, Python and the key libraries' versions
(a :class:`~ablate.vocab.provenance.Provenance`, recorded with the run and every trial it runs)."""

from __future__ import annotations

import platform
import subprocess
from importlib import metadata
from pathlib import Path

from ablate.vocab.provenance import Provenance

PACKAGES = ("ablate", "torch", "optuna", "prefect", "dask", "distributed", "numpy", "scikit-learn")


def collect_provenance(root: str | Path = ".") -> Provenance:
    """Git commit and dirtiness of ``root``, Python and key library versions."""
    commit, dirty = git_state(root)
    versions = {name: _version(name) for name in PACKAGES}
    return Provenance(python=platform.python_version(), git_commit=commit, git_dirty=dirty, versions=versions)


def git_state(root: str | Path = ".") -> tuple[str | None, bool | None]:
    """The commit checked out in ``root``, and whether tracked files changed since (None, None
    outside a git repository)."""
    try:
        commit = _git(root, "rev-parse", "HEAD")
        dirty = bool(_git(root, "status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.CalledProcessError):
        return None, None
    return commit, dirty


def _git(root: str | Path, *args: str) -> str:
    out = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=True, timeout=10)
    return out.stdout.strip()


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None
