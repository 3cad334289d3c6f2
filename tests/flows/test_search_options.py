"""search.space conditions, search.enqueue, search.timeout_s and search.seeds through the real
study flow (Prefect server, Dask LocalCluster workers, the study's journal), with the fast
stand-in trial functions: few trials, two workers."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import pandas as pd
import pytest
import yaml
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import TaskRunFilter, TaskRunFilterName

from ablate.config.load import load_params
from ablate.study.storage import load_study
from flows.pipeline import study_flow
from tests.flows.helpers import deep_update, quick_study, write_params

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_api")]

SGD = {"optimizer": "sgd", "momentum": 0.9, "layers": 3, "units_3": 64, "x": 0.3}
ADAM = {"optimizer": "adam", "layers": 1, "x": 0.5}


SPACE = {
    "optimizer": ["adam", "sgd"],
    "momentum": {"type": "float", "low": 0.5, "high": 0.99, "when": {"optimizer": "sgd"}},
    "layers": {"type": "int", "low": 1, "high": 4},
    "units_3": {"type": "int", "low": 16, "high": 256, "log": True, "when": {"layers": {">=": 3}}},
    "x": {"type": "float", "low": 0.0, "high": 1.0},
}


def conditional_study(tmp_path: Path, n_trials: int) -> Path:
    changes = deep_update(
        quick_study(n_trials=n_trials),
        {"trial": {"entrypoint": "tests.flows.trial_fns:conditional"}, "search": {"sampler": "auto"}},
    )
    path = write_params(tmp_path, "cond", changes)
    raw = yaml.safe_load(path.read_text())  # the space as it is here, not merged into digits.yaml's
    raw["search"] |= {"space": SPACE, "enqueue": [SGD, ADAM]}
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


def read_trials(root: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(root / "reports" / name / "trials.csv")


def executions(root: Path, name: str) -> list[str]:
    return (root / "data" / "studies" / name / "executions.log").read_text().splitlines()


def test_a_conditional_space_with_baselines_first_then_grown(tmp_path: Path) -> None:
    # The trial function fails any trial that gets a knob its condition leaves out, or lacks one.
    path = conditional_study(tmp_path, 6)
    summary = study_flow(load_params(path)).to_record()
    assert (summary["complete"], summary["failed"]) == (6, 0)
    trials = read_trials(tmp_path, "cond")
    assert trials["enqueued"].tolist() == [True, True, False, False, False, False]
    first, second = trials.iloc[0], trials.iloc[1]
    assert (first["optimizer"], first["momentum"], first["layers"], first["units_3"]) == ("sgd", 0.9, 3, 64)
    assert second["optimizer"] == "adam" and pd.isna(second["momentum"]) and pd.isna(second["units_3"])
    adam = trials["optimizer"] == "adam"
    assert trials.loc[adam, "momentum"].isna().all() and trials.loc[~adam, "momentum"].notna().all()
    csv = (tmp_path / "reports" / "cond" / "trials.csv").read_text().splitlines()
    units = csv[0].split(",").index("units_3")
    assert [line.split(",")[units] for line in csv[1:3]] == ["64", ""]  # empty where inactive; an int stays one
    run = json.loads((tmp_path / "reports" / "cond" / "run.json").read_text())
    assert run["enqueued"] == 2
    assert run["provenance"]["sampler"] == "tpe (auto: 2 conditional knob(s) (momentum, units_3) of 5)"
    report = (tmp_path / "reports" / "cond" / "report.md").read_text()
    assert "| enqueued |" in report and report.count(" yes |") == 2

    grown = study_flow(load_params(path, ["search.n_trials=8"])).to_record()  # a grown study: nothing enqueued again
    assert (grown["complete"], grown["executed"], grown.get("enqueued", 0)) == (8, 2, 0)
    trials = read_trials(tmp_path, "cond")
    assert trials["enqueued"].tolist() == [True, True] + [False] * 6
    runs = [line.split()[0] for line in executions(tmp_path, "cond")]
    assert sorted(runs, key=int) == [str(n) for n in range(8)]  # every trial ran once, the baselines too


def test_the_search_stops_asking_on_its_timeout_and_a_rerun_continues(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    changes = deep_update(
        quick_study(n_trials=5, timeout_s=0.5),
        {"trial": {"options": {"sleep": 1.5}}, "execution": {"workers": 2, "queue_ahead": 0}},
    )
    path = write_params(tmp_path, "budget", changes)
    summary = study_flow(load_params(path)).to_record()
    out = capsys.readouterr().out
    # Both workers' trials were asked at once; past 0.5 s no third one is, and the running one finishes.
    stop = next(i for i, line in enumerate(out.splitlines()) if "search.timeout_s=0.5 s reached after" in line)
    assert "no new trial is asked, the trials running finish" in out.splitlines()[stop]
    assert [line.split()[1:3] for line in out.splitlines()[stop + 1 :] if line.startswith("[")] == [
        ["trial", "0"],
        ["trial", "1"],
    ]
    assert (summary["complete"], summary["executed"], summary["search_timed_out"]) == (2, 2, True)
    assert json.loads((tmp_path / "reports" / "budget" / "run.json").read_text())["search_timed_out"] is True
    assert "stopped asking on search.timeout_s" in (tmp_path / "reports" / "budget" / "report.md").read_text()

    again = study_flow(load_params(path, ["search.timeout_s=null"])).to_record()
    assert (again["complete"], again["executed"]) == (5, 3) and "search_timed_out" not in again
    assert sorted(line.split()[0] for line in executions(tmp_path, "budget")) == ["0", "1", "2", "3", "4"]


def test_each_trial_is_told_the_mean_of_its_seeds_and_a_rerun_runs_nothing(tmp_path: Path) -> None:
    changes = deep_update(quick_study(n_trials=2, seeds=3), {"trial": {"entrypoint": "tests.flows.trial_fns:seeded"}})
    path = write_params(tmp_path, "seeds", changes)
    summary = study_flow(load_params(path)).to_record()
    assert (summary["complete"], summary["executed"]) == (2, 6)  # executed counts runs: 2 trials x 3 seeds
    study = load_study(load_params(path))
    trials = read_trials(tmp_path, "seeds")
    trials_dir = tmp_path / "data" / "studies" / "seeds" / "trials"
    for t in study.trials:
        per_seed = {s: json.loads((trials_dir / f"{t.number}.s{s}" / "result.json").read_text()) for s in (0, 1, 2)}
        values = [per_seed[s]["metrics"]["val_accuracy"] for s in (0, 1, 2)]
        assert [per_seed[s]["provenance"]["seed"] for s in (0, 1, 2)] == [0, 1, 2]
        assert t.value == pytest.approx(statistics.fmean(values))
        assert t.user_attrs["seed_values"] == {"0": values[0], "1": values[1], "2": values[2]}
        row = trials[trials["number"] == t.number].iloc[0]
        assert row["n_seeds"] == 3 and row["val_accuracy_std"] == pytest.approx(statistics.stdev(values))
    assert sorted(executions(tmp_path, "seeds")) == [f"{n} {s}" for n in (0, 1) for s in (0, 1, 2)]
    with get_client(sync_client=True) as client:
        names = [f"trial {n} seed {s}" for n in (0, 1) for s in (0, 1, 2)]
        runs = client.read_task_runs(task_run_filter=TaskRunFilter(name=TaskRunFilterName(any_=names)))
    assert sorted({r.name for r in runs}) == sorted(names)  # one task run per seed, named by it
    report = (tmp_path / "reports" / "seeds" / "report.md").read_text()
    assert "(mean ± std of 3 seeds" in report
    # Each trial's learning curve: the mean of its seeds' at each step (figure shown, not a placeholder).
    assert "![curves](curves.png)" in report and "the mean over a trial's 3 seeds at each step" in report

    again = study_flow(load_params(path)).to_record()
    assert (again["executed"], again["cached"], again["complete"]) == (0, 0, 2)
    assert len(executions(tmp_path, "seeds")) == 6

    # `ablate rerun` names one run of a seeded trial, and it reproduces; without --seed it says so.
    from ablate.errors import AblateError
    from ablate.study.rerun import rerun_trial

    with pytest.raises(AblateError, match=r"trial 1 is the mean of runs with seeds 0, 1, 2 .*--seed SEED"):
        rerun_trial(load_params(path), 1)
    redo = rerun_trial(load_params(path), 1, seed=2)
    recorded = json.loads((trials_dir / "1.s2" / "result.json").read_text())["metrics"]
    assert redo.identical and redo.again.metrics == recorded
