"""ablate.runtime.experiments: each scheduled run kept as a DVC experiment, on a real git + DVC
repository; `dvc exp show` then lists the runs with their metrics."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from ablate.config.load import load_params
from ablate.runtime.dvc import sync_study
from ablate.runtime.experiments import experiment_name, save_experiment

DVC = Path(sys.executable).parent / "dvc"
GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@t"]


def sh(cwd: Path, *cmd: str) -> str:
    return subprocess.run(cmd, cwd=cwd, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A git + DVC repository whose dvc.yaml declares the nightly study's metrics, as ours does."""
    sh(tmp_path, "git", "init", "-q")
    sh(tmp_path, str(DVC), "init", "-q")
    (tmp_path / "dvc.yaml").write_text(yaml.safe_dump({"metrics": ["reports/nightly/metrics.json"]}))
    raw = {"study": {"name": "nightly"}, "data": {"source": "sklearn:digits"}}
    raw["search"] = {"n_trials": 2, "space": {"x": {"type": "float", "low": 0, "high": 1}}}
    (tmp_path / "nightly.yaml").write_text(yaml.safe_dump(raw))
    sh(tmp_path, *GIT, "add", "-A")
    sh(tmp_path, *GIT, "commit", "-qm", "project")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run_night(repo: Path, best: float, when: datetime) -> str:
    """What a scheduled run leaves (outputs, then its sync), then its experiment; returns its name."""
    params = load_params("nightly.yaml")
    for folder in (params.prepared_dir, params.study_dir, params.report_dir):
        folder.mkdir(parents=True, exist_ok=True)
    (params.study_dir / "trials.txt").write_text(f"best {best}\n")
    (params.report_dir / "metrics.json").write_text(json.dumps({"best_value": best}))
    assert sync_study(params, ("prepare", "search"), push=False).status == "committed"
    name = experiment_name("nightly", when)
    record = save_experiment(params, name, f"nightly run of {when:%Y-%m-%d}")
    assert (record.status, record.name) == ("saved", name), record
    return name


def test_each_run_is_an_experiment_dvc_exp_show_lists_with_its_metrics(repo: Path) -> None:
    head = sh(repo, "git", "rev-parse", "HEAD")
    first = run_night(repo, 0.5, datetime(2026, 12, 1, 2, 0, tzinfo=UTC))
    second = run_night(repo, 0.75, datetime(2026, 12, 2, 2, 0, tzinfo=UTC))
    assert (first, second) == ("nightly-20261201-020000", "nightly-20261202-020000")

    shown = json.loads(sh(repo, str(DVC), "exp", "show", "--json"))
    nights = {
        rev["name"]: rev["data"]["metrics"]["reports/nightly/metrics.json"]["data"]["best_value"]
        for row in shown
        for exp in row.get("experiments") or []
        for rev in exp["revs"]
    }
    assert nights == {first: 0.5, second: 0.75}
    # The branch, the index and the working tree are as they were: only refs/exps/ grew.
    assert sh(repo, "git", "rev-parse", "HEAD") == head
    assert sh(repo, "git", "diff", "--cached", "--name-only") == ""
    assert json.loads((repo / "reports" / "nightly" / "metrics.json").read_text()) == {"best_value": 0.75}
    # An experiment holds its night: the first one's .dvc file names the first night's study.
    ref = sh(repo, "git", "for-each-ref", "--format=%(refname)", f"refs/exps/*/*/{first}").strip()
    record = yaml.safe_load(sh(repo, "git", "show", f"{ref}:data/studies/nightly.dvc"))
    now = yaml.safe_load((repo / "data" / "studies" / "nightly.dvc").read_text())
    assert record["outs"][0]["md5"] != now["outs"][0]["md5"]

    # The same scheduled run again (a retry keeps its scheduled time) replaces its experiment.
    assert run_night(repo, 0.8, datetime(2026, 12, 2, 2, 0, tzinfo=UTC)) == second
    shown = json.loads(sh(repo, str(DVC), "exp", "show", "--json"))
    names = [rev["name"] for row in shown for exp in row.get("experiments") or [] for rev in exp["revs"]]
    assert sorted(names) == [first, second]


def test_a_study_outside_the_repository_or_without_a_commit_is_not_recorded(repo: Path, tmp_path_factory) -> None:
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    raw = yaml.safe_load((repo / "nightly.yaml").read_text())
    raw["paths"] = {"data": str(elsewhere / "data"), "reports": str(elsewhere / "reports")}
    (repo / "away.yaml").write_text(yaml.safe_dump(raw))
    record = save_experiment(load_params("away.yaml"), "nightly-20261201-020000")
    assert record.status == "skipped" and "outside the DVC repository" in record.reason

    sh(repo, "git", "update-ref", "-d", "HEAD")  # as after `git init` with nothing committed
    record = save_experiment(load_params("nightly.yaml"), "nightly-20261201-020000")
    assert record.status == "skipped" and "not a git repository with a commit" in record.reason
    assert sh(repo, "git", "for-each-ref", "refs/exps") == ""
