"""Hung trials and stragglers through the real loop: a trial blocked in one native call far past
its timeout (``time.sleep`` in C, which the exception raised in its thread cannot interrupt) is
stopped by replacing its worker process; the trials queued or packed beside it run elsewhere,
once; a trial much slower than its peers is flagged, and stopped under ``stragglers.stop``.
On a LocalCluster, on a real `dask scheduler` with `dask worker` processes, with trials packed
on (stand-in) GPUs, and through `ablate run` killed while a worker is being replaced."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
import yaml
from distributed import Client

from ablate.config.load import load_params
from ablate.vocab.params import Params
from flows.pipeline import study_flow
from tests.flows.helpers import REPO, deep_update, quick_study, write_params
from tests.flows.test_packing import GPU_WORKERS
from tests.flows.test_scale_out import dask_processes

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_api")]
TIMEOUT_S, GRACE_S = 2.0, 2.0
HANG_S = 300.0  # far past the timeout: without the hard stop the study would take this long


def hung_study(tmp_path: Path, name: str, modes: list[str], sleep: float = 1.0, **execution) -> Params:
    """One trial per ``mode`` (see tests.flows.trial_fns:hangs), asked in this order
    (search.enqueue), each normal trial ``sleep`` s over 3 steps."""
    changes = deep_update(
        quick_study(),
        {
            "trial": {"entrypoint": "tests.flows.trial_fns:hangs", "options": {"sleep": sleep, "hang_s": HANG_S}},
            "search": {"sampler": "random", "n_trials": len(modes), "enqueue": [{"mode": m} for m in modes]},
            "execution": {"trial_timeout_s": TIMEOUT_S, "timeout_grace_s": GRACE_S, "retries": 2, **execution},
        },
    )
    path = write_params(tmp_path, name, changes)
    raw = yaml.safe_load(path.read_text())
    raw["search"]["space"] = {"mode": modes}
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return load_params(path)


def counts(params: Params, log: str) -> Counter:
    path = params.study_dir / log
    return Counter(line.split()[1] for line in path.read_text().splitlines()) if path.exists() else Counter()


def check_hung_study(params: Params, modes: list[str], took_s: float) -> pd.DataFrame:
    """What every hung-trial study must show: the hung trial FAIL (timeout) after holding its
    worker about timeout + grace, started once; every other trial COMPLETE, finished once."""
    trials = pd.read_csv(params.report_dir / "trials.csv", keep_default_na=False)
    hung = trials[trials["mode"] == "hang"].iloc[0]
    assert (hung["state"], hung["reason"]) == ("FAIL", "timeout"), hung.to_dict()
    assert "timeout: still running 2 s past execution.trial_timeout_s=2" in hung["error"]
    assert hung["worker_address"].startswith("tcp://") and hung["worker_address"] in hung["error"]
    assert TIMEOUT_S + GRACE_S <= float(hung["duration_s"]) < TIMEOUT_S + GRACE_S + 5, hung["duration_s"]
    others = trials[trials["mode"] != "hang"]
    assert set(others["state"]) == {"COMPLETE"} and len(trials) == len(modes)
    assert counts(params, "starts.log")["hang"] == 1  # neither retried nor rerun by Dask elsewhere
    # Each finished once; a neighbour computing beside the hung trial (reason moved) runs again
    # elsewhere, and may also have finished on the worker in its graceful close, result unfetched.
    executions = counts(params, "executions.log")
    moved = set(others.loc[others["reason"] == "moved", "mode"])
    assert {m: n for m, n in executions.items() if m not in moved} == {m: 1 for m in modes if m not in moved | {"hang"}}
    assert all(1 <= executions[m] <= 2 for m in moved), (executions, moved)
    folder = params.study_dir / "trials" / str(hung["number"])
    assert (folder / "timeout.json").exists() and "timeout" in (folder / "error.txt").read_text()
    assert not list((params.study_dir / "trials").glob(".*"))  # no staging folder left behind
    assert took_s < HANG_S / 4, took_s
    report = (params.report_dir / "report.md").read_text()
    assert f"The run stopped trial {hung['number']} (timeout, held its worker" in report
    return trials


def test_a_trial_hung_in_native_code_is_stopped_and_the_trials_behind_it_move(tmp_path: Path) -> None:
    modes = ["hang", "a", "b", "c", "d", "e"]
    params = hung_study(tmp_path, "hung", modes, workers=2, queue_ahead=1)
    start = time.monotonic()
    study_flow(params)
    trials = check_hung_study(params, modes, time.monotonic() - start)
    # With 4 trials in flight on 2 workers, one waited behind the hung trial: it moved to the other
    # worker a second past the hung trial's timeout, and says so.
    moved = trials[trials["reason"] == "moved"]
    assert len(moved) >= 1 and moved["note"].str.startswith("moved").all(), trials[["number", "reason", "note"]]
    assert set(moved["state"]) == {"COMPLETE"}


def test_on_an_external_scheduler_the_hung_trials_worker_comes_back(tmp_path: Path) -> None:
    modes = ["hang", "a", "b", "c"]
    with dask_processes(tmp_path) as address:
        params = hung_study(tmp_path, "ext", modes, address=address, workers=2)
        start = time.monotonic()
        study_flow(params)
        took = time.monotonic() - start
        with Client(address) as client:  # the nanny brought a fresh worker back under its name
            client.wait_for_workers(2, timeout=60)
            names = sorted(w["name"] for w in client.scheduler_info(n_workers=-1)["workers"].values())
    assert names == ["w1", "w2"]
    check_hung_study(params, modes, took)


def test_packed_trials_beside_a_hung_one_are_moved_not_lost(tmp_path: Path) -> None:
    # Two trials compute at once on each (stand-in) GPU worker, and 11 trials of 1.5 s keep the
    # 3 other places busy: one was computing beside the hung trial when its worker was replaced.
    modes = ["hang", *"abcdefghijk"]
    with dask_processes(tmp_path, **GPU_WORKERS) as address:
        params = hung_study(tmp_path, "packed", modes, sleep=1.5, address=address, workers=2, trials_per_gpu=2)
        start = time.monotonic()
        study_flow(params)
        took = time.monotonic() - start
    trials = check_hung_study(params, modes, took)
    # The trial computing beside the hung one ran again elsewhere (moved), or finished on the hung
    # trial's worker during its graceful close and was restored from the cache where it ran again.
    moved_or_restored = (trials["reason"] == "moved") | (trials["cached"].astype(str) == "True")
    assert moved_or_restored.sum() >= 1, trials[["number", "mode", "reason", "note", "cached"]]


def test_a_straggler_is_flagged_and_stopped_under_stop(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # "slow" takes 10x as long per step as its peers (3.3 s a step against 0.33 s).
    modes = ["slow", "a", "b", "c", "d", "e"]
    params = hung_study(tmp_path, "strag", modes, workers=2, trial_timeout_s=60, stragglers={"factor": 4, "stop": True})
    study_flow(params)
    out = capsys.readouterr().out
    trials = pd.read_csv(params.report_dir / "trials.csv", keep_default_na=False)
    slow = trials[trials["mode"] == "slow"].iloc[0]
    assert (slow["state"], slow["reason"]) == ("FAIL", "straggler"), slow.to_dict()
    assert slow["straggler"].startswith("step 1 not reached after") and "(median; factor 4)" in slow["straggler"]
    assert "execution.stragglers.stop" in slow["error"]
    assert f"trial {slow['number']}: straggler: step 1 not reached after" in out
    others = trials[trials["mode"] != "slow"]
    assert set(others["state"]) == {"COMPLETE"} and set(others["straggler"]) == {""}
    assert counts(params, "starts.log")["slow"] == 1 and "slow" not in counts(params, "executions.log")


def test_a_run_killed_while_a_worker_is_replaced_resumes_and_runs_nothing_twice(tmp_path: Path) -> None:
    modes = ["hang", "a", "b", "c", "d"]
    params = hung_study(tmp_path, "killed", modes, workers=2)
    command = [sys.executable, "-m", "flows.cli", "run", str(params.source)]
    proc = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if "timeout: still running" in line:  # the worker's replacement has just begun
            proc.send_signal(signal.SIGKILL)
            break
    proc.communicate(timeout=60)
    assert any("timeout: still running" in line for line in seen), "".join(seen)

    rerun = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    trials = pd.read_csv(params.report_dir / "trials.csv", keep_default_na=False)
    hung = trials[trials["mode"] == "hang"].iloc[0]
    assert (hung["state"], hung["reason"]) == ("FAIL", "timeout")  # from its record: not run again
    assert counts(params, "starts.log")["hang"] == 1
    assert set(trials.loc[trials["mode"] != "hang", "state"]) == {"COMPLETE"}
    assert counts(params, "executions.log") == Counter(m for m in modes if m != "hang")  # each once
    status = subprocess.run([*command[:3], "status", str(params.source)], cwd=REPO, capture_output=True, text=True)
    assert f"watch:       stopped trial {hung['number']} (timeout, held its worker " in status.stdout, status.stdout
