"""`ablate status PARAMS` as a user meets it: before, during (from another terminal) and after a
run, without Prefect or Dask, and without touching the study."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from tests.flows.dashboard import read_through_dashboard
from tests.flows.helpers import REPO, deep_update, quick_study, write_params
from tests.flows.test_cli import PROGRESS, cli


def status(path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flows.cli", "status", str(path), *args],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def status_json(path: Path, *args: str) -> dict:
    done = status(path, "--json", *args)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_status_imports_neither_prefect_nor_dask(tmp_path: Path) -> None:
    path = write_params(tmp_path, "plain", quick_study())
    code = (
        "import sys\nfrom flows.cli import main\n"
        f"rc = main(['status', {str(path)!r}])\n"
        "bad = sorted({m.split('.')[0] for m in sys.modules} & {'prefect', 'dask', 'distributed'})\n"
        "print('IMPORTED', bad, rc)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "IMPORTED [] 0" in done.stdout
    assert "trials:      0 complete, 0 running, 0 failed, 0 pruned (budget 4)" in done.stdout
    assert "last run:    none yet" in done.stdout
    assert not (tmp_path / "data").exists()  # a status writes nothing


def test_status_of_a_missing_params_file_is_one_line_exit_2(tmp_path: Path) -> None:
    done = status(tmp_path / "nope.yaml")
    assert done.returncode == 2 and done.stdout == ""
    missing = f"ablate: error: {tmp_path / 'nope.yaml'}: the params file must exist, but it was not found"
    assert done.stderr.strip().splitlines() == [missing]


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_api")
def test_status_before_during_and_after_a_run(tmp_path: Path) -> None:
    changes = deep_update(quick_study(n_trials=6), {"trial": {"options": {"sleep": 1.5}}})
    path = write_params(tmp_path, "watched", changes)
    before = status_json(path)
    assert (before["running"], before["last_run"], before["best"]) == (None, None, None)
    assert before["fingerprint"]["status"] == "unrecorded" and before["dvc"]["status"] == "skipped"

    run = cli(str(path))
    for line in run.stdout:  # one trial finished: the run holds the study lock and appends to the journal
        if PROGRESS.match(line):
            break
    start = time.monotonic()
    during = status_json(path)
    assert time.monotonic() - start < 30  # the lock the run holds does not block a status
    assert during["running"] == f"pid {run.pid}"
    assert 1 <= during["trials"]["complete"] < 6 and during["trials"]["running"] >= 1
    out, _ = run.communicate(timeout=300)
    assert run.returncode == 0, out

    journal = tmp_path / "data" / "studies" / "watched" / "optuna.journal"
    written = journal.read_bytes(), journal.stat().st_mtime_ns
    after = status_json(path)
    assert (journal.read_bytes(), journal.stat().st_mtime_ns) == written  # read, never written
    assert after["running"] is None
    assert after["trials"] == {"complete": 6, "running": 0, "failed": 0, "pruned": 0, "n_trials": 6}
    assert after["best"]["metric"] == "val_accuracy" and 0.9 < after["best"]["value"] <= 1.0
    last = after["last_run"]
    assert last["executed"] == 6 and last["cached"] == 0
    ended = datetime.fromisoformat(last["search_finished_at"])
    assert abs((datetime.now(timezone.utc) - ended).total_seconds()) < 120
    assert after["fingerprint"] == {"status": "match", "changes": []}
    assert after["dashboard"] == f"optuna-dashboard {journal}"
    served = read_through_dashboard(after["dashboard"], "watched")  # the journal opens as it is
    assert [(t["number"], t["state"]) for t in served] == [(n, "Complete") for n in range(6)]

    text = status(path).stdout
    assert re.search(r"^trials: +6 complete, 0 running, 0 failed, 0 pruned \(budget 6\)$", text, re.M), text
    assert re.search(r"^last run: +search ended \S+: executed 6, cached 0; the search loop [\d.]+ s$", text, re.M), text

    changed = status_json(path, "--set", "trial.options.sleep=0.5")
    assert changed["fingerprint"] == {"status": "changed", "changes": ["trial.options.sleep: 1.5 → 0.5"]}
    text = status(path, "--set", "trial.options.sleep=0.5").stdout
    assert "fingerprint: changed: trial.options.sleep: 1.5 → 0.5" in text
    assert os.environ.get("PREFECT_API_URL")  # the run shared the test's server


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://ablate:s3cret@", "study.storage: must name a host and a database"),
        (
            "postgresql://ablate:s3cret@127.0.0.1:9/ablate",
            "study.storage: must reach the database at 127.0.0.1:9 within 5 s, but got connection failed",
        ),
    ],
    ids=["malformed", "unreachable"],
)
@pytest.mark.parametrize("command", ["status", "run"])
def test_a_bad_storage_is_one_line_exit_2_without_its_password(
    tmp_path: Path, url: str, expected: str, command: str
) -> None:
    path = write_params(tmp_path, "db", deep_update(quick_study(), {"study": {"storage": url}}))
    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "flows.cli", command, str(path)], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2 and done.stdout == "" and time.monotonic() - start < 30
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], done.stderr
    assert "s3cret" not in done.stderr and "ablate:***@" in lines[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["db.yaml"]  # nothing written
