"""Ablation policies: which arms each derives, their references, and an ablation path's greedy steps."""

from __future__ import annotations

from itertools import combinations

from ablate.ablation.design import PlanContext, repeat_seeds
from ablate.ablation.policies import POLICIES
from ablate.vocab.ablation import AblationConfig, Component

COMPONENTS = (
    Component("bn", {"batchnorm": False}),
    Component("drop", {"dropout": 0.0}),
    Component("worst", features=("worst *",)),
)
BASE = {"batchnorm": True, "dropout": 0.2, "lr": 0.01}
COLUMNS = ("mean a", "worst a", "worst b")


def ctx(policy: str, **kw) -> PlanContext:
    cfg = AblationConfig(baseline=BASE, components=kw.pop("components", COMPONENTS), policy=policy, **kw)
    target = kw.get("target")
    return PlanContext(cfg, dict(BASE), COLUMNS, "maximize", seed=0, target=target)


def test_loco_removes_one_component_per_arm() -> None:
    arms = POLICIES["loco"].plan(ctx("loco"), {})
    assert [a.name for a in arms] == ["baseline", "-bn", "-drop", "-worst"]
    assert [a.reference for a in arms] == [None, "baseline", "baseline", "baseline"]
    assert arms[1].params == {**BASE, "batchnorm": False} and arms[1].drop_features == ()
    assert arms[3].params == BASE and arms[3].drop_features == ("worst a", "worst b")
    assert arms[3].present == {"bn", "drop"}


def test_loco_skips_a_component_that_changes_nothing_against_a_tuned_baseline() -> None:
    c = ctx("loco")
    c.baseline["batchnorm"] = False  # e.g. the best trial did not use batchnorm
    arms = POLICIES["loco"].plan(c, {})
    assert "-bn" not in [a.name for a in arms]
    assert any(n.startswith("component bn gets no arm: removing it sets batchnorm=False, as ") for n in c.notes)


def test_add_one_starts_from_the_minimal_arm() -> None:
    arms = POLICIES["add_one"].plan(ctx("add_one"), {})
    assert [a.name for a in arms] == ["minimal", "+bn", "+drop", "+worst", "baseline"]
    assert all(a.reference == "minimal" for a in arms[1:]) and arms[0].reference is None
    minimal, plus_bn = arms[0], arms[1]
    assert minimal.params == {**BASE, "batchnorm": False, "dropout": 0.0} and minimal.drop_features == (
        "worst a",
        "worst b",
    )
    assert plus_bn.params["batchnorm"] is True and plus_bn.present == {"bn"}


def test_factorial_has_every_combination_once() -> None:
    arms = POLICIES["factorial"].plan(ctx("factorial"), {})
    assert len(arms) == 8 and len({a.name for a in arms}) == 8
    assert {a.present for a in arms} == {
        frozenset(s) for k in range(4) for s in combinations(["bn", "drop", "worst"], k)
    }
    assert arms[0].name == "baseline" and arms[-1].name == "minimal"


def test_random_subsets_are_distinct_reproducible_and_capped() -> None:
    a1 = POLICIES["random"].plan(ctx("random", n_arms=4), {})
    a2 = POLICIES["random"].plan(ctx("random", n_arms=4), {})
    assert [a.name for a in a1] == [a.name for a in a2] and len(a1) == 5
    assert len({a.present for a in a1}) == 5
    c = ctx("random", n_arms=50)
    assert len(POLICIES["random"].plan(c, {})) == 8  # baseline + all 7 non-empty subsets
    assert any("n_arms 50 > 7" in n for n in c.notes)


def test_path_flips_the_best_parameter_each_round() -> None:
    target = {"batchnorm": False, "dropout": 0.0, "lr": 0.1}
    c = ctx("path", components=(), target=target)
    policy = POLICIES["path"]
    round1 = policy.plan(c, {})
    assert [a.name for a in round1] == ["baseline", "+batchnorm", "+dropout", "+lr"]
    means = {"baseline": 0.5, "+batchnorm": 0.52, "+dropout": 0.51, "+lr": 0.7}
    round2 = policy.plan(c, means)
    assert [a.name for a in round2][4:] == ["+lr+batchnorm", "+lr+dropout"]
    assert [a.role for a in round2[:4]] == ["baseline", "candidate", "candidate", "step"]
    assert round2[4].params == {**BASE, "lr": 0.1, "batchnorm": False} and round2[4].reference == "+lr"
    means |= {"+lr+batchnorm": 0.69, "+lr+dropout": 0.72, "+lr+dropout+batchnorm": 0.8}
    done = policy.plan(c, means)
    steps = [a for a in done if a.role == "step"]
    assert [(a.name, a.param) for a in steps] == [
        ("+lr", "lr"),
        ("+lr+dropout", "dropout"),
        ("+lr+dropout+batchnorm", "batchnorm"),
    ]
    assert steps[-1].params == {**BASE, **target}


def test_path_stops_when_a_whole_round_failed() -> None:
    c = ctx("path", components=(), target={"batchnorm": False, "lr": 0.1})
    nan = float("nan")
    arms = POLICIES["path"].plan(c, {"baseline": 0.5, "+batchnorm": nan, "+lr": nan})
    assert [a.name for a in arms] == ["baseline", "+batchnorm", "+lr"]
    assert any("every candidate of the next round failed" in n for n in c.notes)


def test_repeat_seeds_avoid_the_search_seed() -> None:
    cfg = AblationConfig(baseline="best", components=COMPONENTS, seeds=3)
    assert repeat_seeds(cfg, 7) == [8, 9, 10]
    # a search whose trials ran over seeds 7, 8 and 9 (search.seeds: 3) tuned on those too
    assert repeat_seeds(cfg, 7, tuned_seeds=3) == [10, 11, 12]


def test_arm_folders_are_safe_and_distinct() -> None:
    arms = POLICIES["factorial"].plan(ctx("factorial"), {})
    slugs = [a.slug for a in arms]
    assert len(set(slugs)) == len(slugs)
    assert all(s.replace("_", "").replace("-", "").replace(".", "").isalnum() for s in slugs)


def test_every_policy_a_params_file_may_name_has_a_planner_and_no_other() -> None:
    from ablate.vocab.ablation import POLICIES as NAMES

    assert list(POLICIES) == list(NAMES)  # the params' closed set, in the order its error lists it
