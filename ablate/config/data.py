"""The ``data`` section: one source (``data.source``), or several (``data.sources``: a name for
each) that an ablation runs on one after another, with the same target and split keys."""

from __future__ import annotations

from pathlib import Path

from ablate._reader import Reader
from ablate.errors import ConfigError
from ablate.vocab.params import BUILTIN_SOURCES, TASKS, DataConfig, Params

_SOURCE_RULE_SHORT = "sklearn:<name> or a path to a .csv/.parquet file"
_SOURCE_RULE = f"must be one of {', '.join(BUILTIN_SOURCES)} or a .csv/.parquet path"


def parse_data(r: Reader) -> DataConfig:
    if "source" in r.raw and "sources" in r.raw:
        rule = "must not be given with data.source (one data set, or several by name), but both are"
        raise ConfigError(r.source, r.key("sources"), rule)
    sources = _parse_sources(r) if "sources" in r.raw else ()
    cfg = DataConfig(
        source="" if sources else r.str("source", None, check=bool, rule=_SOURCE_RULE_SHORT),
        target=r.str("target", DataConfig.target, check=bool, rule="a column name"),
        test_size=r.float("test_size", DataConfig.test_size, low=0.0, high=1.0, open_interval=True),
        val_size=r.float("val_size", DataConfig.val_size, low=0.0, high=1.0, open_interval=True),
        task=r.choice("task", TASKS, DataConfig.task),
        sources=sources,
    )
    if not sources and not _is_source(cfg.source):
        raise r.error("source", _SOURCE_RULE, cfg.source)
    r.done()
    return cfg


MIN_SOURCES = 2  # the ranks across data sets (Friedman's test) need 2 or more


def check_sources(params: Params) -> None:
    """Several data sets are an ablation's, with a configuration as its baseline (for now: with
    no search, ``baseline: best`` is refused where the ablation is read)."""
    sources, where = params.data.sources, params.source
    if not sources:
        return
    if len(sources) < MIN_SOURCES:
        raise ConfigError(
            where,
            "data.sources",
            f"must name {MIN_SOURCES} or more data sets (the ranks across data sets, Friedman's test, need 2 or "
            f"more, and 3 or more arms; the critical-difference diagram is meaningful from about 5), but got "
            f"{len(sources)}; for one, write data.source",
        )
    if params.ablation is None:
        raise ConfigError(where, "data.sources", "needs an ablation: section (the data sets are ablated), but got none")
    if params.search is not None:
        raise ConfigError(
            where, "search", "must not be given with data.sources (the baseline is a configuration), but it is given"
        )


def _parse_sources(r: Reader) -> tuple[tuple[str, str], ...]:
    raw = r.get("sources", None)
    if not isinstance(raw, dict) or not raw:
        raise r.error("sources", "must be a mapping of a name to a source, e.g. {digits: sklearn:digits}", raw)
    names = Reader(r.source, r.key("sources"), raw)
    out = []
    for name in list(raw):
        if not isinstance(name, str) or not _is_name(name):
            raise names.error(str(name), "must be named with letters, digits, '-', '_' or '.'", name)
        source = names.get(name, None)
        if not isinstance(source, str) or not _is_source(source):
            raise names.error(name, _SOURCE_RULE, source)
        out.append((name, source))
    return tuple(out)


def _is_source(source: str) -> bool:
    if source.startswith("sklearn:"):
        return source in BUILTIN_SOURCES
    return Path(source).suffix.lower() in (".csv", ".parquet")


def _is_name(name: str) -> bool:
    return bool(name) and all(c.isalnum() or c in "-_." for c in name)
