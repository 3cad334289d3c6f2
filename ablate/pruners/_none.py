from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ablate._reader import Reader, describe_value
from ablate.errors import ConfigError

if TYPE_CHECKING:
    import optuna


class NoPruning:
    def read(self, r: Reader) -> dict[str, Any]:
        if r.raw:
            raise ConfigError(
                r.source, r.prefix, f"must be empty when search.pruner is none, but got {describe_value(r.raw)}"
            )
        return {}

    def make(self, options: dict[str, Any]) -> optuna.pruners.BasePruner:
        import optuna

        return optuna.pruners.NopPruner()
