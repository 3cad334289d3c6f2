"""What one run of a study did (executed, cached, timings, sync), kept with the study for its report."""

from __future__ import annotations

import json
import os
from typing import Any

from ablate.config.schema import Params

LAST_RUN = "last_run.json"


def write_last_run(params: Params, run: dict[str, Any]) -> None:
    """Keep what the last search did (executed, cached, ...) with the study, for its report."""
    path = params.study_dir / LAST_RUN
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(run, indent=2, sort_keys=True, default=str) + "\n")
    os.replace(tmp, path)


def read_last_run(params: Params) -> dict[str, Any]:
    try:
        return json.loads((params.study_dir / LAST_RUN).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {"executed": 0, "cached": 0, "recovered": 0, "requeued": 0}
