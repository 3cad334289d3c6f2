"""Mistakes a new user makes in the first hour stop at once, in one line that names them (exit 2),
before the budget is spent: a misspelt objective (search and ablation), a misspelt section, a
trial module beside the params file, a component the tuned baseline already has."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from ablate.config.load import load_params
from ablate.study.storage import load_study
from flows.cli import main
from tests.flows.helpers import DEFAULT_PARAMS, REPO, deep_update, quick_study, write_params


def ablate_cli(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    """``ablate ARGS`` in a process of its own, as a user's terminal shows it."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "flows.cli", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def one_line(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("ablate: error: "), proc.stderr
    assert "Traceback" not in proc.stderr
    return proc.stderr


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_api")
def test_a_misspelt_objective_stops_the_search_at_its_first_result(tmp_path: Path) -> None:
    # 20 trials of 0.5 s on 2 workers: the first result stops the run, long before the budget.
    changes = deep_update(quick_study(n_trials=20), {"study": {"metric": "val_acc"}})
    changes["trial"]["options"]["sleep"] = 0.5
    path = write_params(tmp_path, "typo", changes)

    err = one_line(ablate_cli("run", str(path)))

    assert err.startswith(
        f"ablate: error: {path}: study.metric: must name a metric the trial function returns "
        "(val_accuracy, val_loss), but got 'val_acc' (trial "
    ), err
    assert "returned no val_acc; did you mean 'val_accuracy'?); correct it, then run again with --restart\n" in err
    trials = load_study(load_params(path)).trials
    assert 0 < len(trials) <= 6, len(trials)  # those asked before the first result came back
    assert {t.state.name for t in trials} == {"FAIL"}
    assert {t.user_attrs["reason"] for t in trials} == {"invalid_metric"}


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_api")
def test_a_misspelt_objective_stops_an_ablation_at_its_first_result(tmp_path: Path) -> None:
    changes = deep_update(quick_study(), {"study": {"metric": "val_acc"}})
    del changes["search"]
    changes["trial"]["options"]["sleep"] = 0.5
    changes["ablation"] = {"baseline": {"x": 0.3}, "seeds": 10, "components": {"x": {"params": {"x": 0.9}}}}
    path = write_params(tmp_path, "ablation-typo", changes)
    raw = yaml.safe_load(path.read_text())
    raw.pop("search")
    path.write_text(yaml.safe_dump(raw))

    err = one_line(ablate_cli("run", str(path)))

    assert f"{path}: study.metric: must name a metric the trial function returns (val_accuracy, val_loss)" in err
    folders = list((tmp_path / "data" / "ablations" / "ablation-typo").glob("*.s*"))
    assert 0 < len(folders) < 20  # 2 arms x 10 seeds were planned


def test_a_misspelt_section_is_named_with_the_closest_known_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    raw = yaml.safe_load(DEFAULT_PARAMS.read_text())
    raw["serach"] = raw.pop("search")
    raw["ablation"] = {"baseline": "best", "components": {"e": {"params": {"epochs": 3}}}}
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump(raw))

    assert main(["run", str(path)]) == 2

    err = capsys.readouterr().err
    assert err == (
        f"ablate: error: {path}: serach: must be a known key at the top level (study, data, trial, search, "
        "ablation, execution, paths, report), but got 'serach' (did you mean 'search'?)\n"
    )


def test_a_trial_module_beside_the_params_says_how_to_name_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "params").mkdir()
    (tmp_path / "params" / "my_sgd.py").write_text("def train(params, ctx):\n    return {'val_accuracy': 1.0}\n")
    write_params(tmp_path / "params", "mine", {"trial": {"entrypoint": "my_sgd:train", "options": {}}})
    monkeypatch.chdir(tmp_path)

    assert main(["run", "params/mine.yaml"]) == 2

    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "params/mine.yaml: trial.entrypoint: must name an importable module:function, but 'my_sgd:train' " in err
    assert f"(looked in the folder ablate runs in, {tmp_path}, and the installed packages; " in err
    assert "params/my_sgd.py is there as params.my_sgd: write 'params.my_sgd:train')" in err
    # As the line says: that name imports (and the params validate).
    monkeypatch.syspath_prepend(str(tmp_path))
    params = load_params("params/mine.yaml", ["trial.entrypoint=params.my_sgd:train"])
    from ablate.trial.entrypoint import check_entrypoint

    check_entrypoint(params.trial.entrypoint, params.source)


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_api")
def test_a_component_the_tuned_baseline_already_has_gets_no_arm_and_the_run_says_why(tmp_path: Path) -> None:
    # The search's one knob is a choice; enqueued first and alone, the best trial has x=0.3,
    # which is what the component "centre" would set.
    changes = quick_study(n_trials=1, space={"x": [0.3, 0.9]}, enqueue=[{"x": 0.3}], sampler="random")
    changes["ablation"] = {
        "baseline": "best",
        "seeds": 3,
        "components": {"centre": {"params": {"x": 0.3}}, "edge": {"params": {"x": 0.9}}},
    }
    path = write_params(tmp_path, "same", changes)
    raw = yaml.safe_load(path.read_text())
    raw["search"]["space"] = {"x": [0.3, 0.9]}  # x alone, not beside the digits knobs
    path.write_text(yaml.safe_dump(raw, sort_keys=False))

    proc = ablate_cli("run", str(path))

    assert proc.returncode == 0, proc.stdout + proc.stderr
    note = "component centre gets no arm: removing it sets x=0.3, as the search's best trial has already"
    assert f"ablation: {note}" in proc.stdout
    table = pd.read_csv(tmp_path / "reports" / "same" / "ablation.csv")
    assert list(table["arm"]) == ["baseline", "-edge"]
    report = (tmp_path / "reports" / "same" / "report.md").read_text()
    assert note in report
    # The paragraph names what was removed, and why centre was not. The trial ignores its seed, so
    # edge's Δ is exact (the same on every seed): it matters, without a margin to compare it with.
    assert "We removed each of edge from the tuned model (the search's best configuration) in turn" in report
    skipped = "(leave one component out; centre got no arm, as the tuned model already has what removing it sets)"
    assert skipped in report
    assert "Removing edge lowered val_accuracy by 36.00 points" in report
    assert "a statistically significant difference, so it matters." in report
    assert table.set_index("arm").loc["-edge", "verdict"] == "matters"
