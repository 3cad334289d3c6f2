"""Where a result came from: code commit, library versions, host. Recorded with every trial."""

from __future__ import annotations

import platform
import subprocess
from importlib import metadata
from pathlib import Path

PACKAGES = ("ablate", "torch", "optuna", "prefect", "dask", "distributed", "numpy", "scikit-learn")


def collect_provenance(root: str | Path = ".") -> dict[str, object]:
    """Git commit and dirtiness of ``root``, Python and key library versions."""
    info: dict[str, object] = {"python": platform.python_version()}
    info.update(git_state(root))
    info["versions"] = {name: _version(name) for name in PACKAGES}
    return info


def git_state(root: str | Path = ".") -> dict[str, object]:
    try:
        commit = _git(root, "rev-parse", "HEAD")
        dirty = bool(_git(root, "status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.CalledProcessError):
        return {"git_commit": None, "git_dirty": None}
    return {"git_commit": commit, "git_dirty": dirty}


def _git(root: str | Path, *args: str) -> str:
    out = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=True, timeout=10)
    return out.stdout.strip()


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None
