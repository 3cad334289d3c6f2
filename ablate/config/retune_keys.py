"""``ablation.retune``, the keys of a re-tuned ablation (see :mod:`ablate.ablation.retune`)."""

from __future__ import annotations

from collections.abc import Collection

from ablate._reader import Reader
from ablate.errors import ConfigError
from ablate.samplers import NAMES as SAMPLER_NAMES
from ablate.vocab.ablation import RetuneConfig


def parse_retune(r: Reader, policy: str, space_names: Collection[str] | None) -> RetuneConfig | None:
    if r.raw.get("retune") is None:
        r.get("retune", None)
        return None
    if space_names is None:
        raise ConfigError(
            r.source,
            r.key("retune"),
            "needs a search: section in the same file (its space is what each arm re-tunes), but the file has none",
        )
    if policy == "path":
        raise r.error("retune", "is not for policy path (its arms follow the fixed analysis's steps)", policy)
    t = r.section("retune")
    cfg = RetuneConfig(
        n_trials=t.int("n_trials", None, low=1),
        sampler=t.choice("sampler", SAMPLER_NAMES, None) if "sampler" in t.raw else None,
    )
    t.done()
    return cfg


def check_retune(
    r: Reader, retune: RetuneConfig | None, tuned_knobs: Collection[str], space_names: Collection[str] | None
) -> None:
    """Some searched knob must be left to re-tune once the components' params are held."""
    if retune is None or space_names is None:
        return
    if not tuned_knobs:
        raise ConfigError(
            r.source,
            r.key("retune"),
            f"needs a searched knob that no component sets, but the components set every knob of search.space "
            f"({', '.join(space_names)}): nothing is left to re-tune",
        )
