"""Property-based tests of the params schema: any mutation of a real params file is either a
valid study or one ConfigError line naming the file and a key; never another exception."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ablate.config.load import load_params, parse_params
from ablate.errors import ConfigError
from ablate.vocab.params import Params
from flows.cli import validate

ROOT = Path(__file__).resolve().parents[3]
FILES = ["params/digits.yaml", "params/digits-ablation.yaml", "params/digits-conditional.yaml"]
RAW = {name: yaml.safe_load((ROOT / name).read_text()) for name in FILES}

# Examples hypothesis found, kept as regression tests: (file, change to its raw YAML, key named).
FOUND = [
    ("params/digits.yaml", lambda raw: raw.update({None: None}), "None"),  # was named as no key
    ("params/digits.yaml", lambda raw: raw.update({"": 1}), "''"),
    ("params/digits.yaml", lambda raw: raw["study"].update({"\n": None}), "study.'\\n'"),  # was two lines
    # was a TypeError (a non-string option key, joined into the known params of a component)
    ("params/digits-ablation.yaml", lambda raw: raw["trial"].update({"options": {0: None}}), "trial.options"),
    ("params/digits.yaml", lambda raw: raw["search"]["space"].update({1: [1, 2]}), "search.space"),
]


@pytest.mark.parametrize(("name", "change", "key"), FOUND)
def test_found_examples_are_one_config_error_line(name: str, change: Any, key: str) -> None:
    raw = copy.deepcopy(RAW[name])
    change(raw)
    with pytest.raises(ConfigError) as caught:
        parse_params(raw, name)
    assert_one_line_naming_file_and_key(caught.value, name)
    assert caught.value.key == key


# What a YAML file can hold: scalars of every type YAML reads (and a few that are edge cases for
# the rules: negatives, zero, huge, non-finite, empty strings), and lists and mappings of them.
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, -1, 1, 2**53 + 1, -0.0]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["", " ", "best", "tpe", "grid", "float", "int", "categorical", "1e-3", "nan", "sklearn:x"]),
    st.text(max_size=8),
)
keys = st.one_of(st.text(max_size=6), st.integers(-3, 3), st.none(), st.booleans(), st.sampled_from(["type", "low"]))
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(keys, inner, max_size=3)),
    max_leaves=6,
)


def paths_of(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path of a YAML tree (mapping keys and list indices)."""
    out = []
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for k, v in items:
        out.append((*prefix, k))
        out.extend(paths_of(v, (*prefix, k)))
    return out


def parent_of(raw: Any, path: tuple[Any, ...]) -> Any:
    for part in path[:-1]:
        raw = raw[part]
    return raw


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, Any]:
    """A params file with one to three random mutations."""
    name = draw(st.sampled_from(FILES))
    raw = copy.deepcopy(RAW[name])
    for _ in range(draw(st.integers(1, 3))):
        paths = paths_of(raw)
        if not paths or not isinstance(raw, dict):
            break
        path = draw(st.sampled_from(paths))
        parent = parent_of(raw, path)
        kind = draw(st.sampled_from(["delete", "replace", "add_key", "replace_section"]))
        if kind == "delete":
            del parent[path[-1]]
        elif kind == "replace":
            parent[path[-1]] = draw(values)
        elif kind == "add_key" and isinstance(parent, dict):
            parent[draw(keys)] = draw(values)
        else:  # a whole section (top-level key) becomes garbage
            raw[path[0]] = draw(values)
    return name, raw


def assert_one_line_naming_file_and_key(err: ConfigError, source: str) -> None:
    message = str(err)
    assert "\n" not in message and "Traceback" not in message, message
    assert message.startswith(f"{source}: "), message
    assert err.key and f": {err.key}: " in message, message


def check(raw: Any, source: str) -> None:
    try:
        params = parse_params(raw, source, default_name="study")
    except ConfigError as err:
        assert_one_line_naming_file_and_key(err, source)
    else:
        assert isinstance(params, Params)
        params.to_dict()  # what the fingerprint and --set checks read


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_any_mutation_parses_or_is_one_config_error_line(case: tuple[str, Any]) -> None:
    name, raw = case
    check(raw, name)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=mutated())
def test_any_mutation_through_the_files_and_validate_is_one_line(tmp_path: Path, case: tuple[str, Any]) -> None:
    # Through the command's validation path: YAML on disk, then the data and entrypoint checks.
    name, raw = case
    path = tmp_path / Path(name).name
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    try:
        validate(str(path), [])
    except ConfigError as err:
        message = str(err)
        assert "\n" not in message and message.startswith(f"{path}: "), message


@settings(max_examples=400, deadline=None)
@given(
    name=st.sampled_from(FILES),
    key=st.sampled_from([".".join(map(str, p)) for f in FILES for p in paths_of(RAW[f])] + ["study.x.y", "new"]),
    value=values,
)
def test_any_set_override_parses_or_is_one_config_error_line(name: str, key: str, value: Any) -> None:
    item = f"{key}={yaml.safe_dump(value, default_flow_style=True, width=10**6).strip().removesuffix('...').strip()}"
    try:
        load_params(ROOT / name, [item])
    except ConfigError as err:
        message = str(err)
        assert "\n" not in message and message.startswith(str(ROOT / name)), message
        assert err.key, message
