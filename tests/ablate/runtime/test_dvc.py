"""Unit tests for ablate.runtime.dvc's --set rule, on a real DVC repository with this dvc.yaml."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ablate.config.load import load_params
from ablate.errors import ConfigError
from ablate.runtime.overrides import check_overrides_recorded

ROOT = Path(__file__).resolve().parents[3]
DVC = Path(sys.executable).parent / "dvc"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A DVC repository with this repo's dvc.yaml and params/digits.yaml, as the working directory."""
    (tmp_path / "params").mkdir()
    shutil.copy(ROOT / "dvc.yaml", tmp_path / "dvc.yaml")
    shutil.copy(ROOT / "params" / "digits.yaml", tmp_path / "params" / "digits.yaml")
    subprocess.run([str(DVC), "init", "--no-scm", "-q"], cwd=tmp_path, check=True)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def check(*overrides: str) -> None:
    check_overrides_recorded(load_params("params/digits.yaml", list(overrides)), list(overrides))


def test_a_set_that_changes_a_stage_study_is_refused_with_the_dvc_command(project: Path) -> None:
    with pytest.raises(ConfigError) as info:
        check("trial.options.epochs=3", "search.n_trials=48", "execution.workers=2")
    assert str(info.value) == (
        "params/digits.yaml (--set trial.options.epochs=3): trial.options.epochs: must keep the params "
        "file's value for study digits, a stage of dvc.yaml (dvc.lock records the file's values), but got "
        "20 → 3; run `dvc exp run -S params/digits.yaml:trial.options.epochs=3 "
        "-S params/digits.yaml:search.n_trials=48` instead, or also --set study.name=NAME for a separate study"
    )


@pytest.mark.parametrize(
    "overrides",
    [
        ("trial.options.epochs=20", "execution.retries=2"),  # the file's values (retries: its default)
        ("search.space.activation={type: categorical, choices: [relu, tanh, gelu]}",),  # the same, in full
        ("study.name=digits-3", "trial.options.epochs=3"),  # a separate study, not a stage
    ],
    ids=["same-values", "same-knob", "other-study"],
)
def test_a_set_that_changes_no_recorded_study_passes(project: Path, overrides: tuple[str, ...]) -> None:
    check(*overrides)


def test_outside_a_dvc_repository_any_set_passes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "params").mkdir()
    shutil.copy(ROOT / "params" / "digits.yaml", tmp_path / "params" / "digits.yaml")
    monkeypatch.chdir(tmp_path)
    check("trial.options.epochs=3")
