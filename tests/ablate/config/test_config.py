"""Unit tests for ablate.config (params files -> frozen configs) and the edge checks
data.check_source / trial.check_entrypoint, which raise ConfigError like the loader does."""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from ablate.config.load import load_params, parse_params
from ablate.data import check_source
from ablate.errors import ConfigError
from ablate.trial.entrypoint import check_entrypoint
from ablate.vocab.ablation import AblationConfig
from ablate.vocab.knobs import CategoricalParam, FloatParam, IntParam
from ablate.vocab.params import DataConfig, ExecutionConfig, PathsConfig, ReportConfig, SearchConfig
from ablate.vocab.seed_plan import SeedPlan

ROOT = Path(__file__).resolve().parents[3]
DEFAULT = ROOT / "params" / "digits.yaml"


def default_raw() -> dict[str, Any]:
    return yaml.safe_load(DEFAULT.read_text())


def write_params(tmp_path: Path, raw: dict[str, Any] | None = None, text: str | None = None) -> Path:
    path = tmp_path / "study.yaml"
    path.write_text(text if text is not None else yaml.safe_dump(raw, sort_keys=False))
    return path


def config_error(path: Path, overrides: list[str] | tuple[str, ...] = ()) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_params(path, overrides)
    return info.value


def assert_names(err: ConfigError, path: Path, key: str) -> str:
    """The message is one line, starts with the file and names the dotted key."""
    msg = str(err)
    assert "\n" not in msg, msg
    assert err.key == key, msg
    assert msg.startswith(f"{path}: {key}: "), msg
    return msg


# ---------------------------------------------------------------------------------------------
# The default study


def test_default_params_file_loads() -> None:
    p = load_params(DEFAULT)
    assert p.source == str(DEFAULT)
    assert (p.study.name, p.study.seed, p.study.metric, p.study.direction) == ("digits", 0, "val_accuracy", "maximize")
    assert p.data.source == "sklearn:digits" and p.data.target == "target"
    assert (p.data.test_size, p.data.val_size, p.data.task) == (0.2, 0.2, "auto")
    assert p.trial.entrypoint == "ablate.models.mlp:train"
    assert p.trial.options == {"epochs": 20}
    assert (p.search.sampler, p.search.n_trials) == ("tpe", 24)
    assert [k.name for k in p.search.space] == [
        "hidden_layers",
        "hidden_units",
        "activation",
        "dropout",
        "batchnorm",
        "lr",
        "weight_decay",
        "batch_size",
    ]
    knobs = {k.name: k for k in p.search.space}
    assert knobs["hidden_layers"] == IntParam("hidden_layers", 1, 3)
    assert knobs["hidden_units"] == IntParam("hidden_units", 32, 256, log=True)
    assert knobs["activation"] == CategoricalParam("activation", ("relu", "tanh", "gelu"))
    assert knobs["batchnorm"] == CategoricalParam("batchnorm", (False, True))
    assert knobs["lr"] == FloatParam("lr", 1e-4, 3e-2, log=True)
    assert knobs["batch_size"] == CategoricalParam("batch_size", (32, 64, 128))
    ex = p.execution
    assert (ex.workers, ex.address, ex.retries, ex.retry_delay_s, ex.trial_timeout_s, ex.queue_ahead, ex.device) == (
        2,
        None,
        2,
        1.0,
        300.0,
        1,
        "auto",
    )
    assert (p.paths.data, p.paths.reports) == ("data", "reports")
    assert p.study_dir == Path("data/studies/digits")
    assert p.prepared_dir == Path("data/prepared/digits")
    assert p.cache_dir == Path("data/cache")
    assert p.report_dir == Path("reports/digits")


def test_params_are_frozen() -> None:
    p = load_params(DEFAULT)
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.search.n_trials = 3  # type: ignore[misc]


def test_to_dict_round_trips_through_yaml(tmp_path: Path) -> None:
    p = load_params(DEFAULT)
    d = p.to_dict()
    assert d.pop("source") == str(DEFAULT)
    assert parse_params(copy.deepcopy(d), p.source) == p
    path = write_params(tmp_path, d)
    assert dataclasses.replace(load_params(path), source=p.source) == p


def test_study_name_defaults_to_the_file_stem(tmp_path: Path) -> None:
    raw = default_raw()
    del raw["study"]["name"]
    path = tmp_path / "my-study.yaml"
    path.write_text(yaml.safe_dump(raw))
    assert load_params(path).study.name == "my-study"


def test_int_written_as_whole_float_is_an_int(tmp_path: Path) -> None:
    raw = default_raw()
    raw["search"]["n_trials"] = 10.0
    n = load_params(write_params(tmp_path, raw)).search.n_trials
    assert n == 10 and type(n) is int


def test_yaml_11_exponent_without_dot_is_a_float(tmp_path: Path) -> None:
    text = (
        DEFAULT.read_text()
        .replace(
            "lr: {type: float, low: 1.0e-4, high: 3.0e-2, log: true}",
            "lr: {type: float, low: 1e-5, high: 1e-1, log: true}",
        )
        .replace("test_size: 0.2", "test_size: 2e-1")
    )
    # PyYAML (YAML 1.1) reads these as strings; the loader must still take them for numbers.
    raw = yaml.safe_load(text)
    assert raw["search"]["space"]["lr"]["low"] == "1e-5"
    assert raw["data"]["test_size"] == "2e-1"
    p = load_params(write_params(tmp_path, text=text))
    lr = {k.name: k for k in p.search.space}["lr"]
    assert (lr.low, lr.high) == (1e-5, 1e-1)
    assert type(lr.low) is float and type(lr.high) is float
    assert p.data.test_size == 0.2 and type(p.data.test_size) is float
    # ... and the same through an override
    lr = {k.name: k for k in load_params(DEFAULT, ["search.space.lr.low=1e-6"]).search.space}["lr"]
    assert lr.low == 1e-6 and type(lr.low) is float


# ---------------------------------------------------------------------------------------------
# --set overrides


def test_overrides_int_float_list_and_nested_key() -> None:
    p = load_params(
        DEFAULT,
        [
            "search.n_trials=5",
            "data.test_size=0.3",
            "search.space.activation=[relu, tanh]",
            "search.space.lr.high=0.1",
            "study.seed=7",
            "trial.options.epochs=3",
            "paths.data=/tmp/somewhere",
        ],
    )
    assert p.search.n_trials == 5 and type(p.search.n_trials) is int
    assert p.data.test_size == 0.3
    knobs = {k.name: k for k in p.search.space}
    assert knobs["activation"] == CategoricalParam("activation", ("relu", "tanh"))
    assert knobs["lr"] == FloatParam("lr", 1e-4, 0.1, log=True)
    assert p.study.seed == 7
    assert p.trial.options == {"epochs": 3}
    assert p.paths.data == "/tmp/somewhere"
    # Only what was overridden changed.
    base = load_params(DEFAULT)
    assert p.execution == base.execution and p.study.name == base.study.name
    assert knobs["dropout"] == {k.name: k for k in base.search.space}["dropout"]


def test_monitor_system_is_off_unless_asked() -> None:
    assert load_params(DEFAULT).execution.monitor_system is False
    assert load_params(DEFAULT, ["execution.monitor_system=true"]).execution.monitor_system is True


def test_later_override_wins() -> None:
    assert load_params(DEFAULT, ["search.n_trials=5", "search.n_trials=6"]).search.n_trials == 6


def test_override_value_may_contain_equals_sign() -> None:
    p = load_params(DEFAULT, ["execution.address=tcp://host:8786?a=b"])
    assert p.execution.address == "tcp://host:8786?a=b"


def test_override_does_not_touch_the_file(tmp_path: Path) -> None:
    path = write_params(tmp_path, default_raw())
    before = path.read_text()
    load_params(path, ["search.n_trials=3"])
    assert path.read_text() == before
    assert load_params(path).search.n_trials == 24


def test_override_breaking_a_rule_names_the_override() -> None:
    err = config_error(DEFAULT, ["search.n_trials=0"])
    assert str(err) == (
        f"{DEFAULT} (--set search.n_trials=0): search.n_trials: must be an integer >= 1, but got 0 (int)"
    )
    assert err.key == "search.n_trials"


def test_override_of_unknown_key_is_an_error() -> None:
    err = config_error(DEFAULT, ["search.n_trail=3"])
    msg = str(err)
    assert err.key == "search.n_trail" and "\n" not in msg
    assert msg.startswith(f"{DEFAULT} (--set search.n_trail=3): search.n_trail: ")
    assert "known key of search" in msg and "but got 'n_trail'" in msg


@pytest.mark.parametrize("item", ["search.n_trials", "search.n_trials 3", "=3", ""])
def test_override_without_equals_sign_is_an_error(item: str) -> None:
    err = config_error(DEFAULT, [item])
    msg = assert_names(err, DEFAULT, "--set")
    assert "KEY=VALUE" in msg and repr(item) in msg


def test_override_below_a_scalar_is_an_error() -> None:
    err = config_error(DEFAULT, ["study.name.first=x"])
    msg = str(err)
    assert err.key == "study.name" and "\n" not in msg and msg.startswith(str(DEFAULT))
    assert "not a section" in msg


def test_override_into_an_empty_section(tmp_path: Path) -> None:
    # `trial:` with nothing under it is a valid, empty section (defaults apply) ...
    raw = default_raw()
    raw["trial"] = None
    path = write_params(tmp_path, raw)
    assert load_params(path).trial.options == {}
    # ... so a --set into it must work as it does for a missing section.
    p = load_params(path, ["trial.options.epochs=3"])
    assert p.trial.options == {"epochs": 3}


# ---------------------------------------------------------------------------------------------
# Bad input: one line, naming the file and the dotted key


def _set(path: str, value: Any):
    def mutate(raw: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node = raw
        for part in parents:
            node = node[part]
        node[last] = value

    return mutate


def _delete(path: str):
    def mutate(raw: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node = raw
        for part in parents:
            node = node[part]
        del node[last]

    return mutate


def _grid(space: dict[str, Any], n_trials: int):
    def mutate(raw: dict[str, Any]) -> None:
        raw["search"] = {"sampler": "grid", "n_trials": n_trials, "space": space}

    return mutate


def _search(sampler: str, space: dict[str, Any], n_trials: int = 2):
    def mutate(raw: dict[str, Any]) -> None:
        raw["search"] = {"sampler": sampler, "n_trials": n_trials, "space": space}

    return mutate


def _pruner(name: str, options: dict[str, Any]):
    def mutate(raw: dict[str, Any]) -> None:
        raw["search"] |= {"pruner": name, "pruner_options": options}

    return mutate


def _knob(name: str, knob: Any, first: bool = False):
    """Add a knob at the end of the space (or at its start)."""

    def mutate(raw: dict[str, Any]) -> None:
        space = raw["search"]["space"]
        raw["search"]["space"] = {name: knob, **space} if first else {**space, name: knob}

    return mutate


def _study(**changes: Any):
    def mutate(raw: dict[str, Any]) -> None:
        raw["study"] |= changes

    return mutate


def _when(condition: Any, first: bool = False):
    return _knob("momentum", {"type": "float", "low": 0.5, "high": 0.99, "when": condition}, first)


# A complete configuration of the default space, for search.enqueue.
BASELINE = {
    "hidden_layers": 2,
    "hidden_units": 128,
    "activation": "relu",
    "dropout": 0.0,
    "batchnorm": False,
    "lr": 1e-3,
    "weight_decay": 1e-5,
    "batch_size": 64,
}


def _enqueue(*configs: dict[str, Any], **search: Any):
    def mutate(raw: dict[str, Any]) -> None:
        raw["search"] |= {"enqueue": list(configs), **search}

    return mutate


def _objectives(pruner: str = "none", sampler: str = "tpe", n_trials: int = 24, **study: Any):
    """Two objectives, with the given search settings."""

    def mutate(raw: dict[str, Any]) -> None:
        raw["study"] |= {"metric": ["val_accuracy", "n_params"], "direction": ["maximize", "minimize"], **study}
        raw["search"] |= {"pruner": pruner, "sampler": sampler, "n_trials": n_trials}

    return mutate


def _both(*mutations: Any):
    def mutate(raw: dict[str, Any]) -> None:
        for m in mutations:
            m(raw)

    return mutate


# The default space plus sgd's momentum, which exists only with sgd.
_SGD = _both(
    _knob("optimizer", ["adam", "sgd"]),
    _knob("momentum", {"type": "float", "low": 0, "high": 0.99, "when": {"optimizer": "sgd"}}),
)


def _ablation_with_two_objectives(raw: dict[str, Any]) -> None:
    _objectives()(raw)
    raw["ablation"] = {"baseline": {"lr": 0.01}, "components": {"e": {"params": {"epochs": 3}}}}


SHAPE = 'must be METRIC <= NUMBER or METRIC >= NUMBER, e.g. "train_time_s <= 2.0"'
BAD = [
    (
        "directions-fewer-than-metrics",
        _study(metric=["val_accuracy", "n_params", "val_loss"], direction=["maximize", "minimize"]),
        "study.direction",
        "must have as many directions as study.metric has metrics (3), but got a list ['maximize', 'minimize']",
    ),
    (
        "direction-scalar-for-two-metrics",
        _study(metric=["val_accuracy", "n_params"], direction="maximize"),
        "study.direction",
        "must be a list of 2 directions, one per metric of study.metric (val_accuracy, n_params), "
        "but got 'maximize' (str)",
    ),
    (
        "direction-default-for-two-metrics",  # study.direction left out: its default is one word
        _both(_study(metric=["val_accuracy", "n_params"]), lambda raw: raw["study"].pop("direction")),
        "study.direction",
        "must be a list of 2 directions, one per metric of study.metric (val_accuracy, n_params), "
        "but got 'maximize' (str)",
    ),
    (
        "directions-more-than-metric",
        _study(direction=["maximize", "minimize"]),
        "study.direction",
        "must have as many directions as study.metric has metrics (1), but got a list ['maximize', 'minimize']",
    ),
    (
        "direction-in-list",
        _study(metric=["a", "b"], direction=["maximize", "down"]),
        "study.direction",
        "must be one of maximize, minimize (or a list of them), but got a list ['maximize', 'down']",
    ),
    ("metric-list-empty", _study(metric=[]), "study.metric", "or a non-empty list of them"),
    ("metric-list-repeats", _study(metric=["a", "a"], direction=["maximize"] * 2), "study.metric", "twice"),
    ("metric-list-fixed-column", _study(metric=["a", "state"]), "study.metric", "but got a list ['a', 'state']"),
    (
        "constraints-not-a-list",
        _study(constraints="n_params <= 5"),
        "study.constraints",
        """must be a list of constraints, e.g. ["train_time_s <= 2.0"], but got 'n_params <= 5' (str)""",
    ),
    (
        "constraint-operator",
        _study(constraints=["val_loss < 0.5"]),
        "study.constraints[0]",
        f"{SHAPE} (the operator is <= or >=, not <), but got 'val_loss < 0.5' (str)",
    ),
    (
        "constraint-no-number",
        _study(constraints=["val_loss <= 0.5", "n_params <= lots"]),
        "study.constraints[1]",
        f"{SHAPE} (the bound 'lots' is not a number), but got 'n_params <= lots' (str)",
    ),
    ("constraint-syntax", _study(constraints=["n_params"]), "study.constraints[0]", f"{SHAPE}, but got 'n_params'"),
    ("constraint-not-a-string", _study(constraints=[{"n_params": 5}]), "study.constraints[0]", "must be a string"),
    ("constraint-repeated", _study(constraints=["a <= 1", "a<=1.0"]), "study.constraints[1]", "must not repeat"),
    ("constraint-on-fixed-column", _study(constraints=["duration_s <= 1"]), "study.constraints[0]", "fixed column"),
    (
        "pruner-with-two-objectives",
        _objectives(pruner="median"),
        "search.pruner",
        "must be none when study.metric names several objectives (Optuna prunes on one value per step), "
        "but got 'median' (str)",
    ),
    (
        "cmaes-with-two-objectives",
        _objectives(sampler="cmaes"),
        "search.sampler",
        "must serve several objectives (study.metric names 2): one of tpe, random, grid, gp, qmc, nsga2 or auto, "
        "not cmaes, but got 'cmaes' (str)",
    ),
    (
        "ablation-with-two-objectives",
        _ablation_with_two_objectives,
        "study.metric",
        "must be one metric in a study with an ablation section (its arms are compared on one metric), "
        "but got a list ['val_accuracy', 'n_params']",
    ),
    ("unknown-top-level-key", _set("extras", 1), "extras", "known key at the top level"),
    ("unknown-section-key", _set("execution.wrokers", 3), "execution.wrokers", "known key of execution"),
    ("unknown-knob-key", _set("search.space.lr.lo", 1e-4), "search.space.lr.lo", "known key of search.space.lr"),
    (
        "knob-key-misspelt",
        _set("search.space.lr", {"type": "float", "lo": 1e-4, "high": 0.1}),
        "search.space.lr.low",
        "is required",
    ),
    (
        "n_trials-string",
        _set("search.n_trials", "ten"),
        "search.n_trials",
        "must be an integer >= 1, but got 'ten' (str)",
    ),
    (
        "workers-fraction",
        _set("execution.workers", 1.5),
        "execution.workers",
        "must be an integer >= 1, but got 1.5 (float)",
    ),
    ("seed-bool", _set("study.seed", True), "study.seed", "but got True (bool)"),
    ("workers-bool", _set("execution.workers", True), "execution.workers", "but got True (bool)"),
    ("test_size-string", _set("data.test_size", "big"), "data.test_size", "must be a number"),
    ("test_size-one", _set("data.test_size", 1.0), "data.test_size", "< 1.0"),
    ("test_size-nan", _set("data.test_size", float("nan")), "data.test_size", "must be a number"),
    (
        "sampler",
        _set("search.sampler", "bayes"),
        "search.sampler",
        "must be one of tpe, random, grid, gp, cmaes, qmc, nsga2, auto, but got 'bayes'",
    ),
    (
        "cmaes-categoricals-only",
        _search("cmaes", {"act": ["relu", "tanh"], "bn": [True, False]}),
        "search.sampler",
        "must not be cmaes for a space of categorical knobs only (act, bn); use tpe, but got 'cmaes'",
    ),
    (
        "grid-continuous-range",
        _search("grid", {"lr": {"type": "float", "low": 0.1, "high": 0.2}}),
        "search.space.lr.step",
        "must be set for a float knob when search.sampler is grid",
    ),
    (
        "pruner",
        _set("search.pruner", "asha"),
        "search.pruner",
        "must be one of none, median, percentile, successive_halving, hyperband, wilcoxon, but got 'asha'",
    ),
    (
        "pruner-option-unknown",
        _pruner("median", {"n_warmup": 2}),
        "search.pruner_options.n_warmup",
        "must be a known key of search.pruner_options (n_startup_trials, n_warmup_steps, interval_steps, "
        "n_min_trials), but got 'n_warmup'",
    ),
    (
        "pruner-option-range",
        _pruner("hyperband", {"reduction_factor": 1}),
        "search.pruner_options.reduction_factor",
        "must be an integer >= 2, but got 1",
    ),
    (
        "pruner-resource",
        _pruner("successive_halving", {"min_resource": "some"}),
        "search.pruner_options.min_resource",
        "must be an integer >= 1, but got 'some' (str)",
    ),
    (
        "percentile-range",
        _pruner("percentile", {"percentile": 150}),
        "search.pruner_options.percentile",
        "must be a number >= 0.0 and <= 100.0, but got 150.0",
    ),
    (
        "pruner-options-without-pruner",
        _pruner("none", {"n_startup_trials": 2}),
        "search.pruner_options",
        "must be empty when search.pruner is none, but got a dict {'n_startup_trials': 2}",
    ),
    ("direction", _set("study.direction", "up"), "study.direction", "maximize, minimize"),
    ("device", _set("execution.device", "tpu"), "execution.device", "auto, cpu, cuda"),
    (
        "low-above-high",
        _set("search.space.lr", {"type": "float", "low": 0.1, "high": 0.01}),
        "search.space.lr.low",
        "must be < high",
    ),
    (
        "low-equals-high",
        _set("search.space.hidden_layers", {"type": "int", "low": 3, "high": 3}),
        "search.space.hidden_layers.low",
        "must be < high",
    ),
    (
        "log-low-zero",
        _set("search.space.weight_decay.low", 0.0),
        "search.space.weight_decay.low",
        "must be > 0 when log is true",
    ),
    (
        "log-low-negative",
        _set("search.space.hidden_units.low", -4),
        "search.space.hidden_units.low",
        "must be > 0 when log is true",
    ),
    ("log-with-step", _set("search.space.lr.step", 0.001), "search.space.lr.step", "log"),
    ("n_trials-zero", _set("search.n_trials", 0), "search.n_trials", ">= 1, but got 0"),
    ("n_trials-negative", _set("search.n_trials", -2), "search.n_trials", ">= 1, but got -2"),
    ("n_trials-missing", _delete("search.n_trials"), "search.n_trials", "is required"),
    ("source-unknown-sklearn", _set("data.source", "sklearn:mnist"), "data.source", "'sklearn:mnist'"),
    ("source-txt", _set("data.source", "data/table.txt"), "data.source", "'data/table.txt'"),
    ("source-missing", _delete("data.source"), "data.source", "is required"),
    ("knob-type", _set("search.space.lr.type", "double"), "search.space.lr.type", "float, int"),
    ("knob-not-a-mapping", _set("search.space.lr", 0.01), "search.space.lr", "must be a mapping"),
    ("categorical-empty", _set("search.space.activation", []), "search.space.activation.choices", "non-empty"),
    (
        "categorical-repeated",
        _set("search.space.activation", ["relu", "relu"]),
        "search.space.activation.choices",
        "must not repeat",
    ),
    (
        "knob-named-like-a-fixed-column",
        _set("search.space.state", ["a", "b"]),
        "search.space.state",
        "must not be named like a fixed column of the trials table (number, state, pareto, feasible, enqueued, "
        "n_seeds, duration_s, worker, error, reason, straggler, note, host, worker_address, job_id, cached, "
        "cache_key, git_commit, "
        "code_version)",
    ),
    (
        "knob-named-reason",
        _set("search.space.reason", ["a", "b"]),
        "search.space.reason",
        "must not be named like a fixed column of the trials table",
    ),
    (
        "metric-named-cached",
        _set("study.metric", "cached"),
        "study.metric",
        "must be a metric name, not a fixed column of the trials table (number, state, pareto, feasible, enqueued, "
        "n_seeds, duration_s, worker, error, reason, straggler, note, host, worker_address, job_id, cached, "
        "cache_key, git_commit, "
        "code_version), but got 'cached' (str)",
    ),
    ("knob-also-an-option", _set("trial.options.lr", 0.1), "search.space.lr", "trial.options"),
    ("section-not-a-mapping", _set("execution", [1, 2]), "execution", "must be a mapping"),
    ("section-missing", _delete("search"), "search", "is required"),
    ("study-name", _set("study.name", "my study"), "study.name", "'my study'"),
    ("timeout-zero", _set("execution.trial_timeout_s", 0), "execution.trial_timeout_s", "> 0.0"),
    ("grace-negative", _set("execution.timeout_grace_s", -1), "execution.timeout_grace_s", ">= 0.0, but got -1.0"),
    ("straggler-factor-one", _set("execution.stragglers", {"factor": 1}), "execution.stragglers.factor", "> 1.0"),
    ("straggler-unknown-key", _set("execution.stragglers", {"stopp": True}), "execution.stragglers.stopp", "stop"),
    ("stragglers-a-number", _set("execution.stragglers", 3), "execution.stragglers", "must be a mapping"),
    ("monitor-system-a-word", _set("execution.monitor_system", "yes"), "execution.monitor_system", "true or false"),
    ("entrypoint-form", _set("trial.entrypoint", "mlp.train"), "trial.entrypoint", "module:function"),
    (
        "grid-float-without-step",
        _grid({"dropout": {"type": "float", "low": 0.0, "high": 0.5}, "act": ["relu", "tanh"]}, 2),
        "search.space.dropout.step",
        "must be set for a float knob",
    ),
    (
        "when-unknown-knob",
        _when({"optimizr": "sgd"}),
        "search.space.momentum.when.optimizr",
        "must name a knob of search.space declared before momentum (hidden_layers, hidden_units, activation, "
        "dropout, batchnorm, lr, weight_decay, batch_size), but got 'optimizr'",
    ),
    (
        "when-later-knob",
        _when({"activation": "relu"}, first=True),
        "search.space.momentum.when.activation",
        "must name a knob declared before momentum (a condition may only refer to an earlier knob: declare "
        "activation above momentum), but got 'activation', declared after it",
    ),
    ("when-itself", _when({"momentum": 0.9}), "search.space.momentum.when.momentum", "other than momentum itself"),
    (
        "when-not-a-mapping",
        _when("activation == relu"),
        "search.space.momentum.when",
        "must map earlier knobs to the values they must take, e.g. {optimizer: sgd}, but got 'activation == relu'",
    ),
    (
        "when-operator",
        _when({"hidden_layers": {"=>": 2}}),
        "search.space.momentum.when.hidden_layers.=>",
        "must be an operator (==, !=, <, <=, >, >=, in, not in), but got '=>'",
    ),
    (
        "when-compare-a-string",
        _when({"hidden_layers": {">=": "two"}}),
        "search.space.momentum.when.hidden_layers.>=",
        "must be a number to compare with '>=', but got 'two' (str)",
    ),
    (
        "when-compare-a-categorical",
        _when({"activation": {"<": 2}}),
        "search.space.momentum.when.activation.<",
        "must compare a numeric knob with '<', but activation takes one of relu, tanh, gelu",
    ),
    (
        "when-value-never-taken",
        _when({"activation": "sigmoid"}),
        "search.space.momentum.when.activation",
        "must be a value activation takes (one of relu, tanh, gelu), but got 'sigmoid' (str)",
    ),
    (
        "when-value-in-list-never-taken",
        _when({"batch_size": [32, 48]}),
        "search.space.momentum.when.batch_size",
        "must be a value batch_size takes (one of 32, 64, 128), but got 48 (int)",
    ),
    (
        "when-never-holds",
        _when({"hidden_layers": {">": 3}}),
        "search.space.momentum.when.hidden_layers",
        "must hold for some value hidden_layers takes (an integer in [1, 3]), but got a dict {'>': 3}",
    ),
    (
        "when-empty-test",
        _when({"hidden_layers": {}}),
        "search.space.momentum.when.hidden_layers",
        "must hold at least one test",
    ),
    (
        "grid-conditional",
        _grid({"opt": ["sgd", "adam"], "m": {"type": "int", "low": 1, "high": 3, "when": {"opt": "sgd"}}}, 2),
        "search.sampler",
        "must not be grid for a conditional space (m have a when); use tpe or random, but got 'grid'",
    ),
    (
        "enqueue-not-a-list",
        _set("search.enqueue", BASELINE),
        "search.enqueue",
        "must be a list of configurations (knob values by name)",
    ),
    (
        "enqueue-unknown-knob",
        _enqueue({**BASELINE, "epochs": 3}),
        "search.enqueue[0].epochs",
        "must be a knob of search.space (hidden_layers, hidden_units, activation, dropout, batchnorm, lr, "
        "weight_decay, batch_size), but got 'epochs'",
    ),
    (
        "enqueue-out-of-range",
        _enqueue(BASELINE, {**BASELINE, "lr": 0.5}),
        "search.enqueue[1].lr",
        "must be a number in [0.0001, 0.03], but got 0.5 (float)",
    ),
    (
        "enqueue-not-a-choice",
        _enqueue({**BASELINE, "activation": "sigmoid"}),
        "search.enqueue[0].activation",
        "must be one of relu, tanh, gelu, but got 'sigmoid' (str)",
    ),
    (
        "enqueue-off-the-int-range",
        _enqueue({**BASELINE, "hidden_layers": 2.5}),
        "search.enqueue[0].hidden_layers",
        "must be an integer in [1, 3], but got 2.5 (float)",
    ),
    (
        "enqueue-missing-knob",
        _enqueue({k: v for k, v in BASELINE.items() if k != "lr"}),
        "search.enqueue[0]",
        "must give a value for every knob active in it, but got none for lr",
    ),
    (
        "enqueue-repeated",
        _enqueue(BASELINE, dict(BASELINE)),
        "search.enqueue[1]",
        "must not repeat a configuration, but it repeats enqueue[0]",
    ),
    (
        "enqueue-more-than-n_trials",
        _enqueue(*({**BASELINE, "hidden_units": u} for u in (32, 64, 128)), n_trials=2),
        "search.enqueue",
        "must hold at most search.n_trials (2) configurations, but got 3",
    ),
    (
        "enqueue-inactive-knob",
        _both(_SGD, _enqueue({**BASELINE, "optimizer": "adam", "momentum": 0.9})),
        "search.enqueue[0].momentum",
        "must be left out: momentum exists only where optimizer == sgd, which this configuration does not meet, "
        "but got 0.9 (float)",
    ),
    (
        "enqueue-active-knob-missing",
        _both(_SGD, _enqueue({**BASELINE, "optimizer": "sgd"})),
        "search.enqueue[0]",
        "must give a value for every knob active in it, but got none for momentum (active where optimizer == sgd)",
    ),
    ("seeds-zero", _set("search.seeds", 0), "search.seeds", "must be an integer >= 1, but got 0"),
    (
        "seeds-with-a-pruner",
        _enqueue(seeds=3, pruner="median"),
        "search.seeds",
        "must be 1 when search.pruner is median (a pruner stops single runs, not a mean over seeds; set "
        "search.pruner: none to repeat over seeds), but got 3 (int)",
    ),
    ("timeout-zero", _set("search.timeout_s", 0), "search.timeout_s", "must be a number > 0.0, but got 0.0"),
    ("timeout-text", _set("search.timeout_s", "1h"), "search.timeout_s", "must be a number > 0.0, but got '1h'"),
    (
        "grid-more-trials-than-grid",
        _grid({"a": [1, 2], "b": {"type": "int", "low": 1, "high": 3}}, 7),
        "search.n_trials",
        "must be <= the grid size 6 when search.sampler is grid, but got 7",
    ),
]


@pytest.mark.parametrize(("mutate", "key", "fragment"), [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_bad_input_names_file_and_key(tmp_path: Path, mutate, key: str, fragment: str) -> None:
    raw = default_raw()
    mutate(raw)
    path = write_params(tmp_path, raw)
    msg = assert_names(config_error(path), path, key)
    assert fragment in msg


def test_enqueue_is_kept_in_space_order_with_each_knob_s_type(tmp_path: Path) -> None:
    raw = default_raw()
    _SGD(raw)
    shuffled = {"momentum": 0, "optimizer": "sgd", **dict(reversed(BASELINE.items())), "hidden_layers": 2.0}
    _enqueue(shuffled, {**BASELINE, "optimizer": "adam"})(raw)
    p = load_params(write_params(tmp_path, raw))
    first, second = p.search.enqueue
    assert list(first) == [*BASELINE, "optimizer", "momentum"] and list(second) == [*BASELINE, "optimizer"]
    assert type(first["hidden_layers"]) is int and type(first["momentum"]) is float and first["momentum"] == 0.0
    assert (p.search.seeds, p.search.timeout_s) == (1, None)  # the defaults: one run, no time limit


def test_hyperbands_max_resource_auto_is_the_trials_epochs(tmp_path: Path) -> None:
    # Optuna's auto waits for the first trial to complete: trials in parallel before it are not pruned.
    p = load_params(DEFAULT, ["search.pruner=hyperband", "trial.options.epochs=12"])
    assert p.search.pruner_options["max_resource"] == 12
    explicit = ["search.pruner=hyperband", "search.pruner_options={max_resource: 30}"]
    assert load_params(DEFAULT, explicit).search.pruner_options["max_resource"] == 30
    raw = default_raw()
    raw["trial"]["options"] = {}  # a trial function whose steps ablate cannot know
    _pruner("hyperband", {})(raw)
    assert load_params(write_params(tmp_path, raw)).search.pruner_options["max_resource"] == "auto"


def test_pruner_options_get_their_defaults(tmp_path: Path) -> None:
    raw = default_raw()
    _pruner("hyperband", {"max_resource": 20})(raw)
    p = load_params(write_params(tmp_path, raw))
    assert (p.search.pruner, p.search.pruner_options) == (
        "hyperband",
        {"min_resource": 1, "max_resource": 20, "reduction_factor": 3, "bootstrap_count": 0},
    )
    assert load_params(DEFAULT).search.pruner == "none" and load_params(DEFAULT).search.pruner_options == {}


def test_grid_with_trials_within_the_grid_loads(tmp_path: Path) -> None:
    raw = default_raw()
    _grid(
        {
            "a": [1, 2],
            "b": {"type": "int", "low": 1, "high": 3},
            "c": {"type": "float", "low": 0.0, "high": 0.5, "step": 0.25},
        },
        18,
    )(raw)
    p = load_params(write_params(tmp_path, raw))
    assert p.search.sampler == "grid" and p.search.n_trials == 18


def test_yaml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    text = "study:\n  name: x\n  seed: [0, 1\ndata:\n  source: sklearn:wine\n"
    path = write_params(tmp_path, text=text)
    err = config_error(path)
    msg = str(err)
    assert "\n" not in msg
    assert msg.startswith(f"{path}: must be valid YAML, but line ")
    assert err.key == ""


def test_yaml_that_is_not_a_mapping(tmp_path: Path) -> None:
    path = write_params(tmp_path, text="- just\n- a list\n")
    msg = str(config_error(path))
    assert "\n" not in msg and msg.startswith(f"{path}: must be a mapping of sections")


def test_missing_params_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    err = config_error(path)
    msg = str(err)
    assert "\n" not in msg
    assert msg.startswith(f"{path}: ") and "must exist" in msg


# ---------------------------------------------------------------------------------------------
# Edge checks: data.check_source and trial.check_entrypoint


def test_check_source_accepts_builtin_and_existing_table(tmp_path: Path) -> None:
    check_source(DataConfig(source="sklearn:wine"), "p.yaml")
    csv = tmp_path / "t.csv"
    pd.DataFrame({"x": [1.0, 2.0], "label": ["a", "b"]}).to_csv(csv, index=False)
    check_source(DataConfig(source=str(csv), target="label"), "p.yaml")
    pq = tmp_path / "t.parquet"
    pd.DataFrame({"x": [1.0, 2.0], "label": ["a", "b"]}).to_parquet(pq)
    check_source(DataConfig(source=str(pq), target="label"), "p.yaml")


def test_check_source_missing_csv(tmp_path: Path) -> None:
    missing = tmp_path / "missing.csv"
    with pytest.raises(ConfigError) as info:
        check_source(DataConfig(source=str(missing)), "p.yaml")
    msg = str(info.value)
    assert info.value.key == "data.source" and "\n" not in msg
    assert msg.startswith("p.yaml: data.source: ") and str(missing) in msg


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_check_source_without_target_column(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"t.{suffix}"
    frame = pd.DataFrame({"x": [1.0, 2.0], "label": ["a", "b"]})
    frame.to_csv(path, index=False) if suffix == "csv" else frame.to_parquet(path)
    with pytest.raises(ConfigError) as info:
        check_source(DataConfig(source=str(path), target="y"), "p.yaml")
    msg = str(info.value)
    assert info.value.key == "data.target" and "\n" not in msg
    assert msg.startswith("p.yaml: data.target: ") and "'y'" in msg and "label" in msg


def test_check_source_unreadable_table(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("")
    with pytest.raises(ConfigError) as info:
        check_source(DataConfig(source=str(path)), "p.yaml")
    assert info.value.key == "data.source"


def test_check_source_builtin_needs_target_named_target() -> None:
    with pytest.raises(ConfigError) as info:
        check_source(DataConfig(source="sklearn:wine", target="label"), "p.yaml")
    assert info.value.key == "data.target"


def test_check_entrypoint_accepts_the_builtin_model() -> None:
    check_entrypoint("ablate.models.mlp:train", "p.yaml")


@pytest.mark.parametrize(
    ("entrypoint", "error"),
    [
        ("no_such_module_for_ablate_tests:train", "ModuleNotFoundError"),
        ("ablate.models.mlp:no_such_function", "AttributeError"),
    ],
)
def test_check_entrypoint_unimportable(entrypoint: str, error: str) -> None:
    with pytest.raises(ConfigError) as info:
        check_entrypoint(entrypoint, "p.yaml")
    msg = str(info.value)
    assert info.value.key == "trial.entrypoint" and "\n" not in msg
    assert msg.startswith("p.yaml: trial.entrypoint: ") and repr(entrypoint) in msg and error in msg


# ---------------------------------------------------------------------------------------------
# Several objectives and constraints


def test_several_objectives_and_constraints_load(tmp_path: Path) -> None:
    raw = default_raw()
    raw["study"] |= {
        "metric": ["val_accuracy", "n_params"],
        "direction": ["maximize", "minimize"],
        "constraints": ["n_params <= 5e4", "val_loss<=0.5"],
    }
    p = load_params(write_params(tmp_path, raw))
    s = p.study
    assert (s.metric, s.direction, s.metrics, s.directions) == (
        "val_accuracy",
        "maximize",
        ("val_accuracy", "n_params"),
        ("maximize", "minimize"),
    )
    assert s.multi_objective and [c.text for c in s.constraints] == ["n_params <= 50000", "val_loss <= 0.5"]
    d = p.to_dict()
    assert d["study"]["metric"] == ["val_accuracy", "n_params"]
    assert d["study"]["constraints"] == ["n_params <= 50000", "val_loss <= 0.5"]
    d.pop("source")
    assert parse_params(copy.deepcopy(d), p.source) == p  # round trip, as the single objective does


def test_a_one_element_list_is_the_scalar(tmp_path: Path) -> None:
    raw = default_raw()
    raw["study"] |= {"metric": ["val_loss"], "direction": ["minimize"]}
    listed = load_params(write_params(tmp_path, raw)).study
    assert (listed.metric, listed.direction, listed.multi_objective) == ("val_loss", "minimize", False)
    assert listed == load_params(DEFAULT, ["study.metric=val_loss", "study.direction=minimize"]).study


def test_several_objectives_keep_the_default_single_objective_untouched() -> None:
    s = load_params(DEFAULT).study
    assert (s.metrics, s.directions, s.constraints, s.multi_objective) == (("val_accuracy",), ("maximize",), (), False)
    assert s.to_dict()["metric"] == "val_accuracy" and s.to_dict()["constraints"] == []


def test_the_pareto_example_loads() -> None:
    p = load_params(ROOT / "params" / "digits-pareto.yaml")
    assert (p.study.metrics, p.study.directions) == (("val_accuracy", "n_params"), ("maximize", "minimize"))
    assert [c.text for c in p.study.constraints] == ["val_loss <= 0.25"]
    assert (p.search.sampler, p.search.pruner) == ("auto", "none")


def test_a_key_left_out_takes_its_sections_default_as_the_dataclass_writes_it() -> None:
    # Each default is written once, on its dataclass field; the reader takes it from there.
    raw = {
        "study": {"name": "least"},
        "data": {"source": "sklearn:iris"},
        "trial": {"entrypoint": "ablate.models.mlp:train"},
        "search": {"n_trials": 2, "space": {"lr": {"type": "float", "low": 0.001, "high": 0.1}}},
        "ablation": {"baseline": {"lr": 0.01}, "seeds": "auto", "min_effect": 0.01},
    }
    params = parse_params(raw, "least.yaml")
    assert params.execution == ExecutionConfig()
    assert (params.paths, params.report) == (PathsConfig(), ReportConfig())
    assert params.data == DataConfig(source="sklearn:iris")
    study = type(params.study)(name="least")
    assert (params.study.seed, params.study.metric, params.study.direction) == (
        study.seed,
        study.metric,
        study.direction,
    )
    search = params.search
    assert search is not None
    assert (search.sampler, search.pruner, search.seeds) == (
        SearchConfig.sampler,
        SearchConfig.pruner,
        SearchConfig.seeds,
    )
    ablation = params.ablation
    assert ablation is not None
    fields = ("policy", "alpha", "score_test", "power")
    assert {f: getattr(ablation, f) for f in fields} == {f: getattr(AblationConfig, f) for f in fields}
    plan = ablation.seed_plan
    assert (plan.pilot, plan.round, plan.max_seeds) == (SeedPlan.pilot, SeedPlan.round, SeedPlan.max_seeds)
