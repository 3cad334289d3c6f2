"""Building small studies for the integration tests."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
DEFAULT_PARAMS = REPO / "params" / "digits.yaml"


def deep_update(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_update(out[key], value)
        else:
            out[key] = value
    return out


def write_params(root: Path, name: str, changes: dict[str, Any]) -> Path:
    """A params file under ``root`` derived from params/digits.yaml, outputs under ``root``."""
    raw = yaml.safe_load(DEFAULT_PARAMS.read_text())
    raw = deep_update(
        raw, {"study": {"name": name}, "paths": {"data": str(root / "data"), "reports": str(root / "reports")}}
    )
    raw = deep_update(raw, changes)
    path = root / f"{name}.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


def quick_study(**search: Any) -> dict[str, Any]:
    """Changes that swap the MLP for the fast stand-in objective over one knob x."""
    return {
        "trial": {"entrypoint": "tests.flows.trial_fns:quick", "options": {"sleep": 0.0}},
        "search": {
            "sampler": "random",
            "n_trials": 4,
            "space": {"x": {"type": "float", "low": 0.0, "high": 1.0}},
            **search,
        },
        "execution": {"workers": 2, "retries": 0, "retry_delay_s": 0.0, "trial_timeout_s": 60},
    }
