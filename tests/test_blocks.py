"""Block Kit builders keep within Slack's limits, escape user text and render dates per reader."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from slack_sdk.models.blocks import Block

from bot import blocks as bk


def test_user_text_cannot_mention_channel_or_link() -> None:
    assert (
        bk.escape("<!channel> & <@U1> <https://x|y>")
        == "&lt;!channel&gt; &amp; &lt;@U1&gt; &lt;https://x|y&gt;"
    )


def test_escaped_text_is_truncated_without_splitting_an_entity() -> None:
    text = bk.escape("&" * 2000)  # 10,000 characters once escaped
    section = bk.section(text)
    assert len(section["text"]["text"]) <= bk.MAX_SECTION_TEXT
    body = section["text"]["text"].removesuffix("…")
    assert body.replace("&amp;", "") == ""


def test_date_token_carries_a_utc_fallback() -> None:
    when = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    assert (
        bk.date(when)
        == f"<!date^{int(when.timestamp())}^{{date_short_pretty}} at {{time}}|2026-11-23 09:00 UTC>"
    )


def test_split_blocks_keeps_every_message_within_fifty_and_loses_nothing() -> None:
    many = [bk.section(f"q{i}") for i in range(123)]
    chunks = bk.split_blocks(many)
    assert [len(c) for c in chunks] == [50, 50, 23]
    assert [b for c in chunks for b in c] == many


def test_split_blocks_never_ends_a_message_on_a_header() -> None:
    items = [bk.section(str(i)) for i in range(49)] + [bk.header("Part 2"), bk.section("x"), bk.section("y")]
    chunks = bk.split_blocks(items)
    assert chunks[0][-1]["type"] != "header"
    assert chunks[1][0] == bk.header("Part 2")


def test_message_always_has_fallback_text() -> None:
    assert bk.message("   ", [bk.divider()])["text"] == "scalebot"


def test_builders_produce_blocks_slack_sdk_accepts() -> None:
    blocks = [
        bk.header("h" * 200),
        bk.section("s", accessory=bk.button("b" * 100, "act", "v")),
        bk.context("c"),
        bk.actions(bk.button("Yes", "yes", "1", style="primary")),
        bk.fields(["a", "b"]),
    ]
    for block in blocks:
        Block.parse(block).to_dict()  # raises SlackObjectFormationError on a limit


@pytest.mark.parametrize("action_id", ["a" * 256])
def test_overlong_action_id_is_refused(action_id: str) -> None:
    with pytest.raises(ValueError, match="action_id"):
        bk.button("x", action_id)


def test_a_modal_over_one_hundred_blocks_is_refused() -> None:
    with pytest.raises(ValueError, match="100"):
        bk.modal("t", [bk.divider()] * 101, callback_id="x")
