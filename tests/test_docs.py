"""The documentation: the site in docs/ builds with `mkdocs build --strict` (what `make docs` runs),
and that strictness does fail a broken link, a missing page or anchor; the README stays short and
every page of the site is reachable from it by a link that resolves."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
MKDOCS = Path(sys.executable).with_name("mkdocs")
LINK = re.compile(r"\]\(([^)#\s]+)(#[^)\s]*)?\)")


def build(root: Path, site: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    return subprocess.run(
        [str(MKDOCS), "build", "--strict", "--config-file", str(root / "mkdocs.yml"), "--site-dir", str(site)],
        cwd=root, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def nav_pages() -> list[str]:
    def walk(entries: list) -> list[str]:
        pages: list[str] = []
        for entry in entries:  # a page, or a section: {title: [pages]}
            for value in entry.values() if isinstance(entry, dict) else [entry]:
                pages += walk(value) if isinstance(value, list) else [value]
        return pages

    return walk(yaml.safe_load((REPO / "mkdocs.yml").read_text())["nav"])


def test_the_site_builds_strict_with_every_page(tmp_path: Path) -> None:
    done = build(REPO, tmp_path / "site")
    assert done.returncode == 0, done.stdout + done.stderr
    pages = nav_pages()
    on_disk = sorted(p.name for p in (REPO / "docs").glob("*.md"))
    assert sorted(pages) == on_disk, "every page of docs/ is in mkdocs.yml's nav, and only those"
    for page in pages:
        html = tmp_path / "site" / ("index.html" if page == "index.md" else f"{page[:-3]}/index.html")
        assert html.is_file(), page


@pytest.mark.parametrize(
    ("planted", "named"),
    [
        ("[a broken anchor](search.md#no-such-section)", "does not contain an anchor '#no-such-section'"),
        ("[a missing page](no-such-page.md)", "no-such-page.md"),
    ],
)
def test_a_broken_link_fails_the_build(tmp_path: Path, planted: str, named: str) -> None:
    root = tmp_path / "repo"
    shutil.copytree(REPO / "docs", root / "docs")
    shutil.copy(REPO / "mkdocs.yml", root / "mkdocs.yml")
    page = root / "docs" / "development.md"
    page.write_text(page.read_text() + f"\n{planted}\n")
    done = build(root, tmp_path / "site")
    assert done.returncode != 0
    assert named in done.stdout + done.stderr


def test_the_readme_is_short_and_links_every_page() -> None:
    readme = (REPO / "README.md").read_text()
    assert len(readme.splitlines()) < 300
    targets = {m.group(1) for m in LINK.finditer(readme) if "://" not in m.group(1)}
    missing = sorted(t for t in targets if not (REPO / t).exists())
    assert not missing, f"README links to files that do not exist: {missing}"
    unlinked = sorted(p for p in nav_pages() if f"docs/{p}" not in targets)
    assert not unlinked, f"pages of the site the README does not link: {unlinked}"
    quick = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    assert re.findall(r"^make \w+$", quick, flags=re.M) == ["make run", "make test"]
