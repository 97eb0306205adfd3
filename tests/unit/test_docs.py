"""The README is a front door and docs/ holds the rest: every link between them lands on a heading that
exists, the README stays short, and its configuration example is one the app accepts."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from ddb_datapipeline.app_builder import plan

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")


def anchors(page: Path) -> set[str]:
    """Heading anchors as GitHub renders them: lower case, punctuation dropped, spaces to hyphens, and a
    repeated heading numbered from -1."""
    counts: dict[str, int] = {}
    found: set[str] = set()
    fenced = False
    for line in page.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            fenced = not fenced
        heading = None if fenced else re.match(r"#{1,6} (.+)", line)
        if heading:
            slug = re.sub(r"[^\w\- ]", "", heading.group(1).strip().lower()).replace(" ", "-")
            found.add(slug if slug not in counts else f"{slug}-{counts[slug]}")
            counts[slug] = counts.get(slug, 0) + 1
    return found


def broken_links(page: Path) -> list[str]:
    broken = []
    for target in LINK.findall(page.read_text(encoding="utf-8")):
        if target.startswith(("http://", "https://", "mailto:")):
            continue
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        if not linked.exists():
            broken.append(f"{target}: no such file")
        elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
            broken.append(f"{target}: no such heading in {linked.name}")
    return broken


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_link_lands_on_a_file_and_heading_that_exist(page):
    assert broken_links(page) == []


def test_a_broken_link_is_reported(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("# Title\n\n[ok](#title) [gone](#no-such-part) [file](missing.md)\n", encoding="utf-8")
    assert broken_links(page) == ["#no-such-part: no such heading in page.md", "missing.md: no such file"]


def test_the_readme_is_a_front_door():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 300
    listed = set(re.findall(r"\]\(docs/([\w-]+\.md)", readme))
    assert listed == {page.name for page in PAGES[1:]}, "every page of docs/ is reachable from the README"


def test_the_readmes_configuration_example_is_accepted():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("<!-- example: config -->\n```json\n", 1)[1].split("```", 1)[0]
    environments = json.loads("{" + block + "}")["environments"]
    planned = plan({"environments": environments})
    assert planned  # both engines' environments load and plan without a configuration error
