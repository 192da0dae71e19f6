"""The words the bot uses: counts agree with their nouns and verbs, names take the right possessive, and
a team whose top risks have no mitigation is never shown an all-clear."""

from __future__ import annotations

from datetime import UTC, date, datetime

from bot.premortem.model import OpenMitigation
from bot.premortem.render_plan import _top_heading, status_message
from bot.words import mitigation_count, plural, possessive, spelled, verb


def test_counts_agree_with_their_nouns_and_verbs() -> None:
    assert [plural(n, "lead") for n in (0, 1, 2)] == ["0 leads", "1 lead", "2 leads"]
    assert plural(2, "person", "people") == "2 people"
    assert [verb(n, "is", "are") for n in (1, 2)] == ["is", "are"]
    assert [spelled(n) for n in (2, 3, 11)] == ["two", "three", "11"]


def test_a_name_ending_in_s_takes_the_apostrophe_alone() -> None:
    assert possessive("Payments") == "Payments'"
    assert possessive("Search") == "Search's"
    assert possessive("Ana") == "Ana's"


def test_the_top_risks_heading_counts_the_risks_there_are() -> None:
    assert _top_heading(3) == "Top three risks and their mitigations"
    assert _top_heading(2) == "Top two risks and their mitigations"
    assert _top_heading(1) == "The top risk and its mitigation"


def test_no_open_mitigations_is_not_an_all_clear_when_top_risks_have_none() -> None:
    assert mitigation_count(0) == "no open mitigations"
    assert mitigation_count(0, 0, 2) == "no open mitigations; 2 top risks have no mitigation yet"
    assert mitigation_count(3, 1, 1) == "3 open mitigations (1 overdue); 1 top risk has no mitigation yet"
    assert mitigation_count(1) == "1 open mitigation"


def test_the_status_listing_says_how_many_top_risks_have_no_mitigation() -> None:
    now = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
    message = status_message("Payments", [], now, True, unmitigated=2)
    shown = " ".join(b["text"]["text"] for b in message["blocks"] if b["type"] == "section")
    assert "2 top risks of the latest pre-mortem have no mitigation yet: plan them" in shown
    assert "No open mitigations" not in shown
    assert message["text"] == "No open mitigations for Payments; 2 top risks have no mitigation yet"
    item = OpenMitigation(1, 1, "DB writes", "shard", "U1", date(2026, 12, 9), "open", "Open", False, 1, None)
    one = status_message("Payments", [item], now, True, unmitigated=1)
    assert one["text"] == "1 open mitigation for Payments; 1 top risk has no mitigation yet"
    assert (
        "1 top risk of the latest pre-mortem has no mitigation yet: plan it"
        in one["blocks"][1]["text"]["text"]
    )


def test_a_field_marked_optional_says_when_it_is_needed_and_the_first_risks_why_is_required() -> None:
    from bot.debt.render import record_modal
    from bot.premortem.forms import block
    from bot.premortem.render_modals import answer_modal

    inputs = {b["block_id"]: b for b in answer_modal(1, "Payments", [])["blocks"] if b["type"] == "input"}
    assert inputs[block(1, "why")].get("optional", False) is False
    for n in (1, 2, 3):
        assert "needed" in inputs[block(n, "component")]["hint"]["text"]
    assert inputs[block(2, "why")]["optional"] and "Needed once" in inputs[block(2, "why")]["hint"]["text"]
    debt = {b["block_id"]: b for b in record_modal("C1", "points", None)["blocks"] if b["type"] == "input"}
    assert debt["starts"]["optional"] and debt["starts"]["hint"]["text"] == "Give both dates, or neither."


def test_a_formatted_name_takes_the_same_ending() -> None:
    from bot.words import apostrophe

    assert f"*Payments*{apostrophe('Payments')}" == "*Payments*'"
    assert f"*Search*{apostrophe('Search')}" == "*Search*'s"
