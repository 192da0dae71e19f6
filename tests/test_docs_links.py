"""The README is a first screen and a tour; the reference lives in docs/. Every relative link in them
resolves to a file that exists (and a `#anchor` to a heading of that file, with GitHub's slugs), the
README stays short and starts with the two commands, and every environment variable is documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^(```|~~~).*?^\1[ \t]*$", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t]*#*[ \t]*$", re.MULTILINE)


def _prose(text: str) -> str:
    """The text outside code blocks and code spans (links and headings there are not links)."""
    return INLINE_CODE.sub("", FENCE.sub("", text))


def github_slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, each space a hyphen."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link in a heading keeps its text
    text = text.replace("`", "").strip().lower()
    return "".join(c for c in text if c.isalnum() or c in "-_ ").replace(" ", "-")


def anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    found = set()
    for match in HEADING.finditer(FENCE.sub("", path.read_text(encoding="utf-8"))):
        slug = github_slug(match.group(2))
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        found.add(slug if count == 0 else f"{slug}-{count}")
    return found


def relative_links(path: Path) -> list[str]:
    targets = LINK.findall(_prose(path.read_text(encoding="utf-8")))
    return [t for t in targets if not re.match(r"^[a-z][a-z0-9+.-]*:", t, re.IGNORECASE)]


def test_github_slugs_follow_githubs_rules() -> None:
    assert github_slug("Importing from Jira, Linear or GitHub") == "importing-from-jira-linear-or-github"
    assert github_slug("The YAML file (`SCALEBOT_CONFIG`)") == "the-yaml-file-scalebot_config"
    assert github_slug("Listeners (`handlers/base.py`)") == "listeners-handlersbasepy"
    assert github_slug("Weekly digest, setup and App Home") == "weekly-digest-setup-and-app-home"


def test_a_broken_link_is_found(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("# Title\n\n[ok](#title) [gone](other.md) `[code](nowhere.md)`\n```\n[x](no.md)\n```\n")
    assert relative_links(page) == ["#title", "other.md"]
    assert anchors(page) == {"title"}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_relative_link_resolves(page: Path) -> None:
    broken = []
    for target in relative_links(page):
        file_part, _, anchor = target.partition("#")
        dest = (page.parent / file_part).resolve() if file_part else page
        if not dest.exists():
            broken.append(
                f"{target}: no file {dest.relative_to(ROOT) if dest.is_relative_to(ROOT) else dest}"
            )
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            broken.append(f"{target}: no heading #{anchor} in {dest.relative_to(ROOT)}")
    assert broken == [], f"{page.relative_to(ROOT)} has broken links"


def test_the_docs_pages_the_readme_promises_exist_and_are_linked() -> None:
    readme_links = {t.partition("#")[0] for t in relative_links(ROOT / "README.md")}
    for name in (
        "configuration",
        "checklist",
        "premortem",
        "metrics",
        "debt",
        "digest",
        "console",
        "operations",
        "architecture",
        "performance",
        "developing",
    ):
        assert (ROOT / "docs" / f"{name}.md").exists()
        assert f"docs/{name}.md" in readme_links, f"the README does not link docs/{name}.md"


def test_the_readme_is_under_300_lines() -> None:
    assert len((ROOT / "README.md").read_text(encoding="utf-8").splitlines()) < 300


def test_the_readmes_first_code_block_holds_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first = FENCE.search(readme)
    assert first is not None
    commands = [line.split("#")[0].strip() for line in first.group(0).splitlines()[1:-1]]
    assert commands == ["./scripts/run", "./scripts/test"]
    assert "./scripts/test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_every_environment_variable_is_documented() -> None:
    reference = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    names = [name.upper() for name in Settings.model_fields]
    assert names, "Settings declares no variables"
    for name in names:
        assert re.search(rf"^\| `{name}`", reference, re.MULTILINE), f"{name} has no row in configuration.md"
        assert f"`{name}`" in readme, f"the README does not name {name}"
