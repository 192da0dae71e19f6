"""Who is away, as Slack tells an app: a person's profile with their status (users.profile.get), and
Do Not Disturb for one person (dnd.info) or up to 50 (dnd.teamInfo), each with its scope and rate tier.

- users.profile.get needs `users.profile:read` (Tier 4); dnd.info and dnd.teamInfo need `dnd:read`
  (Tier 3 and Tier 2). A token granted other scopes gets `missing_scope` with `needed`/`provided`.
- A snooze shows only when the person asks about themselves ("All of the snooze_* properties will only
  be visible if the user being queried is also the current user"), so a bot never sees one.
- Simplification: Slack clears a status when it expires; the fake keeps it, with its expiration, so
  an app must (as the bot does) ignore an expired status itself.
"""

from __future__ import annotations

from localslack.methods.base import Call, SlackError, find_user, method, require_scope
from localslack.state import JSON, User

TEAM_INFO_MAX = 50


def _tier(call: Call) -> None:
    retry_after = call.faults.admit_tiered(call.method, call.team_id, call.store.now())
    if retry_after is not None:
        raise SlackError("ratelimited", status=429, headers={"Retry-After": str(retry_after)})


def profile_object(user: User) -> JSON:
    first, _, last = user.real_name.partition(" ")
    return {
        "title": "",
        "phone": "",
        "skype": "",
        "real_name": user.real_name,
        "real_name_normalized": user.real_name,
        "display_name": user.display_name,
        "display_name_normalized": user.display_name,
        "first_name": first,
        "last_name": last,
        "fields": {},
        "status_text": user.status_text,
        "status_emoji": user.status_emoji,
        "status_expiration": user.status_expiration,
        "avatar_hash": "",
        "image_24": "",
        "image_48": "",
        "image_72": "",
        "team": user.team_id,
    }


def dnd_object(user: User) -> JSON:
    on = user.dnd_end > 0
    return {
        "dnd_enabled": on,
        "next_dnd_start_ts": user.dnd_start if on else 1,
        "next_dnd_end_ts": user.dnd_end if on else 1,
    }


@method("users.profile.get")
def profile_get(call: Call) -> JSON:
    _tier(call)
    require_scope(call, "users.profile:read")
    user = find_user(call, call.arg("user") or (call.token.user_id if call.token else None))
    return {"profile": profile_object(user)}


@method("dnd.info")
def dnd_info(call: Call) -> JSON:
    _tier(call)
    require_scope(call, "dnd:read")
    asker = call.token.user_id if call.token else None
    user = find_user(call, call.arg("user") or asker)
    out = dnd_object(user)
    if user.id == asker:
        snoozing = user.snooze_end > call.store.now()
        out["snooze_enabled"] = snoozing
        if snoozing:
            out["snooze_endtime"] = user.snooze_end
            out["snooze_remaining"] = int(user.snooze_end - call.store.now())
    return out


@method("dnd.teamInfo")
def dnd_team_info(call: Call) -> JSON:
    _tier(call)
    require_scope(call, "dnd:read")
    raw = call.arg("users")
    if not raw:
        raise SlackError("no_users_provided")
    ids = [u.strip() for u in raw.split(",") if u.strip()]
    if len(ids) > TEAM_INFO_MAX:
        raise SlackError(
            "invalid_arguments", [f"[ERROR] at most {TEAM_INFO_MAX} users [json-pointer:/users]"]
        )
    users: JSON = {}
    for user_id in ids:
        user = call.store.users.get(user_id)
        if user is None or user.team_id != call.team_id:
            raise SlackError("user_not_visible")
        users[user_id] = dnd_object(user)
    return {"users": users}
