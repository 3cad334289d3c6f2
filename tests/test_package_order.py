"""The package order that pyproject.toml's import-linter contracts state (flows, then tasks, then
the floors of the domain package ablate, from its status and report down to its vocabulary and
errors; ablate never imports Prefect) holds, and the contracts do catch a breach: the same check on
a copy of the packages with one planted import fails, naming it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
HOUSE = "the house, from the top floor down BROKEN"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", str(root / "pyproject.toml")],
        cwd=root, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_the_package_order_holds() -> None:
    done = lint_imports(REPO)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Contracts: 2 kept, 0 broken." in done.stdout


@pytest.mark.parametrize(
    ("module", "planted", "broken"),
    [
        ("ablate/errors.py", "import prefect  # planted\n", "the domain package ablate never imports Prefect BROKEN"),
        ("tasks/prepare.py", "import flows.pipeline  # planted\n", HOUSE),
        # Inside ablate: the config reading a study's table (config <-> study imported each other),
        # the params' records reaching up to their reader, and two packages of one floor meeting.
        ("ablate/config/load.py", "import ablate.study.table  # planted\n", HOUSE),
        ("ablate/vocab/params.py", "import ablate.config.load  # planted\n", HOUSE),
        ("ablate/ablation/units.py", "import ablate.runtime.progress  # planted\n", HOUSE),
    ],
)
def test_a_planted_import_against_the_order_is_caught(tmp_path: Path, module: str, planted: str, broken: str) -> None:
    for package in ("ablate", "flows", "tasks"):
        shutil.copytree(REPO / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / module
    target.write_text(planted + target.read_text())
    done = lint_imports(tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert broken in done.stdout and "1 kept, 1 broken" in done.stdout, done.stdout
