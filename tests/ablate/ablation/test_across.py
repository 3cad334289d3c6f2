"""The ablation across data sets against known truths, and against scipy, scikit-posthocs and autorank
computed here on the same numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scikit_posthocs as sp
from scipy import stats

from ablate.ablation.across import ACROSS_COLUMNS, NOTE_CONSTANT, analyze_across
from ablate.ablation.across_figures import plot_critical_difference, plot_heatmap

# baycomp's hierarchical test fits a Stan model: ~15 s a call on 2 cores
pytestmark = [pytest.mark.slow, pytest.mark.stan]
DATASETS = ["digits", "wine", "cancer", "iris", "synthetic"]
ARMS = ["baseline", "-augment", "-dropout", "-warmup"]


def values(effects: dict[str, float], seeds: int = 8, noise: float = 0.01, seed: int = 0) -> pd.DataFrame:
    """Five data sets of different difficulty; each arm shifts every data set's score by its effect,
    each seed adds noise shared by the arms (paired seeds)."""
    rng = np.random.default_rng(seed)
    rows = []
    for d, dataset in enumerate(DATASETS):
        level = 0.7 + 0.05 * d
        shared = rng.normal(0, noise, seeds)
        for arm in ARMS:
            own = rng.normal(0, noise / 2, seeds)
            for s in range(seeds):
                rows.append((dataset, arm, s, level + effects.get(arm, 0.0) + shared[s] + own[s]))
    return pd.DataFrame(rows, columns=["dataset", "arm", "seed", "value"])


@pytest.fixture(scope="module")
def truth() -> tuple[pd.DataFrame, object]:
    # -augment removes a component that helps on every data set; -dropout and -warmup remove ones
    # that do nothing.
    v = values({"-augment": -0.04})
    return v, analyze_across(v, "baseline", "val_accuracy", "maximize", min_effect=0.01)


def test_a_component_that_helps_everywhere_ranks_apart_and_the_seeds_confirm_it(truth) -> None:
    _, a = truth
    t = a.table.set_index("arm")
    assert list(a.table.columns) == ACROSS_COLUMNS
    assert t.loc["-augment", "mean_rank"] == 4.0  # last on every data set
    assert t.loc["-augment", "mean_rank"] > t.drop(index="-augment")["mean_rank"].max() + 1
    assert t.loc["-augment", "significant"] and t.loc["-augment", "p_rank_holm"] < 0.05
    assert t.loc["-augment", "p_worse"] > 0.95  # without it the model is worse: the component helps
    assert t.loc["-augment", "verdict"] == "matters" and t.loc["baseline", "verdict"] == ""
    for arm in ("-dropout", "-warmup"):
        assert not t.loc[arm, "significant"]
        assert t.loc[arm, "p_rope"] > t.loc[arm, "p_better"] and t.loc[arm, "p_rope"] > t.loc[arm, "p_worse"]
    assert t.loc["-augment", "seeds_per_dataset"] == 8
    assert np.isclose(t.loc["-augment", "mean_delta"], -0.04, atol=0.01)
    assert a.notes == []


def test_the_rank_statistics_are_scipys_and_scikit_posthocs(truth) -> None:
    v, a = truth
    means = v.groupby(["dataset", "arm"])["value"].mean().unstack("arm")[a.means.columns]
    friedman = stats.friedmanchisquare(*(means[c] for c in means.columns))
    assert a.friedman_stat == pytest.approx(friedman.statistic) and a.friedman_p == pytest.approx(friedman.pvalue)
    # Against the baseline: Siegel-Castellan's z, Holm over the three comparisons.
    raw = sp.posthoc_siegel_friedman(means.to_numpy())
    raw.index = raw.columns = list(means.columns)
    p = raw.loc[["-augment", "-dropout", "-warmup"], "baseline"].to_numpy()
    from statsmodels.stats.multitest import multipletests

    expected = multipletests(p, method="holm")[1]
    got = a.table.set_index("arm").loc[["-augment", "-dropout", "-warmup"], "p_rank_holm"].to_numpy()
    assert got == pytest.approx(expected)
    nemenyi = sp.posthoc_nemenyi_friedman(means.to_numpy()).to_numpy()
    assert a.pairwise.to_numpy() == pytest.approx(nemenyi)


def test_the_average_ranks_agree_with_autorank(truth) -> None:
    from autorank import autorank

    v, a = truth
    means = v.groupby(["dataset", "arm"])["value"].mean().unstack("arm")
    result = autorank(means, alpha=0.05, verbose=False, order="descending", force_mode="nonparametric")
    # autorank ranks 1 = best for "descending" (higher is better), as ablate does for maximize.
    assert result.rankdf["meanrank"].to_dict() == pytest.approx(a.ranks.mean().to_dict())


def test_minimize_flips_the_ranks_and_the_sides() -> None:
    v = values({"-augment": -0.04})
    v["value"] = 1 - v["value"]  # an error rate: lower is better, and -augment's is higher
    a = analyze_across(v, "baseline", "val_error", "minimize", min_effect=0.01)
    t = a.table.set_index("arm")
    assert t.loc["-augment", "mean_rank"] == 4.0 and t.loc["-augment", "p_worse"] > 0.95
    assert t.loc["-augment", "mean_delta"] == pytest.approx(0.04, abs=0.01)  # Δ keeps the metric's sign


def test_too_few_data_sets_or_arms_is_refused_and_few_data_sets_noted() -> None:
    v = values({})
    two = v[v["dataset"].isin(["digits", "wine"]) & v["arm"].isin(["baseline", "-augment"])]
    with pytest.raises(ValueError, match="2 or more data sets and 3 or more arms"):
        analyze_across(two, "baseline", "m", "maximize")
    one = v[v["dataset"] == "digits"]
    with pytest.raises(ValueError, match="there are 1 data sets and 4 arms"):
        analyze_across(one, "baseline", "m", "maximize")
    three = v[v["dataset"].isin(["digits", "wine", "iris"])]
    a = analyze_across(three, "baseline", "m", "maximize", min_effect=0.01)
    assert any("meaningful from about 5" in n for n in a.notes)


def test_a_data_set_missing_an_arm_leaves_the_ranks_and_is_noted() -> None:
    v = values({"-augment": -0.04})
    v = v[~((v["dataset"] == "iris") & (v["arm"] == "-warmup"))]
    a = analyze_across(v, "baseline", "m", "maximize", min_effect=0.01)
    assert "iris" not in a.means.index and any("iris" in n for n in a.notes)


def test_the_figures_draw(truth, tmp_path) -> None:
    _, a = truth
    fig = plot_critical_difference(a)
    fig.savefig(tmp_path / "cd.png")
    deltas = a.means[ARMS[1:]].sub(a.means["baseline"], axis=0).T
    verdicts = pd.DataFrame("negligible", index=deltas.index, columns=deltas.columns)
    verdicts.loc["-augment"] = "matters"
    heat = plot_heatmap(deltas, verdicts, "val_accuracy", "maximize")
    heat.savefig(tmp_path / "heat.png")
    texts = [t.get_text() for t in heat.axes[0].texts]
    assert sum("matters" in t for t in texts) == len(DATASETS)
    labels = {t.get_text() for t in fig.axes[0].texts}
    assert any("-augment" in label for label in labels)
    assert (tmp_path / "cd.png").stat().st_size > 5000


def test_one_seed_a_data_set_ranks_but_gets_no_hierarchical_test() -> None:
    from ablate.ablation.across import NOTE_FEW_SEEDS

    a = analyze_across(values({"-augment": -0.04}, seeds=1), "baseline", "m", "maximize", min_effect=0.01)
    arms = a.table[a.table["role"] == "arm"]
    assert (arms["note"] == NOTE_FEW_SEEDS).all() and arms[["p_worse", "p_rope", "p_better"]].isna().all().all()
    assert arms.set_index("arm").loc["-augment", "mean_rank"] == 4.0


def test_an_arm_that_changes_nothing_on_some_data_sets_over_odd_seeds_still_gets_its_probabilities() -> None:
    rows = []
    for d in range(4):
        for seed in range(5):
            base = 0.8 + 0.02 * d + 0.01 * ((seed * 7 + d) % 5)
            rows += [(f"d{d}", "baseline", seed, base), (f"d{d}", "-x", seed, base if d else base - 0.001 * seed)]
            rows.append((f"d{d}", "-y", seed, base - 0.05 - 0.003 * ((seed * 3 + d) % 4)))
            rows.append((f"d{d}", "-z", seed, base - 0.02))  # the same difference everywhere: no spread
    a = analyze_across(pd.DataFrame(rows, columns=["dataset", "arm", "seed", "value"]), "baseline", "acc",
                       "maximize", min_effect=0.01)  # fmt: skip
    t = a.table.set_index("arm")
    assert t.loc["-x", "p_rope"] > 0.9 and t.loc["-x", "seeds_per_dataset"] == 4  # the seeds it used
    assert any("uses the first 4" in n for n in a.notes) and t.loc["-y", "p_worse"] > 0.95
    assert t.loc["-z", "note"] == NOTE_CONSTANT and np.isnan(t.loc["-z", "p_worse"])


def test_the_first_stan_call_waits_for_another_process_compiling_the_model() -> None:
    """Two processes compiling baycomp's model into httpstan's cache at once broke one of them
    (a JSON TAPE_ERROR); the first Stan call of each holds a lock in that cache."""
    import threading
    import time

    from filelock import FileLock

    from ablate.ablation._hierarchical import build_lock_path
    from ablate.ablation.across import hierarchical_probs

    rng = np.random.default_rng(3)
    x = rng.normal(0.8, 0.01, (3, 5))
    pairs = {"-a": (x, x - 0.03 + rng.normal(0, 0.01, x.shape))}
    done: dict[str, object] = {}

    def call() -> None:
        done["probs"] = hierarchical_probs(pairs, rope=0.01)
        done["at"] = time.monotonic()

    build_lock_path().parent.mkdir(parents=True, exist_ok=True)
    with FileLock(build_lock_path()):  # another process compiling
        worker = threading.Thread(target=call)
        worker.start()
        worker.join(timeout=12)  # a warm call takes about 8 s on 2 cores
        assert worker.is_alive() and not done
        released = time.monotonic()
    worker.join(timeout=300)
    assert done["at"] > released
    p_worse, p_rope, p_better = done["probs"]["-a"]  # type: ignore[index]
    assert p_worse > 0.9 and abs(p_worse + p_rope + p_better - 1) < 1e-6


def test_the_model_build_meanwhile_finds_the_model_built_and_exits(truth) -> None:
    """After a fit the model is in httpstan's cache: the background build exits at once."""
    from ablate.ablation._hierarchical import build_model_meanwhile, model_built

    assert model_built()
    assert build_model_meanwhile().wait(timeout=60) == 0


def test_a_model_half_written_by_a_killed_build_is_not_built_and_is_removed(tmp_path, monkeypatch) -> None:
    """A build killed after httpstan wrote the module and before its compiler log (which httpstan
    reads on every later call) leaves a folder that must be compiled again, not used."""
    from importlib.machinery import EXTENSION_SUFFIXES

    from httpstan.cache import model_directory

    from ablate.ablation import _hierarchical

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))  # where httpstan keeps its cache
    assert not _hierarchical.model_built()  # an empty cache
    folder = model_directory(_hierarchical._model_name())
    folder.mkdir(parents=True)
    (folder / f"stan_services_model{EXTENSION_SUFFIXES[0]}").write_bytes(b"half")
    assert not _hierarchical.model_built()
    _hierarchical.whole_model()
    assert not folder.exists()
    folder.mkdir(parents=True)  # whole: the module and its log
    (folder / f"stan_services_model{EXTENSION_SUFFIXES[0]}").write_bytes(b"whole")
    (folder / "stderr.log").write_text("")
    assert _hierarchical.model_built()
    _hierarchical.whole_model()
    assert folder.exists()
