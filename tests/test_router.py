"""`/scale-check` routing: help lists every subcommand with an example; unknown ones get a suggestion."""

from __future__ import annotations

import pytest

from handlers.router import CommandRouter, Subcommand


async def nothing(ctx, args):  # type: ignore[no-untyped-def]
    return None


@pytest.fixture
def router() -> CommandRouter:
    r = CommandRouter()
    r.add(
        Subcommand(
            "metrics", "live metrics and 10x headroom", "[team]", "/scale-check metrics payments", nothing
        )
    )
    r.add(
        Subcommand(
            "premortem", "what breaks first at 10x?", "[@lead …]", "/scale-check premortem {you}", nothing
        )
    )
    r.add(Subcommand("signals", "the signal checklist", "", "/scale-check signals", nothing), default=True)
    return r


def test_known_subcommand_gets_its_arguments(router: CommandRouter) -> None:
    sub, args, _ = router.resolve("metrics  payments team")
    assert sub is not None and sub.name == "metrics" and args == "payments team"


def test_bare_command_runs_the_default(router: CommandRouter) -> None:
    sub, _, _ = router.resolve("   ")
    assert sub is not None and sub.name == "signals"


def test_unknown_subcommand_suggests_the_closest(router: CommandRouter) -> None:
    sub, _, suggestion = router.resolve("metrix payments")
    assert sub is None and suggestion == "metrics"
    message = router.help_message("metrix payments", suggestion)
    assert "Did you mean /scale-check metrics?" in message["text"]
    assert "`/scale-check metrics`" in message["blocks"][0]["text"]["text"]


def test_nonsense_gets_help_without_a_suggestion(router: CommandRouter) -> None:
    sub, _, suggestion = router.resolve("zzzzqqq")
    assert sub is None and suggestion == ""


def test_help_lists_every_subcommand_with_an_example(router: CommandRouter) -> None:
    message = router.help_message()
    text = "\n".join(b["text"]["text"] for b in message["blocks"] if b["type"] == "section")
    for sub in router.subcommands:
        assert f"/scale-check {sub.name}" in text
    assert "`/scale-check metrics payments`" in text
    assert "/scale-check help" in text


def test_an_example_naming_a_person_names_the_reader_who_exists_in_the_workspace(
    router: CommandRouter,
) -> None:
    message = router.help_message(user_id="U0READER")
    text = "\n".join(b["text"]["text"] for b in message["blocks"] if b["type"] == "section")
    assert "_e.g._ `/scale-check premortem` <@U0READER>" in text
    assert "{you}" not in text and "@ana" not in text


def test_every_help_entry_is_its_own_section_with_an_example(router: CommandRouter) -> None:
    sections = [b["text"]["text"] for b in router.help_message()["blocks"] if b["type"] == "section"]
    assert len(sections) == len(router.subcommands) + 2  # the bare command and help
    assert all("\n_e.g._ " in s and "\n\n" not in s for s in sections)


def test_a_subcommand_cannot_be_registered_twice(router: CommandRouter) -> None:
    with pytest.raises(ValueError):
        router.add(Subcommand("metrics", "", "", "", nothing))
