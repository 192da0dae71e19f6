"""Block Kit and mrkdwn as the console shows them: every block and element, escaped, in the reader's zone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot import blocks as bk
from localslack.console_checks import client_error, coerce
from localslack.mrkdwn import TextContext, format_date, mrkdwn_html, plain_html
from localslack.render_blocks import blocks_html
from localslack.render_elements import RenderContext
from tests.browser.demo import PIXEL, every_block, form

WHEN = datetime(2026, 3, 2, 16, 30, tzinfo=UTC)


def ctx(tz: str = "Europe/Berlin", **extra: object) -> RenderContext:
    return RenderContext(
        user_names={"U0MANAGER": "Maria", "U0LEAD": "Ana"},
        channel_names={"C0SEARCH": "search"},
        tz=tz,
        now=WHEN.timestamp(),
        local_url=lambda url: url if url.startswith("data:") else None,
        users=[("U0LEAD", "Ana Lead"), ("U0ADMIN", "Ada Admin")],
        channels=[("C0PAYMENTS", "payments")],
        **extra,  # type: ignore[arg-type]
    )


def test_mrkdwn_emphasis_code_quotes_and_line_breaks() -> None:
    html = mrkdwn_html("*bold* _it_ ~gone~ `x*y*` and\n> quoted\n```\n*not bold*\n```", ctx())
    assert "<strong>bold</strong>" in html and "<em>it</em>" in html and "<del>gone</del>" in html
    assert "<code>x*y*</code>" in html and "<pre>*not bold*\n</pre>" in html
    assert "and<blockquote>quoted</blockquote><pre>" in html


def test_underscores_inside_an_italic_run_do_not_end_it() -> None:
    assert mrkdwn_html("see _(003_3c33.txt)_ and snake_case_name", ctx()) == (
        "see <em>(003_3c33.txt)</em> and snake_case_name"
    )


def test_mrkdwn_escapes_everything_that_is_not_a_documented_token() -> None:
    text = bk.escape('<script>alert("x")</script> & <img src=x onerror=1>') + " \"quoted\" 'single'"
    html = mrkdwn_html(text, ctx())
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;img" in html
    # A raw `<…>` that is not a known control sequence is treated as a link only for safe schemes.
    assert "<a" not in mrkdwn_html("<javascript:alert(1)|click>", ctx())
    assert mrkdwn_html("<javascript:alert(1)|click>", ctx()) == "click"


def test_mentions_channels_broadcasts_and_links_resolve_against_the_workspace() -> None:
    html = mrkdwn_html(
        "<@U0MANAGER> <@U9UNKNOWN> <#C0SEARCH> <#C0OTHER|general> <!here> <https://x.org/a?b=1&amp;c=2|docs>",
        ctx(),
    )
    assert "@Maria" in html and "@U9UNKNOWN" in html and "#search" in html and "#general" in html
    assert 'class="mention broadcast">@here' in html
    assert '<a href="https://x.org/a?b=1&amp;c=2" target="_blank" rel="noopener noreferrer">docs</a>' in html


def test_date_tokens_are_shown_in_the_readers_own_time_zone() -> None:
    token = bk.date(WHEN)  # "{date_short_pretty} at {time}"
    assert ">today at 5:30 PM<" in mrkdwn_html(token, ctx("Europe/Berlin"))
    assert ">today at 11:30 AM<" in mrkdwn_html(token, ctx("America/New_York"))
    assert ">today at 1:30 AM<" in mrkdwn_html(token, ctx("Asia/Tokyo"))  # already the 3rd there
    two_hours_before = TextContext(tz="Asia/Tokyo", now=WHEN.timestamp() - 7200)
    assert ">tomorrow at 1:30 AM<" in mrkdwn_html(token, two_hours_before)
    later = TextContext(tz="UTC", now=WHEN.timestamp() + 86400 * 10)
    assert format_date(int(WHEN.timestamp()), "{date_num} {date} {date_long} {time_secs}", later) == (
        "2026-03-02 March 2nd, 2026 Monday, March 2nd, 2026 4:30:00 PM"
    )
    assert format_date(int(WHEN.timestamp()), "{ago}", later) == "10 days ago"
    assert mrkdwn_html("<!date^notanumber^{date}|the fallback>", ctx()) == "the fallback"


def test_plain_text_is_literal_with_emoji() -> None:
    assert plain_html("*not bold* <b> :rocket:") == "*not bold* &lt;b&gt; 🚀"
    assert plain_html(":rocket:", emoji=False) == ":rocket:"


def test_every_block_kind_of_the_demo_message_renders() -> None:
    html = blocks_html(every_block("U0LEAD"), ctx())
    assert '<h3 class="bk-header">Demo: every block</h3>' in html
    assert "<strong>Users</strong><br>1,200" in html  # fields
    assert 'class="bk-accessory"><button type="button" class="bk-button"' in html
    assert 'class="bk-context"' in html and f'src="{PIXEL}"' in html
    assert '<hr class="bk-divider">' in html
    assert 'class="bk-button primary"' in html and 'class="bk-button danger"' in html
    assert 'data-confirm="{&quot;title&quot;: &quot;Reset?&quot;' in html
    assert '<option value="10K">10K</option>' in html and '<option value="U0ADMIN">Ada Admin</option>' in html
    assert 'class="bk-overflow"' in html and 'data-option="archive"' in html
    assert 'class="bk-external"' in html and 'data-min-query="2"' in html
    assert 'type="date"' in html and 'value="2026-03-02"' in html
    assert "<figcaption>Latency trend</figcaption>" in html
    assert 'aria-label="an outside chart"' in html and "example.org/chart.png" not in html  # never loaded
    assert "<strong>Rich </strong>" in html and "<ul" in html and "<li>first item</li>" in html
    assert "<blockquote>a quote</blockquote>" in html and "<pre>SELECT 1;</pre>" in html and "🚀" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp;amp; co" not in html  # escaped once, not twice
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in html


def test_every_interactive_element_carries_what_the_console_sends() -> None:
    html = blocks_html(every_block("U0LEAD"), ctx())
    assert 'data-act="click" data-action-id="demo_answer" data-block-id="controls" data-type="button"' in html
    assert 'data-value="yes"' in html
    assert 'data-act="select" data-action-id="demo_pick"' in html


def test_modal_inputs_show_labels_hints_optional_errors_and_entered_values() -> None:
    view = form("C0PAYMENTS", "1.2")
    state = {"rps": {"value": {"type": "plain_text_input", "value": "lots"}}}
    html = blocks_html(view["blocks"], ctx(state=state, errors={"rps": "Enter a whole number."}))
    assert '<div class="bk-input has-error" data-block-id="rps"' in html
    assert '<div class="bk-error" role="alert">Enter a whole number.</div>' in html
    assert 'value="lots"' in html and "A whole number." in html
    assert 'Owner <span class="bk-optional">(optional)</span>' in html
    assert "<textarea" in html and 'type="checkbox"' in html
    assert 'data-act="input" data-action-id="value" data-block-id="name"' in html
    labels = html.count('<label class="bk-label" for=')
    assert labels == 7


def test_unknown_blocks_and_elements_are_named_not_dropped() -> None:
    html = blocks_html(
        [{"type": "call"}, {"type": "actions", "elements": [{"type": "future_widget", "action_id": "a"}]}],
        ctx(),
    )
    assert "[call block]" in html and "[future_widget element]" in html


@pytest.mark.parametrize(
    ("element", "value", "error"),
    [
        ({"type": "number_input", "is_decimal_allowed": False}, "1.5", "Enter a whole number."),
        ({"type": "number_input", "is_decimal_allowed": True}, "abc", "Enter a number."),
        (
            {"type": "number_input", "is_decimal_allowed": True, "min_value": "0"},
            "-1",
            "Enter a number that is at least 0.",
        ),
        ({"type": "plain_text_input", "min_length": 3}, "ab", "Enter at least 3 characters."),
        ({"type": "email_text_input"}, "not-an-email", "Enter a valid email address."),
        ({"type": "url_text_input"}, "ftp://x", "Enter a valid URL, starting with http:// or https://."),
        ({"type": "plain_text_input"}, "fine", None),
    ],
)
def test_slacks_client_side_checks(element: dict[str, object], value: str, error: str | None) -> None:
    assert client_error(element, value) == error


def test_browser_values_become_block_kit_state_values() -> None:
    from zoneinfo import ZoneInfo

    berlin = ZoneInfo("Europe/Berlin")
    assert coerce({"type": "plain_text_input"}, "", berlin) is None
    assert coerce({"type": "checkboxes"}, None, berlin) == []
    assert coerce({"type": "datetimepicker"}, "2026-03-02T17:30", berlin) == int(WHEN.timestamp())
    rich = coerce({"type": "rich_text_input"}, "hello", berlin)
    assert rich["elements"][0]["elements"][0] == {"type": "text", "text": "hello"}
