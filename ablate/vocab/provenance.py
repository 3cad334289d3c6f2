"""Where results came from, as two frozen records with one JSON each.

- :class:`Provenance`, a run's: Python, the code's git commit, the key libraries' versions, and
  the search's settings in words (its sampler with why ``auto`` chose it, its pruner, ...).
  ``run.json`` holds it, every trial of the run carries it, and the report shows it.
- :class:`TrialProvenance`, a trial's: its run's, and what that trial ran with (its seed, the
  data's and the code's versions, the device, torch's threads). ``result.json`` holds it.

Their JSON is flat (a trial's: its run's keys beside its own), as it was when these were dicts,
so the results of earlier runs read as they did; a record read from a file writes back exactly as
it was read (a cached trial's result.json is copied so), keys it lacked still lacking.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

_ENVIRONMENT = ("python", "git_commit", "git_dirty", "versions")


@dataclass(frozen=True)
class Provenance:
    """A run's provenance: the code and its environment, and the search's settings."""

    python: str | None = None
    git_commit: str | None = None
    git_dirty: bool | None = None  # changes to tracked files not committed
    versions: Mapping[str, str | None] = field(default_factory=dict)  # of ablate, torch, optuna, ...
    # The search's settings, by name: sampler, pruner, and seeds, timeout_s, enqueue and
    # constraints where set, in words (ablate.study.session.describe_search); trials_per_gpu.
    settings: Mapping[str, str | int] = field(default_factory=dict)
    recorded: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)  # as read

    @property
    def commit(self) -> str | None:
        """The commit as a trials table shows it: 12 hex digits, ``-dirty`` with uncommitted changes."""
        if not self.git_commit:
            return None
        return f"{self.git_commit[:12]}{'-dirty' if self.git_dirty else ''}"

    def with_settings(self, settings: Mapping[str, str | int]) -> Provenance:
        return replace(self, settings={**self.settings, **settings}, recorded=None)

    def to_dict(self) -> dict[str, Any]:
        if self.recorded is not None:
            return dict(self.recorded)
        return {
            "python": self.python,
            "git_commit": self.git_commit,
            "git_dirty": self.git_dirty,
            "versions": dict(self.versions),
            **self.settings,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Provenance:
        _check_mapping(d)
        return cls(
            python=d.get("python"),
            git_commit=d.get("git_commit"),
            git_dirty=d.get("git_dirty"),
            versions=dict(d.get("versions") or {}),
            settings={str(k): v for k, v in d.items() if k not in _ENVIRONMENT},
            recorded=dict(d),
        )


_TRIAL = ("torch_threads", "params_hash", "data_hash", "code_version", "seed", "device")


@dataclass(frozen=True)
class TrialProvenance:
    """A trial's provenance: its run's (None where the run recorded none), and its own. A trial
    run now records every field; one read from an earlier run's file may lack some (None)."""

    run: Provenance | None
    torch_threads: int | None = None  # torch's intra-op threads in the trial (None: torch not imported)
    params_hash: str | None = None
    data_hash: str | None = None
    code_version: str | None = None
    seed: int | None = None
    device: str | None = None
    recorded: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)  # as read

    def to_dict(self) -> dict[str, Any]:
        if self.recorded is not None:
            return dict(self.recorded)
        own = {k: getattr(self, k) for k in _TRIAL}
        return {**(self.run.to_dict() if self.run is not None else {}), **own}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> TrialProvenance:
        _check_mapping(d)
        rest = {k: v for k, v in d.items() if k not in _TRIAL}
        return cls(
            run=Provenance.from_dict(rest) if rest else None,
            **{k: d.get(k) for k in _TRIAL},
            recorded=dict(d),
        )


def _check_mapping(d: Any) -> None:
    if not isinstance(d, Mapping):
        raise TypeError(f"a provenance record must be a mapping, but got {type(d).__name__}")
