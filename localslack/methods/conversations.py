"""conversations.*, users.* and auth.test: reading who is where."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from localslack.methods.base import (
    Call,
    SlackError,
    active_members,
    bot_is_member,
    find_user,
    method,
    paginate,
    resolve_channel,
)
from localslack.methods.canvases import channel_properties
from localslack.state import JSON, Channel, Message, User
from localslack.store import Store


def channel_object(store: Store, channel: Channel, bot_user_id: str) -> JSON:
    """A conversation object as conversations.info returns it."""
    common: JSON = {
        "id": channel.id,
        "created": channel.created,
        "is_archived": channel.is_archived,
        "is_org_shared": False,
        "context_team_id": channel.team_id,
        "updated": channel.created * 1000,
    }
    if channel.is_im:
        user = store.users.get(channel.im_user or "")
        return {
            **common,
            "is_im": True,
            "user": channel.im_user,
            "is_user_deleted": bool(user and user.deleted),
            "priority": 0,
        }
    return {
        **common,
        "name": channel.name,
        "name_normalized": channel.name,
        "is_channel": not channel.is_private,
        "is_group": channel.is_private and not channel.is_mpim,
        "is_im": False,
        "is_mpim": channel.is_mpim,
        "is_private": channel.is_private,
        "is_general": channel.name == "general",
        "is_shared": False,
        "is_ext_shared": False,
        "is_pending_ext_shared": False,
        "is_member": bot_user_id in channel.members,
        "unlinked": 0,
        "creator": channel.creator,
        "parent_conversation": None,
        "shared_team_ids": [channel.team_id],
        "pending_shared": [],
        "pending_connected_team_ids": [],
        "previous_names": [],
        "topic": {"value": "", "creator": "", "last_set": 0},
        "purpose": {"value": "", "creator": "", "last_set": 0},
    }


def user_object(store: Store, user: User) -> JSON:
    """A user object as users.info / users.list return it."""
    now = datetime.now(ZoneInfo(user.tz))
    offset = now.utcoffset()
    first, _, last = user.real_name.partition(" ")
    profile: JSON = {
        "title": "",
        "phone": "",
        "skype": "",
        "real_name": user.real_name,
        "real_name_normalized": user.real_name,
        "display_name": user.display_name,
        "display_name_normalized": user.display_name,
        "first_name": first,
        "last_name": last,
        "fields": None,
        "status_text": user.status_text,
        "status_emoji": user.status_emoji,
        "status_expiration": user.status_expiration,
        "avatar_hash": "",
        "image_24": "",
        "image_48": "",
        "image_72": "",
        "team": user.team_id,
    }
    if user.email:
        profile["email"] = user.email
    if user.is_bot:
        profile.update(bot_id=user.bot_id, api_app_id=store.app.app_id, always_active=False)
    return {
        "id": user.id,
        "team_id": user.team_id,
        "name": user.name,
        "deleted": user.deleted,
        "color": "9f69e7",
        "real_name": user.real_name,
        "tz": user.tz,
        "tz_label": now.tzname() or user.tz,
        "tz_offset": int(offset.total_seconds()) if offset is not None else 0,
        "profile": profile,
        "is_admin": user.is_admin,
        "is_owner": user.is_owner,
        "is_primary_owner": user.is_owner,
        "is_restricted": False,
        "is_ultra_restricted": False,
        "is_bot": user.is_bot,
        "is_app_user": False,
        "is_email_confirmed": bool(user.email),
        "updated": user.updated,
        "who_can_share_contact_card": "EVERYONE",
    }


@method("auth.test")
def auth_test(call: Call) -> JSON:
    assert call.token is not None
    ws = call.workspace
    out: JSON = {
        "url": f"{call.store.public_url}/",
        "team": ws.name,
        "user": call.store.users[call.token.user_id].name,
        "team_id": ws.team_id,
        "user_id": call.token.user_id,
        "is_enterprise_install": False,
    }
    if call.token.kind == "bot":
        out["bot_id"] = ws.bot_id
    return out


@method("api.test", authenticated=False)
def api_test(call: Call) -> JSON:
    if call.arg("error"):
        raise SlackError(str(call.arg("error")))
    return {"args": {k: v for k, v in call.args.items() if k != "token"}}


@method("conversations.info")
def conversations_info(call: Call) -> JSON:
    channel = resolve_channel(call, call.arg("channel"))
    info = channel_object(call.store, channel, call.workspace.bot_user_id)
    properties = channel_properties(call.store, channel.id)
    if properties is not None:
        info["properties"] = properties
    if call.flag("include_num_members") and not channel.is_im:
        info["num_members"] = len(active_members(call.store, channel))
    return {"channel": info}


@method("conversations.members")
def conversations_members(call: Call) -> JSON:
    channel = resolve_channel(call, call.arg("channel"))
    page, next_cursor = paginate(call, active_members(call.store, channel))
    return {"members": page, "response_metadata": {"next_cursor": next_cursor}}


@method("conversations.open")
def conversations_open(call: Call) -> JSON:
    store, team_id = call.store, call.team_id
    if call.arg("channel"):
        channel = resolve_channel(call, call.arg("channel"))
        return {"channel": channel_object(store, channel, call.workspace.bot_user_id)}
    user_ids = [u.strip() for u in (call.arg("users") or "").split(",") if u.strip()]
    if not user_ids:
        raise SlackError("users_list_not_supplied")
    if len(user_ids) > 8:
        raise SlackError("too_many_users")
    for user_id in user_ids:
        if find_user(call, user_id).deleted:
            raise SlackError("user_disabled")
    if len(user_ids) == 1:
        channel, already = store.open_im(team_id, user_ids[0])
    else:
        channel, already = store.open_mpim(team_id, user_ids)
    body: JSON = {"channel": {"id": channel.id}}
    if call.flag("return_im"):
        body["channel"] = channel_object(store, channel, call.workspace.bot_user_id)
    if already:
        body.update(no_op=True, already_open=True)
    return body


def _readable(call: Call) -> Channel:
    channel = resolve_channel(call, call.arg("channel"))
    if not bot_is_member(call, channel):
        raise SlackError("not_in_channel")
    return channel


def _in_window(call: Call, message: Message) -> bool:
    ts = float(message.ts)
    oldest, latest = call.arg("oldest"), call.arg("latest")
    inclusive = call.flag("inclusive")
    if oldest and (ts < float(oldest) or (ts == float(oldest) and not inclusive)):
        return False
    return not (latest and (ts > float(latest) or (ts == float(latest) and not inclusive)))


@method("conversations.history")
def conversations_history(call: Call) -> JSON:
    channel = _readable(call)
    top_level = [
        m
        for m in call.store.messages.get(channel.id, [])
        if (m.thread_ts is None or m.reply_broadcast) and _in_window(call, m)
    ]
    newest_first = list(reversed(top_level))
    page, next_cursor = paginate(call, newest_first)
    return {
        "messages": [call.store.message_to_api(m) for m in page],
        "has_more": bool(next_cursor),
        "pin_count": 0,
        "response_metadata": {"next_cursor": next_cursor},
    }


@method("conversations.replies")
def conversations_replies(call: Call) -> JSON:
    channel = _readable(call)
    parent = call.store.find_message(channel.id, call.arg("ts") or "")
    if parent is None:
        raise SlackError("thread_not_found")
    if parent.thread_ts:
        parent = call.store.find_message(channel.id, parent.thread_ts) or parent
    thread = [parent, *call.store.replies_of(channel.id, parent.ts)]
    page, next_cursor = paginate(call, [m for m in thread if _in_window(call, m) or m is parent])
    return {
        "messages": [call.store.message_to_api(m) for m in page],
        "has_more": bool(next_cursor),
        "response_metadata": {"next_cursor": next_cursor},
    }


@method("users.info")
def users_info(call: Call) -> JSON:
    return {"user": user_object(call.store, find_user(call, call.arg("user")))}


@method("users.list")
def users_list(call: Call) -> JSON:
    team_users = [u for u in call.store.users.values() if u.team_id == call.team_id]
    page, next_cursor = paginate(call, team_users, default_limit=200)
    return {
        "members": [user_object(call.store, u) for u in page],
        "cache_ts": int(call.store.now()),
        "response_metadata": {"next_cursor": next_cursor},
    }
