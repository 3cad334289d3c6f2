"""A study's inputs as a user meets them: the data file changes under a finished study, `ablate
run` refuses before any trial runs, and `--restart` keeps the old study (versioned by DVC) and
starts afresh."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from tests.flows.helpers import REPO, deep_update, quick_study, write_params

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_api")]
BIN = Path(sys.executable).parent


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    cmd = [sys.executable, "-m", "flows.cli", *args] if args[0] in ("run", "search") else list(args)
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def write_table(path: Path, rows: int) -> None:
    x = [i / rows for i in range(rows)]
    pd.DataFrame({"a": x, "b": [v * v for v in x], "y": [i % 2 for i in range(rows)]}).to_csv(path, index=False)


def test_changed_data_is_refused_before_any_trial_and_restart_keeps_the_old_study(tmp_path: Path) -> None:
    for cmd in (("git", "init", "-q"), ("dvc", "init", "-q")):
        assert run(tmp_path, *cmd).returncode == 0
    write_table(tmp_path / "table.csv", 200)
    changes = deep_update(quick_study(n_trials=3), {"data": {"source": "table.csv", "target": "y"}})
    params = write_params(tmp_path, "fp", changes)
    study = tmp_path / "data" / "studies" / "fp"

    first = run(tmp_path, "run", params.name)
    assert first.returncode == 0, first.stdout + first.stderr
    recorded = json.loads((study / "fingerprint.json").read_text())
    assert recorded["trial.options"]["sleep"] == 0.0 and len(recorded["data hash"]) == 64

    # Half the rows: the trials of the study were computed from other data.
    write_table(tmp_path / "table.csv", 100)
    refused = run(tmp_path, "run", params.name)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    last = refused.stderr.strip().splitlines()[-1]
    old = recorded["data hash"][:4]
    assert last.startswith(
        f"ablate: error: {params.name}: study fp: must keep the inputs its 3 trial(s) were computed from, "
        f"but got data hash: {old}… → "
    ), last
    new = re.search(r"→ (\w{4})…", last).group(1)
    assert new != old and "--set study.name=fp-2" in last and "--restart" in last
    assert "Traceback" not in refused.stdout + refused.stderr
    assert "search: study fp" not in refused.stdout  # no cluster was started
    assert len((study / "executions.log").read_text().splitlines()) == 3  # and no trial ran

    restarted = run(tmp_path, "run", params.name, "--restart")
    assert restarted.returncode == 0, restarted.stdout + restarted.stderr
    note = re.search(
        r"^restart: study fp changed \(data hash: (\w{4})… → (\w{4})…\); kept as (\S+) and (\S+)$",
        restarted.stdout,
        re.M,
    )
    assert note and note.groups()[:2] == (old, new), restarted.stdout
    kept_study, kept_report = Path(note.group(3)), Path(note.group(4))
    assert kept_study.parent == study.parent and re.fullmatch(r"fp\.\d{8}T\d{6}Z", kept_study.name)
    assert kept_report == tmp_path / "reports" / kept_study.name
    # The old study is whole, and versioned by the sync step like any study outside dvc.yaml.
    assert json.loads((kept_study / "fingerprint.json").read_text()) == recorded
    assert len(pd.read_csv(kept_report / "trials.csv")) == 3
    for kept in (kept_study, kept_report):
        assert kept.with_name(kept.name + ".dvc").exists(), kept
    # The new study: the new data, every trial computed afresh (the cache key holds the data hash).
    assert json.loads((study / "fingerprint.json").read_text())["data hash"].startswith(new)
    assert json.loads((tmp_path / "reports" / "fp" / "run.json").read_text())["executed"] == 3
    assert list(pd.read_csv(tmp_path / "reports" / "fp" / "trials.csv")["state"]) == ["COMPLETE"] * 3
