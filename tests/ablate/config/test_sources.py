"""data.sources: several data sets for one ablation, and what is refused with them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ablate.config.load import parse_params
from ablate.errors import ConfigError


def raw(**changes: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "study": {"name": "tricks", "seed": 0},
        "data": {"sources": {"digits": "sklearn:digits", "wine": "sklearn:wine", "iris": "sklearn:iris"}},
        "trial": {"options": {"epochs": 2, "batchnorm": True}},
        "ablation": {"baseline": {}, "components": {"batchnorm": {"params": {"batchnorm": False}}}},
    }
    for section, value in changes.items():
        if value is None:
            params.pop(section)
        else:
            params[section] = {**params.get(section, {}), **value}
    return params


def test_each_data_set_is_the_study_on_that_source_in_folders_of_its_name() -> None:
    p = parse_params(raw(), "p.yaml")
    assert p.data.source == "" and [name for name, _ in p.data.sources] == ["digits", "wine", "iris"]
    views = p.datasets
    assert list(views) == ["digits", "wine", "iris"]
    wine = views["wine"]
    assert wine.data.source == "sklearn:wine" and wine.data.sources == () and wine.dataset == "wine"
    assert wine.prepared_dir == Path("data/prepared/tricks/wine")
    assert wine.ablation_dir == Path("data/ablations/tricks/wine")
    assert wine.report_dir == p.report_dir == Path("reports/tricks")  # one report across them
    one = raw()
    one["data"] = {"source": "sklearn:wine"}
    single = parse_params(one, "p.yaml")
    assert single.datasets == {} and single.prepared_dir == Path("data/prepared/tricks")


@pytest.mark.parametrize(
    ("changes", "key", "message"),
    [
        ({"data": {"source": "sklearn:wine"}}, "data.sources", "must not be given with data.source"),
        ({"data": {"sources": {"digits": "sklearn:digits"}}}, "data.sources", "must name 2 or more data sets"),
        ({"data": {"sources": {"a": "sklearn:nope", "b": "sklearn:wine"}}}, "data.sources.a", "must be one of"),
        ({"data": {"sources": {"a b": "sklearn:digits", "c": "sklearn:wine"}}}, "data.sources.a b", "must be named"),
        ({"data": {"sources": []}}, "data.sources", "must be a mapping of a name to a source"),
        ({"ablation": {"baseline": "best"}, "search": {"n_trials": 2, "space": {"lr": [0.1, 0.2]}}}, "search", ""),
        ({"ablation": {"baseline": "best"}}, "ablation.baseline", "may be best only with a search section"),
    ],
)
def test_what_is_refused_with_several_sources(changes: dict[str, Any], key: str, message: str) -> None:
    params = raw()
    for section, value in changes.items():
        params[section] = {**params.get(section, {}), **value} if isinstance(value, dict) else value
    if "sources" in changes.get("data", {}):
        params["data"]["sources"] = changes["data"]["sources"]
    with pytest.raises(ConfigError) as info:
        parse_params(params, "p.yaml")
    text = str(info.value)
    assert text.startswith(f"p.yaml: {key}: ") and message in text, text
    assert "\n" not in text
