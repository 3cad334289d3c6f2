"""The steps of a study, each by the one name it has in ``dvc.yaml``, in ``tasks/`` and ``flows/``,
and as a subcommand of ``ablate``."""

from __future__ import annotations

PREPARE, SEARCH, ABLATION, SYNC, ANALYZE = "prepare", "search", "ablation", "sync", "analyze"
STEPS = (PREPARE, SEARCH, ABLATION, SYNC, ANALYZE)  # in the order a run takes them
STAGES = (PREPARE, SEARCH, ABLATION, ANALYZE)  # those that are dvc.yaml stages (sync is DVC's own work)
