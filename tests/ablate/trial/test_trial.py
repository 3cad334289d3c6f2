"""Unit tests for ablate.trial: the trial contract, atomic outputs and cache keys (timeouts:
test_timeouts.py).

The trial functions below are module-level so execute_trial can import them by entrypoint
(pytest registers this module in sys.modules under ``__name__``).
"""

from __future__ import annotations

import dataclasses
import json
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from dvclive import Live

from ablate.data import prepare_data
from ablate.errors import InvalidMetricError
from ablate.trial import execute
from ablate.trial.context import TrialContext
from ablate.trial.contract import ERROR, RESULT, read_result
from ablate.trial.entrypoint import code_version, load_entrypoint
from ablate.trial.execute import execute_trial
from ablate.vocab.params import DataConfig
from ablate.vocab.provenance import Provenance, TrialProvenance
from ablate.vocab.trial import PreparedData, TrialResult, TrialSpec, hash_json

# ---------------------------------------------------------------------------------------------
# Trial functions


def ok_trial(params: dict[str, Any], ctx: TrialContext) -> dict[str, float]:
    for step in range(1, 4):
        ctx.report(step, {"loss": 1.0 / step})
    print("hello from the trial")
    ctx.log.info("a line the trial logged")
    (ctx.out_dir / "extra.txt").write_text(json.dumps({"seed": ctx.seed, "number": ctx.number}))
    return {"val_accuracy": params.get("x", 0.5), "loss": np.float32(0.25)}


def slow_trial(params: dict[str, Any], ctx: TrialContext) -> dict[str, float]:
    for step in range(3):
        time.sleep(0.5)  # DVCLive's system monitor samples 20 times 0.05 s apart, then logs
        ctx.report(step, {"loss": 1.0})
    return {"val_accuracy": 0.5}


def failing_trial(params: dict[str, Any], ctx: TrialContext) -> dict[str, float]:
    ctx.report(1, {"loss": 2.0})
    raise ValueError("boom in the trial")


def non_dict_trial(params: dict[str, Any], ctx: TrialContext) -> Any:
    return 0.9


def counted_trial(params: dict[str, Any], ctx: TrialContext) -> dict[str, float]:
    with (ctx.out_dir.parent.parent / "runs.log").open("a") as f:  # out_dir: a staging folder in trials/
        f.write(f"{ctx.number} {ctx.seed}\n")
    return {"val_accuracy": params["x"]}


def empty_dict_trial(params: dict[str, Any], ctx: TrialContext) -> Any:
    return {}


def nan_trial(params: dict[str, Any], ctx: TrialContext) -> Any:
    return {"val_accuracy": float("nan")}


def text_metric_trial(params: dict[str, Any], ctx: TrialContext) -> Any:
    return {"val_accuracy": "high"}


def inf_trial(params: dict[str, Any], ctx: TrialContext) -> Any:
    return {"val_loss": 0.5, "val_accuracy": float("inf")}


def nan_loss_trial(params: dict[str, Any], ctx: TrialContext) -> Any:
    return {"val_accuracy": 0.5, "val_loss": float("nan")}


def no_study_metric_trial(params: dict[str, Any], ctx: TrialContext) -> Any:
    return {"val_loss": 0.5, "train_loss": 0.25}


def fixed_column_metric_trial(params: dict[str, Any], ctx: TrialContext) -> Any:
    return {"val_accuracy": 0.5, "state": 1.0}


def entry(func: Any) -> str:
    ep = f"{func.__module__}:{func.__name__}"
    assert load_entrypoint(ep) is func  # importable as the worker would import it
    return ep


DUMMY = PreparedData(
    path="/nonexistent", data_hash="d" * 64, task="classification", n_features=2, n_classes=2, shapes={}
)


def make_spec(tmp_path: Path, func: Any = ok_trial, **kw: Any) -> TrialSpec:
    fields = {
        "study": "unit",
        "number": 0,
        "params": {"x": 0.75},
        "seed": 3,
        "entrypoint": entry(func),
        "code_version": "v1",
        "data": DUMMY,
        "trials_dir": str(tmp_path / "trials"),
        "device": "cpu",
    }
    fields.update(kw)
    return TrialSpec(**fields)


def leftovers(trials_dir: Path) -> list[str]:
    return sorted(p.name for p in trials_dir.iterdir() if p.name.startswith("."))


# ---------------------------------------------------------------------------------------------
# A successful trial


def test_execute_trial_publishes_outputs(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    spec = make_spec(tmp_path, number=4, provenance=Provenance(git_commit="abc123"))
    result = execute_trial(spec)
    assert result.number == 4
    assert result.metrics == {"val_accuracy": 0.75, "loss": 0.25}
    assert all(type(v) is float for v in result.metrics.values())
    assert not result.cached and result.cache_key == spec.cache_key
    assert result.params == {"x": 0.75} and result.duration_s >= 0
    assert result.provenance == TrialProvenance(
        run=Provenance(git_commit="abc123"),
        data_hash=DUMMY.data_hash,
        code_version="v1",
        seed=3,
        device="cpu",
        # torch's intra-op threads when torch is loaded (ablate rerun matches them), else None
        torch_threads=sys.modules["torch"].get_num_threads() if "torch" in sys.modules else None,
        params_hash=hash_json({"x": 0.75})[:16],
    )
    out = tmp_path / "trials" / "4"
    assert spec.out_dir == out
    assert sorted(p.name for p in out.iterdir()) == [
        "dvclive",
        "extra.txt",
        "history.jsonl",
        "params.json",
        RESULT,
        "trial.log",
    ]
    assert leftovers(tmp_path / "trials") == []
    assert json.loads((out / "params.json").read_text()) == {"x": 0.75}
    assert json.loads((out / "extra.txt").read_text()) == {"seed": 3, "number": 4}
    history = [json.loads(line) for line in (out / "history.jsonl").read_text().splitlines()]
    assert history == [{"step": s, "loss": 1.0 / s} for s in (1, 2, 3)]
    assert read_result(out) == result
    assert TrialResult.from_dict(json.loads((out / RESULT).read_text())) == result
    log = (out / "trial.log").read_text()
    assert "hello from the trial" in log  # what the trial prints goes to its log ...
    assert "a line the trial logged" in log and "metrics" in log
    assert "hello from the trial" not in capsys.readouterr().out  # ... not to the console


def test_steps_and_final_metrics_are_dvclive_output(tmp_path: Path) -> None:
    out = tmp_path / "trials" / "0"
    result = execute_trial(make_spec(tmp_path))
    live = out / "dvclive"
    # Every step of ctx.report as a DVCLive series, the final metrics as its summary (written by
    # DVCLive, read back with DVCLive's own reader).
    assert pd.read_csv(live / "plots/metrics/loss.tsv", sep="\t").to_dict("list") == {
        "step": [1, 2, 3],
        "loss": [1.0, 0.5, 1.0 / 3],
    }
    assert Live(dir=str(live), resume=True, save_dvc_exp=False, dvcyaml=False).read_latest() == {
        **result.metrics,
        "step": 3,
    }
    assert not (live / "dvc.yaml").exists() and not (live / "plots/metrics/val_accuracy.tsv").exists()


def test_a_trial_leaves_no_thread_behind(tmp_path: Path) -> None:
    # A worker process runs thousands of trials: DVCLive's Studio post (not configured here) left
    # one idle thread per trial.
    execute_trial(make_spec(tmp_path))  # the process's watchdog thread starts with its first trial
    before = set(threading.enumerate())
    for number in range(1, 4):
        execute_trial(make_spec(tmp_path, number=number))
    assert set(threading.enumerate()) == before


def test_monitor_system_adds_the_trials_resource_use(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A slow sample (a machine under load): the trial ends while the monitor is mid-sample, and
    # its last figures must still land in the trial's folder, not after the folder is published.
    from dvclive.monitor_system import _SystemMonitor

    ram_info = _SystemMonitor._get_ram_info

    def slow_ram_info(self: Any) -> Any:
        time.sleep(0.4)
        return ram_info(self)

    monkeypatch.setattr(_SystemMonitor, "_get_ram_info", slow_ram_info)
    out = tmp_path / "trials" / "0"
    execute_trial(make_spec(tmp_path, slow_trial, monitor_system=True))
    # The monitor's thread has ended with the trial: nothing writes into the published folder.
    assert not [t for t in threading.enumerate() if "_monitoring_loop" in t.name]
    assert sorted(p.name for p in (tmp_path / "trials").iterdir()) == ["0"]
    system = out / "dvclive/plots/metrics/system"
    series = {str(p.relative_to(system)) for p in system.rglob("*.tsv")}
    assert {"cpu/usage (%).tsv", "ram/usage (GB).tsv"} <= series, series
    assert len(pd.read_csv(system / "cpu/usage (%).tsv", sep="\t")) >= 1
    execute_trial(make_spec(tmp_path, slow_trial, number=1))
    assert not (tmp_path / "trials/1/dvclive/plots/metrics/system").exists()  # off unless asked


def test_a_trial_is_finishing_from_its_functions_return_until_its_folder_is_published(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An orphaned worker (its driver killed) waits for FINISHING before it exits, so a trial that
    # ran to its end is published and not run again by the resumed run.
    seen = []
    publish = execute.replace_dir

    def replace_dir(src: Path, dest: Path) -> None:
        seen.append(execute.FINISHING.wait(0.05))  # False: someone is finishing (this trial)
        publish(src, dest)

    monkeypatch.setattr(execute, "replace_dir", replace_dir)
    execute_trial(make_spec(tmp_path))
    with pytest.raises(ValueError):
        execute_trial(make_spec(tmp_path, failing_trial, number=1))  # failed inside: never finishing
    assert seen == [False, True]
    assert execute.FINISHING.wait(0.0)  # and nothing left held


def test_a_trial_its_lost_worker_published_is_returned_not_run_again(tmp_path: Path) -> None:
    # A batch job cancelled as its trial publishes (its worker waits for that: ablate.runtime.worker):
    # Dask gives the task to another worker, which finds the folder published by this same spec.
    first = execute_trial(make_spec(tmp_path, counted_trial))
    # Its worker died under it all the same: the record counts the interrupted attempt.
    assert execute_trial(make_spec(tmp_path, counted_trial)) == dataclasses.replace(first, interrupted=1)
    runs = tmp_path / "runs.log"
    assert runs.read_text().splitlines() == ["0 3"]
    # Another spec for the same folder (another seed: another cache key) runs.
    assert execute_trial(make_spec(tmp_path, counted_trial, seed=4)).provenance.seed == 4
    assert runs.read_text().splitlines() == ["0 3", "0 4"]


def test_folders_left_by_attempts_whose_process_died_are_counted_and_removed(tmp_path: Path) -> None:
    # A worker killed mid-trial (a cancelled or preempted job) leaves its staging folder behind.
    trials = tmp_path / "trials"
    for name in (".1.tmp-abc", ".1.tmp-def", ".10.tmp-xyz", ".1.old-123"):
        (trials / name).mkdir(parents=True)
    result = execute_trial(make_spec(tmp_path, number=1))
    assert result.interrupted == 2
    assert leftovers(trials) == [".1.old-123", ".10.tmp-xyz"]  # trial 10's attempt may be running
    assert execute_trial(make_spec(tmp_path, number=7, trials_dir=str(tmp_path / "new"))).interrupted == 0


def test_context_history_records_reports(tmp_path: Path) -> None:
    spec = make_spec(tmp_path)
    ctx = TrialContext(spec, tmp_path, deadline=None)
    ctx.report(1, {"a": 1})
    ctx.report(2, {"a": np.float64(0.5)})
    assert ctx.history == [{"step": 1, "a": 1.0}, {"step": 2, "a": 0.5}]
    assert (tmp_path / "history.jsonl").read_text().count("\n") == 2
    assert (ctx.seed, ctx.number, ctx.task, ctx.n_classes, ctx.device) == (3, 0, "classification", 2, "cpu")


def test_load_data_returns_copies(tmp_path: Path) -> None:
    prepared, _ = prepare_data(DataConfig(source="sklearn:wine"), 0, tmp_path / "wine")
    ctx = TrialContext(make_spec(tmp_path, data=prepared), tmp_path, deadline=None)
    X_tr, y_tr, X_va, y_va = ctx.load_data()
    assert X_tr.shape == tuple(prepared.shapes["train"])
    assert X_va.shape == tuple(prepared.shapes["val"])
    assert X_tr.dtype == np.float32 and len(y_tr) == len(X_tr) and len(y_va) == len(X_va)
    X_tr[:] = 123.0
    y_va[:] = -1
    X_tr2, _, _, y_va2 = ctx.load_data()
    assert not (X_tr2 == 123.0).any() and not (y_va2 == -1).any()


def test_retried_trial_replaces_the_failed_attempt_whole(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        execute_trial(make_spec(tmp_path, failing_trial, number=2))
    assert (tmp_path / "trials" / "2" / ERROR).exists()
    execute_trial(make_spec(tmp_path, ok_trial, number=2))
    out = tmp_path / "trials" / "2"
    assert (out / RESULT).exists() and not (out / ERROR).exists()
    assert leftovers(tmp_path / "trials") == []


# ---------------------------------------------------------------------------------------------
# Failures


def test_raising_trial_keeps_its_evidence(tmp_path: Path) -> None:
    spec = make_spec(tmp_path, failing_trial, number=7)
    with pytest.raises(ValueError, match="boom in the trial"):
        execute_trial(spec)
    out = tmp_path / "trials" / "7"
    names = sorted(p.name for p in out.iterdir())
    assert RESULT not in names
    assert names == ["dvclive", ERROR, "history.jsonl", "params.json", "trial.log"]
    # Its curve up to where it failed, in DVCLive's files; no final metrics.
    assert pd.read_csv(out / "dvclive/plots/metrics/loss.tsv", sep="\t").to_dict("list") == {
        "step": [1],
        "loss": [2.0],
    }
    assert json.loads((out / "dvclive/metrics.json").read_text()) == {"loss": 2.0, "step": 1}
    assert "ValueError: boom in the trial" in (out / ERROR).read_text()
    assert "Traceback" in (out / ERROR).read_text()
    assert "boom in the trial" in (out / "trial.log").read_text()
    assert read_result(out) is None
    assert leftovers(tmp_path / "trials") == []


@pytest.mark.parametrize(
    ("func", "message"),
    [
        (non_dict_trial, "trial 1: {ep} must return a non-empty dict of metrics, but got 0.9"),
        (empty_dict_trial, "trial 1: {ep} must return a non-empty dict of metrics, but got {{}}"),
        (text_metric_trial, "trial 1: metric 'val_accuracy' must be a number, but got 'high'"),
        (nan_trial, "trial 1: study.metric 'val_accuracy' must be a finite number, but got nan"),
        (inf_trial, "trial 1: study.metric 'val_accuracy' must be a finite number, but got inf"),
        (nan_loss_trial, "trial 1: metric 'val_loss' must be a finite number, but got nan"),
        (
            no_study_metric_trial,
            "trial 1: study.metric 'val_accuracy' must be among the returned metrics (val_loss, train_loss), "
            "but got none",
        ),
        (
            fixed_column_metric_trial,
            "trial 1: metric names must not be fixed columns of the trials table (number, state, pareto, feasible, "
            "enqueued, n_seeds, duration_s, worker, error, reason, straggler, note, host, worker_address, job_id, "
            "cached, cache_key, "
            "git_commit, code_version), "
            "but got 'state'",
        ),
    ],
    ids=["not-a-dict", "empty", "text", "nan", "inf", "nan-other", "no-study-metric", "fixed-column"],
)
def test_bad_return_value_is_an_invalid_metric_error(tmp_path: Path, func: Any, message: str) -> None:
    spec = make_spec(tmp_path, func, number=1, metric="val_accuracy")
    with pytest.raises(InvalidMetricError) as info:
        execute_trial(spec)
    assert str(info.value) == message.format(ep=spec.entrypoint)
    out = tmp_path / "trials" / "1"
    assert (out / ERROR).exists() and not (out / RESULT).exists()
    assert leftovers(tmp_path / "trials") == []


def test_unimportable_entrypoint_fails_the_trial(tmp_path: Path) -> None:
    spec = dataclasses.replace(make_spec(tmp_path), entrypoint="no_such_module_for_ablate_tests:f")
    with pytest.raises(ModuleNotFoundError):
        execute_trial(spec)
    assert "ModuleNotFoundError" in (tmp_path / "trials" / "0" / ERROR).read_text()


# ---------------------------------------------------------------------------------------------
# Cache keys and code versions


def test_cache_key_follows_what_decides_the_result(tmp_path: Path) -> None:
    base = make_spec(tmp_path)
    key = base.cache_key
    assert len(key) == 64 and key == make_spec(tmp_path).cache_key
    changed = {
        "params": dataclasses.replace(base, params={"x": 0.5}),
        "seed": dataclasses.replace(base, seed=4),
        "data hash": dataclasses.replace(base, data=dataclasses.replace(DUMMY, data_hash="e" * 64)),
        "code version": dataclasses.replace(base, code_version="v2"),
        "entrypoint": dataclasses.replace(base, entrypoint=entry(failing_trial)),
    }
    for what, spec in changed.items():
        assert spec.cache_key != key, what
    same = {
        "number": dataclasses.replace(base, number=99),
        "trials dir": dataclasses.replace(base, trials_dir=str(tmp_path / "elsewhere")),
        "timeout": dataclasses.replace(base, timeout_s=5.0),
        "provenance": dataclasses.replace(base, provenance=Provenance(python="3.12")),
        "data path": dataclasses.replace(base, data=dataclasses.replace(DUMMY, path="/moved")),
    }
    for what, spec in same.items():
        assert spec.cache_key == key, what


def test_cache_key_ignores_params_order(tmp_path: Path) -> None:
    a = make_spec(tmp_path, params={"x": 1, "y": "relu"})
    b = make_spec(tmp_path, params={"y": "relu", "x": 1})
    assert a.cache_key == b.cache_key


def test_code_version_follows_the_module_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    module = tmp_path / "ablate_unit_trial_module.py"
    module.write_text("def train(params, ctx):\n    return {'m': 1.0}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "ablate_unit_trial_module", raising=False)
    v1 = code_version("ablate_unit_trial_module:train")
    assert v1 == code_version("ablate_unit_trial_module:train")  # stable
    assert v1 != code_version("ablate.models.mlp:train")
    module.write_text("def train(params, ctx):\n    return {'m': 2.0}\n")
    assert code_version("ablate_unit_trial_module:train") != v1


def test_read_result_of_a_bad_folder(tmp_path: Path) -> None:
    assert read_result(tmp_path / "absent") is None
    (tmp_path / RESULT).write_text("{not json")
    assert read_result(tmp_path) is None
    (tmp_path / RESULT).write_text(json.dumps({"number": 1}))  # fields missing
    assert read_result(tmp_path) is None


# --- ablation trials: feature drops, the held-out test split, folders and names -------------


def _echo_shapes(params, ctx):  # noqa: ANN001
    X_tr, _, X_va, _ = ctx.load_data()
    out = {"n_train_cols": float(X_tr.shape[1]), "n_val_cols": float(X_va.shape[1]), "ctx_n": float(ctx.n_features)}
    if ctx.score_test:
        X_te, y_te = ctx.load_test()
        out["n_test_rows"] = float(len(y_te))
        out["n_test_cols"] = float(X_te.shape[1])
    return out


def test_dropped_features_are_removed_from_every_split_and_the_cache_key(tmp_path: Path) -> None:
    from ablate.data import prepare_data, read_features
    from ablate.trial.execute import execute_trial
    from ablate.vocab.params import DataConfig
    from ablate.vocab.trial import TrialSpec

    prepared, _ = prepare_data(DataConfig(source="sklearn:wine"), 0, tmp_path / "prep")
    names = read_features(prepared.path, prepared.data_hash)
    drop = tuple(n for n in names if n.startswith("color") or n == "hue")
    assert len(drop) == 2
    base = dict(
        study="s",
        number=0,
        params={},
        seed=0,
        entrypoint="tests.ablate.trial.test_trial:_echo_shapes",
        code_version="v",
        data=prepared,
        trials_dir=str(tmp_path / "trials"),
    )
    full = TrialSpec(**base)
    ablated = TrialSpec(**{**base, "drop_features": drop, "score_test": True, "folder": "no-color.s0", "name": "arm"})
    assert full.cache_key != ablated.cache_key
    assert full.cache_key == TrialSpec(**base).cache_key  # unchanged for plain trials
    assert ablated.out_dir == tmp_path / "trials" / "no-color.s0" and ablated.label == "arm"
    assert full.label == "trial-0"
    m = execute_trial(ablated).metrics
    assert m["n_train_cols"] == m["n_val_cols"] == m["n_test_cols"] == m["ctx_n"] == len(names) - 2
    assert m["n_test_rows"] == prepared.shapes["test"][0]
    assert (tmp_path / "trials" / "no-color.s0" / "result.json").exists()


def test_a_search_trial_cannot_load_the_test_split(tmp_path: Path) -> None:
    from ablate.data import prepare_data
    from ablate.errors import TrialError
    from ablate.trial.context import TrialContext
    from ablate.vocab.params import DataConfig
    from ablate.vocab.trial import TrialSpec

    prepared, _ = prepare_data(DataConfig(source="sklearn:wine"), 0, tmp_path / "prep")
    spec = TrialSpec("s", 3, {}, 0, "x:y", "v", prepared, str(tmp_path))
    ctx = TrialContext(spec, tmp_path, None)
    assert ctx.score_test is False
    with pytest.raises(TrialError, match="test split is held out from the search"):
        ctx.load_test()
