"""The console draws every emoji shortcode the bot writes, as Slack would, rather than the raw `:name:`."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from localslack.mrkdwn import EMOJI, TextContext, mrkdwn_html, plain_html

ROOT = Path(__file__).resolve().parent.parent
# A shortcode as Slack reads one: not glued to a word or to another colon (so `file:12: key`,
# `checklist:paced:{id}` and `09:00:00` are not emoji).
SHORTCODE = re.compile(r"(?<![\w:/{])(:[a-z0-9_+-]+:)(?![\w/{])")


def _strings(path: Path) -> list[str]:
    """Every string literal of a module, f-strings' literal parts included."""
    return [
        node.value
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]


def shortcodes_the_bot_writes() -> set[str]:
    found: set[str] = set()
    for package in ("bot", "handlers"):
        for path in sorted((ROOT / package).rglob("*.py")):
            for text in _strings(path):
                found.update(m.group(1) for m in SHORTCODE.finditer(text))
    return found


def test_the_scan_finds_the_digests_emoji() -> None:
    found = shortcodes_the_bot_writes()
    assert {":crystal_ball:", ":scales:", ":arrow_up_small:", ":arrow_down_small:"} <= found
    assert {":inbox_tray:", ":no_entry_sign:", ":warning:", ":white_check_mark:"} <= found
    assert not {":paced:", ":q:", ":line:", ":render:", ":start:"} & found  # cache keys and `file:line:`


@pytest.mark.parametrize("code", sorted(shortcodes_the_bot_writes()))
def test_the_console_draws_each_shortcode_the_bot_writes(code: str) -> None:
    assert code.strip(":") in EMOJI, f"{code} is written by the bot but the console shows it raw"
    drawn = mrkdwn_html(f"*{code} Breached* {code}", TextContext())
    assert code not in drawn and drawn.count(EMOJI[code.strip(":")]) == 2
    assert code not in plain_html(code)
