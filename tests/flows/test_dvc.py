"""DVC as a user meets it: a project with dvc.yaml, a real local remote, `ablate run`,
`dvc status/repro/pull/exp`, a second clone, and a remote that cannot be written."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tests.flows.helpers import REPO

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_api")]
BIN = Path(sys.executable).parent


def sh(cwd: Path, *cmd: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
    return proc


def make_project(root: Path, remote: Path) -> Path:
    """A clone of this checkout, as its next commit would be (every file git tracks, edits included;
    what the repo ships is what a clone's `dvc pull` meets), with the study on a small budget and
    the DVC remote at ``remote`` (in .dvc/config.local, as a user points their clone at theirs)."""
    proj = root / "proj"
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout
    for rel in tracked.decode().split("\0"):
        if rel and (REPO / rel).is_file():
            (proj / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / rel, proj / rel)
    params = yaml.safe_load((proj / "params/digits.yaml").read_text())
    params["search"]["n_trials"] = 4
    params["trial"]["options"]["epochs"] = 2
    (proj / "params/digits.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    sh(proj, "git", "init", "-q")
    sh(proj, "dvc", "remote", "modify", "--local", "local", "url", str(remote))
    commit(proj, "new project")
    return proj


def digests(folder: Path, hidden: bool = True) -> dict[str, str]:
    """Each file's sha256; ``hidden=False`` leaves out dot files (the report's render caches,
    which are not outputs)."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and (hidden or not p.name.startswith("."))
    }


def plotted_curves(proj: Path) -> set[tuple[str, str]]:
    """The (trial, step) points `dvc plots show` draws for the study's curves, through dvc.yaml's
    template (a line a trial)."""
    shown = json.loads(sh(proj, "dvc", "plots", "show", "--json").stdout)
    assert not shown.get("errors"), shown["errors"]
    plot = shown["data"]["reports/digits/curves.csv"][0]["content"]
    assert plot["encoding"]["color"]["field"] == "trial"
    return {(v["trial"], v["step"]) for v in plot["data"]["values"]}


def dvc_state(proj: Path, *overrides: str) -> tuple[str, str]:
    """What `ablate status` says of the study's DVC record: (status, reason)."""
    dvc = json.loads(sh(proj, "ablate", "status", "params/digits.yaml", "--json", *overrides).stdout)["dvc"]
    return dvc["status"], dvc["reason"]


def commit(proj: Path, message: str) -> None:
    sh(proj, "git", "add", "-A")
    sh(proj, "git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", message)


def test_dvc_pipeline_sync_pull_repro_and_faults(tmp_path: Path) -> None:
    remote = tmp_path / "remote"
    proj = make_project(tmp_path, remote)
    study = proj / "data/studies/digits"

    # ablate run versions and pushes: the pipeline is up to date, the remote has everything.
    out = sh(proj, "ablate", "run", "params/digits.yaml").stdout
    assert "pushed to remote 'local'" in out
    assert "up to date" in sh(proj, "dvc", "status").stdout
    assert "in sync" in sh(proj, "dvc", "status", "-c").stdout
    start = time.monotonic()
    repro = sh(proj, "dvc", "repro").stdout
    assert time.monotonic() - start < 5.0 and "Running stage" not in repro

    # `ablate run` of the finished study: nothing to run, said without a flow run, nothing written.
    before = {folder: digests(proj / folder) for folder in ("data/studies/digits", "reports/digits")}
    again = sh(proj, "ablate", "run", "params/digits.yaml").stdout
    assert "study digits has its 4 trials and its report" in again and "nothing to run" in again, again
    assert "Prefect UI" not in again and "report:      reports/digits/index.html" in again
    assert {folder: digests(proj / folder) for folder in before} == before
    # `ablate status` reads DVC's record as `dvc status` (-c) would: pushed; an output edited
    # since DVC recorded it is not committed (named by its stage), and is again once restored.
    assert dvc_state(proj) == ("pushed", "remote 'local'")
    report_md = proj / "reports/digits/report.md"
    text = report_md.read_text()
    report_md.write_text(text + "edited\n")
    assert dvc_state(proj) == ("not committed", "changed since DVC recorded them: analyze")
    report_md.write_text(text)
    assert dvc_state(proj)[0] == "pushed"
    # A changed report option is work: the report is rendered again (and recorded).
    params = yaml.safe_load((proj / "params/digits.yaml").read_text())
    params["report"]["top_trials"] = 3
    (proj / "params/digits.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    again = sh(proj, "ablate", "run", "params/digits.yaml").stdout
    assert "Prefect UI" in again and "The best 3 of 4 trials" in (proj / "reports/digits/report.md").read_text()
    assert "up to date" in sh(proj, "dvc", "status").stdout
    run = json.loads((proj / "reports/digits/run.json").read_text())
    assert run["sync"]["status"] == "pushed" and run["sync"]["study_hash"].endswith(".dir")
    assert run["sync"]["study_hash"] in (proj / "reports/digits/report.md").read_text()

    # Learning curves where DVC shows them: each trial's steps are DVCLive output in its folder,
    # and `dvc plots show` draws the study's curves, a line a trial, from what dvc.yaml declares.
    assert plotted_curves(proj) == {(t, s) for t in ("0", "1", "2", "3") for s in ("1", "2")}
    for number in range(4):
        live = study / "trials" / str(number) / "dvclive"
        result = json.loads((study / "trials" / str(number) / "result.json").read_text())
        summary = json.loads((live / "metrics.json").read_text())
        assert summary["val_accuracy"] == result["metrics"]["val_accuracy"]
        trial_plots = json.loads(sh(proj, "dvc", "plots", "show", "--json", str(live / "plots/metrics")).stdout)
        assert not trial_plots.get("errors")
        assert {Path(k).name for k in trial_plots["data"]} >= {"val_accuracy.tsv", "train_loss.tsv"}

    # The colleague story: commit what docs/dvc.md says (dvc.lock, metrics.json); a second clone's
    # dvc pull gets the study, byte for byte; `ablate report` there re-renders the very same report;
    # dvc status stays clean, and a second dvc pull has nothing to do.
    commit(proj, "study digits")
    assert sh(proj, "git", "status", "--porcelain").stdout == ""  # nothing else left to commit
    clone = tmp_path / "clone"
    sh(tmp_path, "git", "clone", "-q", str(proj), str(clone))
    sh(clone, "dvc", "remote", "modify", "--local", "local", "url", str(remote))
    sh(clone, "dvc", "pull")
    outputs = ("data/prepared/digits", "data/studies/digits", "reports/digits")
    for folder in outputs:
        assert digests(clone / folder, hidden=False) == digests(proj / folder, hidden=False), folder
    report = sh(clone, "ablate", "report", "params/digits.yaml").stdout
    assert "search:" not in report and "(no trial run)" in report
    for folder in outputs:
        assert digests(clone / folder, hidden=False) == digests(proj / folder, hidden=False), folder
    status = sh(clone, "dvc", "status").stdout
    assert "up to date" in status, status
    assert sh(clone, "dvc", "pull").returncode == 0
    assert sh(clone, "git", "status", "--porcelain").stdout == ""

    # More trials: search and analyze rerun, prepare does not; only the new trials execute.
    params = yaml.safe_load((proj / "params/digits.yaml").read_text())
    params["search"]["n_trials"] = 6
    (proj / "params/digits.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    repro = sh(proj, "dvc", "repro").stdout
    assert "Running stage 'search'" in repro and "Running stage 'analyze'" in repro
    assert "Running stage 'prepare'" not in repro
    assert json.loads((proj / "reports/digits/run.json").read_text())["executed"] == 2
    assert {t for t, _ in plotted_curves(proj)} == {str(n) for n in range(6)}
    # dvc plots diff: the committed study's curves (4 trials) beside the workspace's (6).
    curves = "reports/digits/curves.csv"
    diff = json.loads(sh(proj, "dvc", "plots", "diff", "--json", "--targets", curves, "--", "HEAD").stdout)
    by_rev: dict[str, set[str]] = {}
    for point in diff["data"][curves][0]["content"]["data"]["values"]:
        by_rev.setdefault(point["rev"], set()).add(point["trial"])
    assert by_rev == {"HEAD": {"0", "1", "2", "3"}, "workspace": {str(n) for n in range(6)}}, by_rev

    # A recorded trial reruns to the same metrics, bit for bit.
    rerun = sh(proj, "ablate", "rerun", "params/digits.yaml", "3").stdout
    assert "reproduced exactly" in rerun

    # A remote that cannot be written: one sync line, non-zero exit, outputs intact.
    before = digests(study)
    shutil.move(remote, tmp_path / "remote.away")
    remote.write_text("not a directory\n")
    failed = sh(proj, "ablate", "run", "params/digits.yaml", check=False)
    assert failed.returncode == 1
    last = failed.stderr.strip().splitlines()[-1]
    assert last.startswith("ablate: error: sync: cannot push to DVC remote 'local'"), failed.stderr
    assert "Traceback" not in failed.stderr + failed.stdout
    assert {k: v for k, v in digests(study).items() if k != "last_run.json"} == {
        k: v for k, v in before.items() if k != "last_run.json"
    }
    assert "up to date" in sh(proj, "dvc", "status").stdout  # recorded locally all the same
    remote.unlink()
    shutil.move(tmp_path / "remote.away", remote)
    assert "in sync" not in sh(proj, "dvc", "status", "-c").stdout  # the remote lacks this run's
    state, reason = dvc_state(proj)
    assert state == "not pushed" and reason.endswith("file(s) not on remote 'local'"), reason
    sh(proj, "ablate", "run", "params/digits.yaml")
    assert "in sync" in sh(proj, "dvc", "status", "-c").stdout

    # DVC experiments: a params override runs the pipeline; exp show lists the metrics.
    commit(proj, "six trials")
    sh(proj, "dvc", "exp", "run", "-S", "params/digits.yaml:search.n_trials=7")
    shown = sh(proj, "dvc", "exp", "show", "--csv").stdout
    header = shown.splitlines()[0].split(",")
    assert "best_value" in header and "search.n_trials" in header
    rows = [dict(zip(header, line.split(","))) for line in shown.splitlines()[1:]]
    assert {r["search.n_trials"] for r in rows} >= {"6", "7"}
    assert all(r["complete"] for r in rows if r["search.n_trials"] == "7")

    # A study that is not a stage of dvc.yaml is versioned with .dvc files and pushed too.
    sh(proj, "ablate", "run", "params/digits.yaml", "--set", "study.name=other", "--set", "search.n_trials=2")
    for tracked in ("data/prepared/other.dvc", "data/studies/other.dvc", "reports/other.dvc"):
        assert (proj / tracked).exists(), tracked
    assert "in sync" in sh(proj, "dvc", "status", "-c", "data/studies/other.dvc").stdout
    other = json.loads((proj / "reports/other/run.json").read_text())["sync"]
    assert other["status"] == "pushed" and other["study_hash"].endswith(".dir")
    assert dvc_state(proj, "--set", "study.name=other", "--set", "search.n_trials=2")[0] == "pushed"
