"""The dvc.yaml stages depend on the code they run: every dep exists, and each stage's deps cover
every module its step imports (statically, at any depth, function-level imports included), plus
the study's trial function. A module moved or added without its stage knowing would let
``dvc repro`` skip a stage whose outputs that code changes."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("ablate", "flows", "tasks")
# What each step runs, below the command line and the pipeline that only order the steps.
STEP_MODULES = {
    "prepare": ("tasks.prepare",),
    "search": ("flows.search",),
    "ablation": ("flows.ablation",),
    "analyze": ("tasks.analyze",),
}
# The repo's pipeline, and the example pipelines a user copies to dvc.yaml beside them.
DVC_FILES = sorted([REPO / "dvc.yaml", *REPO.glob("pipelines/*/dvc.yaml.example")])


def module_file(module: str) -> Path | None:
    path = REPO.joinpath(*module.split("."))
    for candidate in (path / "__init__.py", path.with_suffix(".py")):
        if candidate.exists():
            return candidate
    return None


def imported(path: Path, module: str) -> set[str]:
    """Project modules (and names that may be modules) that ``path`` imports anywhere in it."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            found |= {base} | {f"{base}.{a.name}" for a in node.names}
    return {m for m in found if m.split(".")[0] in PACKAGES}


def import_closure(*modules: str) -> set[Path]:
    """The files of every project module reachable from ``modules`` (parent packages included)."""
    seen: set[str] = set()
    todo = list(modules)
    while todo:
        module = todo.pop()
        path = module_file(module)
        if path is None or module in seen:
            continue
        seen.add(module)
        parts = module.split(".")
        todo += [".".join(parts[:i]) for i in range(1, len(parts))]
        todo += imported(path, module)
    files = {module_file(m) for m in seen}
    return {f for f in files if f is not None and not _docstring_only(f)}


def _docstring_only(path: Path) -> bool:
    return all(isinstance(n, ast.Expr) for n in ast.parse(path.read_text()).body)


def stages() -> list[tuple[Path, str, dict]]:
    return [(f, name, stage) for f in DVC_FILES for name, stage in yaml.safe_load(f.read_text())["stages"].items()]


def stage_id(item: tuple[Path, str, dict]) -> str:
    return f"{item[0].relative_to(REPO)}:{item[1]}"


def trial_module(cmd: str) -> str:
    params_file = REPO / cmd.split()[2]
    entrypoint = (yaml.safe_load(params_file.read_text()).get("trial") or {}).get("entrypoint")
    return (entrypoint or "ablate.models.mlp:train").partition(":")[0]


def test_every_dvc_file_is_checked() -> None:
    assert len(DVC_FILES) >= 3 and {n for _, n, _ in stages()} == set(STEP_MODULES)


@pytest.mark.parametrize("item", stages(), ids=stage_id)
def test_each_dep_of_a_stage_exists(item: tuple[Path, str, dict]) -> None:
    _, _, stage = item
    missing = [d for d in stage["deps"] if d.split("/")[0] in PACKAGES and not (REPO / d).exists()]
    assert not missing, f"deps that no longer exist: {missing}"


@pytest.mark.parametrize("item", stages(), ids=stage_id)
def test_a_stages_deps_cover_every_module_its_step_imports(item: tuple[Path, str, dict]) -> None:
    _, name, stage = item
    command = stage["cmd"].split()
    assert command[:2] == ["ablate", name], stage["cmd"]
    modules = STEP_MODULES[name]
    if name in ("search", "ablation"):  # the trials run the study's trial function
        modules += (trial_module(stage["cmd"]),)
    deps = [REPO / d for d in stage["deps"]]
    uncovered = sorted(
        str(f.relative_to(REPO)) for f in import_closure(*modules) if not any(f == d or d in f.parents for d in deps)
    )
    assert not uncovered, f"imported by the {name} step but not among its deps: {uncovered}"


def test_the_closure_follows_imports_inside_functions() -> None:
    # tasks.analyze reaches the ablation statistics only through ablate.report.build: the walk
    # must follow imports at any depth, or the coverage test above would be vacuous.
    files = {str(f.relative_to(REPO)) for f in import_closure("tasks.analyze")}
    assert {"ablate/report/build.py", "ablate/ablation/stats.py", "ablate/report/html.py"} <= files
    assert "flows/search.py" not in files
