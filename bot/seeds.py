"""The five articles the rules come from, and how a user reads a citation of one.

Code and docs cite a seed by its file name (`../shared/seeds/`); anything a user reads (Slack, the console,
exports, the digest) cites the article's title instead, from the table in the product brief. This module
is the one mapping between the two. Playbooks cite by title (`seed_title:`); a file name in an older
playbook is mapped here, and an unknown one is refused.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Article:
    file: str
    title: str
    author: str | None = None

    @property
    def citation(self) -> str:
        """How a user reads the citation: the title in quotes, and the author when the table names one."""
        return f"“{self.title}”" + (f" by {self.author}" if self.author else "")


ARTICLES: tuple[Article, ...] = (
    Article("000_aa66b6538f11a31c.txt", "So, are we ready for 1,000,000 users?"),
    Article("001_9a79e61d27315dc6.txt", "Scalability is a strategic necessity, not a technical detail"),
    Article("002_09b84662299bf056.txt", "How to Scale a Web Application from 1K to 1M Users"),
    Article("003_3c33792896697e9b.txt", "Scaling from 100 to 100,000 Users: What Changes"),
    Article(
        "004_26b48070c33732f0.txt",
        "Your System Does Not Need to Scale to a Million Users on Day One",
        "Eric Hanson",
    ),
)
BY_FILE: Mapping[str, Article] = {a.file: a for a in ARTICLES}

# A seed file name or its short form (`004_…`), wherever it appears in text a user may read.
FILE_PATTERN = re.compile(r"\b00[0-4]_(?:[0-9a-f]{16}(?:\.txt)?|…)")
_QUOTES = "“”\"'‘’"


def _normal(title: str) -> str:
    return " ".join(title.strip().strip(_QUOTES).casefold().split())


_BY_TITLE: Mapping[str, Article] = {_normal(a.title): a for a in ARTICLES} | {
    _normal(f"{a.title} ({a.author})"): a for a in ARTICLES if a.author
}


class UnknownSeed(ValueError):
    """A citation that names none of the five articles."""


def by_file(file: str) -> Article:
    """The article a seed file name (or its short form, `004_…`) names; `UnknownSeed` otherwise."""
    article = BY_FILE.get(file)
    if article is None:
        prefix = file[:4] if re.fullmatch(r"00[0-4]_(…|\.\.\.)?", file) else None
        article = next((a for a in ARTICLES if prefix and a.file.startswith(prefix)), None)
    if article is None:
        raise UnknownSeed("is not one of the seed files; cite the article by seed_title instead")
    return article


def by_title(title: str) -> Article:
    """The article with this title (case, spacing and surrounding quotes ignored); `UnknownSeed` otherwise."""
    article = _BY_TITLE.get(_normal(title))
    if article is None:
        raise UnknownSeed(
            "is not the title of one of the seed articles; seed_title is one of: "
            + "; ".join(f"“{a.title}”" for a in ARTICLES)
        )
    return article


def title(file: str) -> str:
    """The title users read for a seed file name (the short form `004_…` too)."""
    return by_file(file).title


def cite(file: str) -> str:
    """The citation users read for a seed file name: `“Title”`, with the author where there is one."""
    return by_file(file).citation


def cite_title(title: str) -> str:
    """The citation users read for an article named by title (a playbook's `seed_title`)."""
    try:
        return by_title(title).citation
    except UnknownSeed:
        return f"“{title.strip(_QUOTES)}”"


def cite_in_text(text: str) -> str:
    """`text` with every seed file name (or short form) replaced by the article's citation."""

    def replace(match: re.Match[str]) -> str:
        try:
            return cite(match.group(0))
        except UnknownSeed:
            return match.group(0)

    return FILE_PATTERN.sub(replace, text)
