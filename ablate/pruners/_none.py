from __future__ import annotations

from typing import Any

import optuna

from ablate._reader import Reader, describe_value
from ablate.errors import ConfigError


class NoPruning:
    def read(self, r: Reader) -> dict[str, Any]:
        if r.raw:
            raise ConfigError(
                r.source, r.prefix, f"must be empty when search.pruner is none, but got {describe_value(r.raw)}"
            )
        return {}

    def make(self, options: dict[str, Any]) -> optuna.pruners.BasePruner:
        return optuna.pruners.NopPruner()
