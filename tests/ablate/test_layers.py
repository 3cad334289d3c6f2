"""The domain package never imports Prefect: every module of ``ablate`` imports in a fresh
interpreter without pulling in prefect (orchestration lives in ``tasks`` and ``flows``)."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import ablate


def test_no_module_of_ablate_imports_prefect() -> None:
    modules = sorted(m.name for m in pkgutil.walk_packages(ablate.__path__, "ablate."))
    assert "ablate.ablation.stats" in modules and len(modules) > 30
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m == 'prefect' or m.startswith('prefect.'))\n"
        "print(len(bad))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "0"


def test_every_module_of_ablate_stays_short() -> None:
    # One concept a module: a file past ~300 lines has grown a second job (split it by concept).
    root = Path(ablate.__path__[0])
    lengths = {str(p.relative_to(root)): len(p.read_text().splitlines()) for p in root.rglob("*.py")}
    assert len(lengths) > 30
    assert {name: n for name, n in lengths.items() if n > 300} == {}
