"""Reading one section of a params file, so that every error can name the file and the key.

:class:`Reader` pops the keys it is asked for, checks each value's type and range, and says what
must hold and what it got; :meth:`Reader.done` rejects any key nobody asked for.
"""

from __future__ import annotations

import builtins
import difflib
import math
from collections.abc import Mapping, Sequence
from typing import Any, NoReturn

from ablate.errors import ConfigError


class Reader:
    def __init__(self, source: str, prefix: str, raw: Mapping[str, Any]) -> None:
        self.source, self.prefix, self.raw = source, prefix, dict(raw)
        self.known: list[str] = []  # keys asked for so far, to list them when one is unknown

    def key(self, name: object) -> str:
        # YAML keys need not be strings (`1:`, `null:`, `true:`); an error names them as written.
        plain = isinstance(name, str) and name.isprintable() and name.strip() == name != ""
        text = name if plain and isinstance(name, str) else repr(name)
        return f"{self.prefix}.{text}" if self.prefix else text

    def error(self, name: str, rule: str, got: Any) -> ConfigError:
        return ConfigError(self.source, self.key(name), f"{rule}, but got {describe_value(got)}")

    def get(self, name: str, default: Any) -> Any:
        self.known.append(name)
        return self.raw.pop(name, default)

    def section(self, name: str, required: bool = False) -> Reader:
        if required and name not in self.raw:
            raise ConfigError(self.source, self.key(name), "is required, but it is missing")
        value = self.get(name, None)
        if value is None:
            value = {}
        if not isinstance(value, dict):
            raise self.error(name, "must be a mapping", value)
        return Reader(self.source, self.key(name), value)

    def mapping(self, name: str) -> Mapping[str, Any]:
        """A mapping whose keys are names (of trial params): non-empty strings."""
        value = self.get(name, None)
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.error(name, "must be a mapping", value)
        self.check_names(name, value)
        return value

    def check_names(self, name: str, value: Mapping[Any, Any]) -> None:
        for k in value:
            if not isinstance(k, str) or not k:
                raise ConfigError(
                    self.source, self.key(name), f"must have names as keys, but got the key {describe_value(k)}"
                )

    def done(self) -> None:
        if self.raw:
            self.reject_unknown(next(iter(self.raw)), self.known)

    def reject_unknown(self, name: object, known: Sequence[str]) -> NoReturn:
        """A key nobody reads: name it, the closest known key (a typo is the usual cause), and the rest."""
        known = list(dict.fromkeys(known))
        where = f"of {self.prefix}" if self.prefix else "at the top level"
        close = difflib.get_close_matches(str(name), known, n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ConfigError(
            self.source, self.key(name), f"must be a known key {where} ({', '.join(known)}), but got {name!r}{hint}"
        )

    def str(self, name: str, default: str | None, check: Any, rule: str, allow_none: bool = False) -> Any:
        value = self.get(name, default)
        if value is None:
            if allow_none:
                return None
            raise ConfigError(self.source, self.key(name), f"is required ({rule}), but it is missing")
        if not isinstance(value, str) or not check(value):
            raise self.error(name, f"must be {rule}", value)
        return value

    def choice(
        self, name: builtins.str, choices: tuple[builtins.str, ...], default: builtins.str | None
    ) -> builtins.str:
        value = self.get(name, default)
        if value not in choices:
            if value is None:
                raise ConfigError(
                    self.source, self.key(name), f"is required (one of {', '.join(choices)}), but it is missing"
                )
            raise self.error(name, f"must be one of {', '.join(choices)}", value)
        return str(value)

    def bool(self, name: builtins.str, default: builtins.bool) -> builtins.bool:
        value = self.get(name, default)
        if not isinstance(value, bool):
            raise self.error(name, "must be true or false", value)
        return value

    def int(
        self,
        name: builtins.str,
        default: int | None,
        low: int | None = None,
        open_interval: builtins.bool = False,
        allow_none: builtins.bool = False,
    ) -> Any:
        value = self.get(name, default)
        if value is None:
            if allow_none:
                return None
            raise ConfigError(self.source, self.key(name), "is required (an integer), but it is missing")
        rule = "must be an integer" + _bound(low, None, open_interval)
        if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(name, rule, value)
        if low is not None and (value <= low if open_interval else value < low):
            raise self.error(name, rule, value)
        return value

    def float(
        self,
        name: builtins.str,
        default: builtins.float | None,
        low: builtins.float | None = None,
        high: builtins.float | None = None,
        open_interval: builtins.bool = False,
        allow_none: builtins.bool = False,
    ) -> Any:
        got = self.raw.get(name, default)
        value = self.get(name, default)
        if value is None:
            if allow_none:
                return None
            raise ConfigError(self.source, self.key(name), "is required (a number), but it is missing")
        value = _as_float(value)
        rule = "must be a number" + _bound(low, high, open_interval)
        if value is None or not math.isfinite(value):
            raise self.error(name, rule, got)
        if low is not None and (value <= low if open_interval else value < low):
            raise self.error(name, rule, value)
        if high is not None and (value >= high if open_interval else value > high):
            raise self.error(name, rule, value)
        return value


def _as_float(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):  # YAML 1.1 reads 1e-3 (no dot) as a string; accept it as a number
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _bound(low: float | None, high: float | None, open_interval: bool) -> str:
    lo, hi = ("> ", "< ") if open_interval else (">= ", "<= ")
    if low is not None and high is not None:
        return f" {lo.strip()} {low} and {hi.strip()} {high}"
    if low is not None:
        return f" {lo}{low}"
    if high is not None:
        return f" {hi}{high}"
    return ""


def describe_value(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return f"a {type(value).__name__} {value!r}"[:120]
    return f"{value!r} ({type(value).__name__})" if value is not None else "nothing (null)"
