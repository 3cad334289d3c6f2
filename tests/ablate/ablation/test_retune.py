"""Each arm's re-tuning search (ablation.retune), as the flow runs it: the knobs it tunes, what it
holds, the columns it drops, its study and folder, and the refusals."""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any

import pytest

from ablate.ablation.design import PlanContext
from ablate.ablation.retune import RETUNE, arm_space, budget_line, check_arms, planned_arms, tuning_view
from ablate.ablation.runs import plan_arms
from ablate.config.load import parse_params
from ablate.errors import ConfigError

RAW: dict[str, Any] = {
    "study": {"name": "rt", "seed": 3, "metric": "val_accuracy", "direction": "maximize"},
    "data": {"source": "sklearn:breast_cancer"},
    "trial": {"entrypoint": "ablate.models.mlp:train", "options": {"epochs": 5, "batchnorm": True}},
    "search": {
        "sampler": "tpe",
        "n_trials": 20,
        "space": {
            "lr": {"type": "float", "low": 1e-4, "high": 1e-1, "log": True},
            "optimizer": {"type": "categorical", "choices": ["adam", "sgd"]},
            "momentum": {"type": "float", "low": 0.0, "high": 0.99, "when": {"optimizer": "sgd"}},
        },
    },
    "ablation": {
        "baseline": {"lr": 0.01, "optimizer": "sgd", "momentum": 0.9},
        "components": {
            "batchnorm": {"params": {"batchnorm": False}},
            "sgd": {"params": {"optimizer": "adam"}},
            "worst": {"features": ["worst *"]},
        },
        "retune": {"n_trials": 8},
    },
}


def params_of(**ablation: Any):
    raw = copy.deepcopy(RAW)
    raw["ablation"].update(ablation)
    return parse_params(raw, "rt.yaml")


def arms(params):
    ctx = PlanContext(params.ablation, dict(params.ablation.baseline), ("mean radius", "worst radius"), "maximize", 3)
    return {a.name: a for a in plan_arms(ctx, {})}


def test_each_arm_tunes_the_knobs_no_component_sets_and_holds_the_others_at_its_own_values() -> None:
    params = params_of()
    by_name = arms(params)
    base, no_sgd, no_worst = (tuning_view(params, by_name[n]) for n in ("baseline", "-sgd", "-worst"))
    # The baseline holds optimizer=sgd (on), so momentum exists and is searched, unconditionally.
    assert [p.name for p in base.search.space] == ["lr", "momentum"]
    assert base.search.space[1].when is None and base.trial.options["optimizer"] == "sgd"
    # Without sgd, the held optimizer is adam: momentum does not exist in that arm.
    assert [p.name for p in no_sgd.search.space] == ["lr"] and no_sgd.trial.options["optimizer"] == "adam"
    # Searched knobs are not fixed options (the search sets them); the others are the arm's.
    assert "lr" not in base.trial.options and "momentum" not in base.trial.options
    assert base.trial.options["batchnorm"] is True and by_name["-batchnorm"].params["batchnorm"] is False
    assert tuning_view(params, by_name["-batchnorm"]).trial.options["batchnorm"] is False
    # The same budget, sampler and seed for every arm; a study and folder of its own.
    for view in (base, no_sgd, no_worst):
        assert view.search.n_trials == 8 and view.search.sampler == "tpe" and view.study.seed == 3
        assert view.ablation is None and view.search.enqueue == ()
    assert no_worst.tuning.drop_features == ("worst radius",) and base.tuning.drop_features == ()
    assert no_worst.study.name == f"rt.{RETUNE}.{by_name['-worst'].slug}"
    assert str(no_worst.study_dir) == f"data/ablations/rt/{RETUNE}/{by_name['-worst'].slug}"
    assert no_worst.tuning.trial_fields(4)["name"] == "retune -worst: trial 4"


def test_the_budget_counts_every_arm_s_search_and_the_retune_sampler_replaces_the_search_s() -> None:
    params = params_of(retune={"n_trials": 8, "sampler": "random"})
    assert planned_arms(params) == 4
    assert budget_line(params) == "re-tune: 4 arms x 8 search trials = 32 trials, then 4 arms x 5 seeds re-tuned"
    assert tuning_view(params, arms(params)["baseline"]).search.sampler == "random"


def test_an_arm_left_with_no_knob_is_refused_naming_it() -> None:
    params = params_of()
    # Without lr, the arm without sgd (optimizer held at adam) has only momentum, which needs sgd.
    params = replace(params, search=replace(params.search, space=params.search.space[1:]))
    assert arm_space(params.search.space, {"optimizer": "adam"}) == ()
    assert [p.name for p in tuning_view(params, arms(params)["baseline"]).search.space] == ["momentum"]
    with pytest.raises(ConfigError, match=r"ablation.retune: needs a searched knob left in every arm, but arm -sgd"):
        tuning_view(params, arms(params)["-sgd"])


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"retune": {"n_trials": 0}}, "ablation.retune.n_trials"),
        ({"retune": {"n_trials": 8, "sampler": "best"}}, "ablation.retune.sampler"),
        ({"retune": {"n_trials": 8, "extra": 1}}, "ablation.retune.extra"),
        ({"components": {"all": {"params": {"lr": 0.1, "optimizer": "adam", "momentum": 0.0}}}}, "ablation.retune"),
    ],
)
def test_bad_retune_keys_name_the_key(change: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError) as err:
        params_of(**change)
    assert err.value.key == key


def test_an_arm_that_a_condition_leaves_without_knobs_is_refused_before_anything_runs() -> None:
    # The file reads (its keys are well formed); the arms, planned at the edge of the run as
    # `ablate run` validates the study, are refused before any trial.
    raw = copy.deepcopy(RAW)
    raw["search"]["space"].pop("lr")  # left: optimizer (set by a component) and momentum (sgd only)
    raw["ablation"]["baseline"] = "best"  # the searched values are not known yet; the arms' held ones are
    params = parse_params(raw, "rt.yaml")
    with pytest.raises(ConfigError, match=r"but arm -sgd holds batchnorm=True, optimizer=adam: nothing is left"):
        check_arms(params)
