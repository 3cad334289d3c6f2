"""ablate: reproducible ablation studies and hyperparameter optimization.

This package is the domain logic (configuration, data, search space, trials, models, reports).
It never imports Prefect: orchestration lives in the top-level ``tasks`` and ``flows`` packages.
"""

from __future__ import annotations

from ablate.errors import (
    AblateError,
    ConfigError,
    DataError,
    NoTrialCompletedError,
    TrialError,
    TrialTimeoutError,
)

__version__ = "0.1.0"

__all__ = [
    "AblateError",
    "ConfigError",
    "DataError",
    "NoTrialCompletedError",
    "TrialError",
    "TrialTimeoutError",
    "__version__",
]
