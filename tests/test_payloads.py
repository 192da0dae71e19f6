"""Signed but odd payloads over real HTTP: answered 2xx or 4xx, never 5xx, never stored (issue 13, class 5)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from sqlmodel import select

from bot.payloads import ENTERPRISE_NOT_SUPPORTED, MAX_DEPTH, nesting_depth
from localslack import Actor, FakeSlack
from storage.teams import TeamRow
from tests.harness import BotServer, Seeded


def _form(actor: Actor, fields: dict[str, str]) -> httpx.Response:
    return actor.raw(urlencode(fields).encode())


def _command(seeded: Seeded, **changes: Any) -> dict[str, str]:
    fields = {
        "command": "/scale-check",
        "text": "help",
        "team_id": seeded.team_id,
        "team_domain": "acme",
        "user_id": seeded.member,
        "channel_id": seeded.channel,
        "channel_name": "payments",
        "trigger_id": "1.2.3",
    }
    fields.update(changes)
    return {k: v for k, v in fields.items() if v is not None}


def _teams(bot: BotServer) -> list[TeamRow]:
    return bot.db(lambda s: list(s.exec(select(TeamRow))))  # type: ignore[no-any-return]


def test_ssl_check_answers_200(bot: BotServer, actor: Actor) -> None:
    response = _form(actor, {"ssl_check": "1", "token": "legacy-verification-token"})
    assert response.status_code == 200


def test_deeply_nested_json_is_refused_not_a_server_error(
    bot: BotServer, actor: Actor, seeded: Seeded
) -> None:
    deep = "[" * 5000 + '"x"' + "]" * 5000  # json.dumps itself cannot write this
    event = {"type": "event_callback", "team_id": seeded.team_id, "event_id": "Ev1", "event": {"type": "x"}}
    body = json.dumps(event)[:-1] + ', "extra": ' + deep + "}"
    response = actor.raw(body.encode(), {"Content-Type": "application/json"})
    assert response.status_code == 400
    assert "nested deeper" in response.text
    interactive = {"type": "block_actions", "team": {"id": seeded.team_id}, "actions": []}
    response = _form(actor, {"payload": json.dumps(interactive)[:-1] + ', "state": ' + deep + "}"})
    assert response.status_code == 400


def test_a_view_without_a_type_is_not_a_server_error(bot: BotServer, actor: Actor, seeded: Seeded) -> None:
    payload = {
        "type": "view_submission",
        "team": {"id": seeded.team_id, "domain": "acme"},
        "user": {"id": seeded.member, "team_id": seeded.team_id},
        "view": {"id": "V1", "callback_id": "scalebot_setup", "state": {"values": {}}},
    }
    response = _form(actor, {"payload": json.dumps(payload)})
    assert response.status_code < 500


def test_a_command_without_a_workspace_is_refused_before_anything_is_stored(
    bot: BotServer, actor: Actor, seeded: Seeded
) -> None:
    response = _form(actor, _command(seeded, team_id=None, text="check"))
    assert response.status_code == 400
    assert "no workspace" in response.text
    response = _form(actor, _command(seeded, team_id="", text="check"))
    assert response.status_code == 400
    assert not [row for row in _teams(bot) if not row.workspace_id]


def test_an_org_wide_install_is_told_it_is_not_supported(
    bot: BotServer, actor: Actor, seeded: Seeded
) -> None:
    response = _form(
        actor, _command(seeded, team_id=None, enterprise_id="E0001", is_enterprise_install="true")
    )
    assert response.status_code == 200
    assert response.json()["text"] == ENTERPRISE_NOT_SUPPORTED
    action = {
        "type": "block_actions",
        "team": None,
        "enterprise": {"id": "E0001"},
        "is_enterprise_install": True,
        "user": {"id": seeded.member},
        "actions": [{"action_id": "anything", "block_id": "b", "type": "button"}],
    }
    response = _form(actor, {"payload": json.dumps(action)})
    assert response.status_code == 200
    assert not _teams(bot)


def test_a_valid_payload_with_extra_fields_is_processed_normally(
    bot: BotServer, actor: Actor, fake: FakeSlack, seeded: Seeded
) -> None:
    response = _form(actor, _command(seeded, is_enterprise_install="false", future_field="{[x]}"))
    assert response.status_code == 200
    assert "/scale-check help" in response.text


def test_nesting_depth_ignores_brackets_inside_strings() -> None:
    assert nesting_depth('{"a": "[[[[[[", "b": [1, {"c": "\\"]"}]}') == 3
    assert nesting_depth("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1)) == MAX_DEPTH + 1


@pytest.mark.parametrize("body", [b"payload=%7B%22type", b"\xff\xfe", b"payload=" + b"%5B" * 100])
def test_broken_bodies_are_400(bot: BotServer, actor: Actor, body: bytes) -> None:
    assert actor.raw(body).status_code == 400
