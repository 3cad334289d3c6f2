"""The type checker passes on ablate, tasks and flows as pyproject.toml configures it, and it does
check: a mistake planted in a copy (an Optional used as if set; an untyped function at the bottom of
the house, which is checked strictly) fails it, naming the line."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # mypy over the packages from a new cache: ~20 s on 2 cores
REPO = Path(__file__).resolve().parents[1]
MYPY = Path(sys.executable).with_name("mypy")


def mypy(root: Path, cache: Path, *files: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(MYPY), "--config-file", str(root / "pyproject.toml"), "--cache-dir", str(cache), *files],
        cwd=root, env={**os.environ, "MYPYPATH": ""}, capture_output=True, text=True, timeout=600,
    )  # fmt: skip


def test_the_packages_type_check(tmp_path: Path) -> None:
    done = mypy(REPO, tmp_path / "cache")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Success: no issues found" in done.stdout


@pytest.mark.parametrize(
    ("module", "planted", "line", "named"),
    [
        ("ablate/errors.py", "def planted(x):\n    return x\n", 1, "Function is missing a type annotation"),
        (
            "ablate/worker_env.py",
            "def planted(x: str | None) -> int:\n    return len(x)\n",
            2,
            'Argument 1 to "len" has incompatible type "str | None"',
        ),
    ],
)
def test_a_planted_mistake_fails_it(tmp_path: Path, module: str, planted: str, line: int, named: str) -> None:
    root = tmp_path / "repo"
    shutil.copytree(REPO / "ablate", root / "ablate", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    path = root / module
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines) + "\n\n\n" + planted)
    done = mypy(root, tmp_path / "cache", module)
    assert done.returncode != 0
    assert f"{module}:{len(lines) + 2 + line}: error: {named}" in done.stdout, done.stdout
