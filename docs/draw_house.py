"""Draw the house: the floors of pyproject.toml's layers contract, top floor first, and an arrow for
each pair of packages where one imports the other (read from the code by grimp, import-linter's
graph). Writes docs/img/house.png; run it after a change of the package order:

    .venv/bin/python docs/draw_house.py    # Python 3.11+ (tomllib)
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import grimp
import tomllib
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

REPO = Path(__file__).resolve().parents[1]
CONTRACT = "the house, from the top floor down"


def floors() -> list[list[str]]:
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]
    contract = next(c for c in config["contracts"] if c["name"] == CONTRACT)
    return [[name.strip() for name in layer.split("|")] for layer in contract["layers"]]


def imports_between(names: list[str]) -> Counter[tuple[str, str]]:
    """(importer, imported) of the named packages, counted by module pairs."""
    graph = grimp.build_graph("ablate", "flows", "tasks", cache_dir=None)
    owner = {}
    for module in graph.modules:
        match = [n for n in names if module == n or module.startswith(n + ".")]
        if match:
            owner[module] = max(match, key=len)
    pairs: Counter[tuple[str, str]] = Counter()
    for module, name in owner.items():
        for imported in graph.find_modules_directly_imported_by(module):
            if imported in owner and owner[imported] != name:
                pairs[(name, owner[imported])] += 1
    return pairs


def draw(out: Path) -> None:
    plan = floors()
    names = [n for floor in plan for n in floor]
    pairs = imports_between(names)
    width, row = 12.0, 0.85
    fig = Figure(figsize=(width, row * len(plan) + 0.6), layout="constrained")
    ax = fig.add_subplot()
    ax.set_xlim(0, width)
    ax.set_ylim(-0.75, row * len(plan))
    ax.axis("off")
    where = {}
    for level, floor in enumerate(plan):
        y = row * (len(plan) - 1 - level) + 0.15
        box_w = min(2.6, (width - 0.4) / len(floor) - 0.3)
        gap = (width - box_w * len(floor)) / (len(floor) + 1)
        for i, name in enumerate(floor):
            x = gap + i * (box_w + gap)
            ax.add_patch(FancyBboxPatch((x, y), box_w, 0.45, boxstyle="round,pad=0.02", fc="#dbe6f3", ec="#4a6785"))
            ax.text(x + box_w / 2, y + 0.225, name.removeprefix("ablate."), ha="center", va="center", fontsize=10)
            where[name] = (x + box_w / 2, y)
        ax.text(0.02, y + 0.25, str(len(plan) - level), ha="left", va="center", fontsize=8, color="0.5")
    # Not drawn: the arrows into the errors (nearly every module raises one) and those out of flows
    # and tasks, which may use any floor below them (the caption says so).
    shown = {p: n for p, n in pairs.items() if p[1] != "ablate.errors" and p[0] not in ("flows", "tasks")}
    shown |= {p: n for p, n in pairs.items() if p == ("flows", "tasks")}
    for (src, dst), n in shown.items():
        (x0, y0), (x1, y1) = where[src], where[dst]
        arrow = FancyArrowPatch(
            (x0, y0), (x1, y1 + 0.45), arrowstyle="-|>", mutation_scale=8, color="#7a8ca3",
            alpha=0.35 + 0.4 * min(1.0, n / 20), linewidth=0.6 + min(2.0, n / 15), connectionstyle="arc3,rad=0.08",
        )  # fmt: skip
        ax.add_patch(arrow)
    ax.text(
        width / 2, -0.5,
        "The floors of the layers contract, top floor first. An arrow: the upper package imports the lower "
        "(thicker: more module pairs);\nnot drawn: flows and tasks use any floor below them, and nearly "
        "every module imports the errors. Packages on one floor import nothing of each other.",
        ha="center", va="center", fontsize=8, color="0.35",
    )  # fmt: skip
    fig.savefig(out, dpi=110)


if __name__ == "__main__":
    draw(REPO / "docs" / "img" / "house.png")
