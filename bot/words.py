"""Small English helpers for everything the bot says: counts that agree with their nouns and verbs, and
possessives of names (a team called Payments owns "Payments' latest pre-mortem", not "Payments's")."""

from __future__ import annotations

NUMBER_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


def plural(n: int, word: str, many: str | None = None) -> str:
    """`1 lead`, `2 leads`, `0 leads` (`many` for an irregular plural: `plural(2, "person", "people")`)."""
    return f"{n} {noun(n, word, many)}"


def noun(n: int, word: str, many: str | None = None) -> str:
    """The noun alone, agreeing with `n`."""
    return word if n == 1 else (many or word + "s")


def verb(n: int, one: str, many: str) -> str:
    """The verb agreeing with `n` things: `verb(1, "is", "are")` → `is`."""
    return one if n == 1 else many


def spelled(n: int) -> str:
    """`two` for 2 (up to ten), digits beyond: for counts inside a sentence or a heading."""
    return NUMBER_WORDS[n] if 0 <= n < len(NUMBER_WORDS) else str(n)


def possessive(name: str) -> str:
    """`Ana's`, `Payments'` (a name ending in s takes the apostrophe alone), `the team's`."""
    name = name.rstrip()
    return name + apostrophe(name)


def apostrophe(name: str) -> str:
    """The possessive ending alone, for a name that is formatted (`*Payments*'`): `'` or `'s`."""
    return "'" if name.rstrip().endswith(("s", "S")) else "'s"


def mitigation_count(open_count: int, overdue: int = 0, unmitigated: int = 0) -> str:
    """A team's mitigations in a few words, never an all-clear while top risks have none at all:
    `no open mitigations; 2 top risks have no mitigation yet`, `3 open mitigations (1 overdue)`."""
    line = plural(open_count, "open mitigation") if open_count else "no open mitigations"
    if overdue:
        line += f" ({overdue} overdue)"
    if unmitigated:
        line += f"; {unmitigated_clause(unmitigated)}"
    return line


def unmitigated_clause(n: int) -> str:
    """`2 top risks have no mitigation yet`."""
    return f"{plural(n, 'top risk')} {verb(n, 'has', 'have')} no mitigation yet"


QUOTE_MARKS = "“”\"'‘’"


def quoted(text: str) -> str:
    """`text` in curly quotes, once: quote marks the text already has around it are not doubled."""
    return f"“{text.strip().strip(QUOTE_MARKS)}”"
