"""The domain package never imports Prefect: every module of ``ablate`` imports in a fresh
interpreter without pulling in prefect (orchestration lives in ``tasks`` and ``flows``)."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

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
