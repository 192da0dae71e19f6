"""OAuth v2 install: the browser side (/oauth/v2/authorize) and the code exchange (oauth.v2.access)."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlencode

from localslack.methods.base import Call, SlackError, method
from localslack.state import JSON, OAuthCode, User
from localslack.store import Store

# https://docs.slack.dev/authentication/installing-with-oauth : the temporary code "will expire after
# ten minutes" and can be exchanged once.
CODE_TTL = 600.0


def authorize(store: Store, params: Mapping[str, str]) -> tuple[int, str]:
    """A user approving the install in the browser: (302, redirect location) or (400, error)."""
    with store.lock:
        app = store.app
        if not app.client_id or params.get("client_id") != app.client_id:
            return 400, "invalid_client_id"
        redirect_uri = params.get("redirect_uri") or app.redirect_uri
        if not redirect_uri:
            return 400, "bad_redirect_uri"
        if app.redirect_uri and not redirect_uri.startswith(app.redirect_uri):
            return 400, "bad_redirect_uri"  # must match a redirect URL configured for the app
        scope, user_scope = params.get("scope", ""), params.get("user_scope", "")
        if not scope and not user_scope:
            return 400, "invalid_scope"
        query: dict[str, str] = {}
        if params.get("deny"):
            query["error"] = "access_denied"
        else:
            team_id = params.get("team") or next(iter(store.workspaces), None) or store.new_id("T")
            if team_id not in store.workspaces:
                store.add_workspace(team_id, name=team_id, domain=team_id.lower())
            code = store.add_oauth_code(
                OAuthCode(
                    code=f"{int(store.now())}.{store.secret(40)}",
                    client_id=app.client_id,
                    team_id=team_id,
                    user_id=params.get("user") or _installer(store, team_id),
                    scope=scope,
                    user_scope=user_scope,
                    redirect_uri=params.get("redirect_uri"),
                    created=store.now(),
                )
            )
            query["code"] = code.code
        if params.get("state") is not None:
            query["state"] = params["state"]
        return 302, redirect_uri + ("&" if "?" in redirect_uri else "?") + urlencode(query)


def _installer(store: Store, team_id: str) -> str:
    """The workspace's first admin approves the install; a new admin is made if there is none."""
    for user in store.users.values():
        if user.team_id == team_id and user.is_admin and not user.is_bot and not user.deleted:
            return user.id
    user = User(id=store.new_id("U"), team_id=team_id, name="installer", real_name="Installer", is_admin=True)
    return store.add_user(user).id


@method("oauth.v2.access", authenticated=False)
def oauth_v2_access(call: Call) -> JSON:
    store, app = call.store, call.store.app
    client_id, client_secret = call.basic_auth or (call.arg("client_id"), call.arg("client_secret"))
    if not client_id or client_id != app.client_id:
        raise SlackError("invalid_client_id")
    if client_secret != app.client_secret:
        raise SlackError("bad_client_secret")
    if call.arg("grant_type") not in (None, "authorization_code"):
        raise SlackError("invalid_grant_type")  # token rotation (refresh_token) is not emulated
    code = store.oauth_codes.get(call.arg("code") or "")
    if code is None or code.used or code.client_id != client_id or store.now() - code.created > CODE_TTL:
        raise SlackError("invalid_code")
    if code.redirect_uri is not None and call.arg("redirect_uri") != code.redirect_uri:
        raise SlackError("bad_redirect_uri")
    code.used = True
    ws = store.workspaces[code.team_id]
    bot_token = store.mint_bot_token(ws.team_id, scopes=code.scope)
    authed_user: JSON = {"id": code.user_id}
    if code.user_scope:
        user_token = store.mint_token(ws.team_id, "user", code.user_id, scopes=code.user_scope)
        authed_user.update(scope=code.user_scope, access_token=user_token.token, token_type="user")  # noqa: S106 - a token kind, not a secret
    return {
        "app_id": app.app_id,
        "authed_user": authed_user,
        "scope": code.scope,
        "token_type": "bot",
        "access_token": bot_token.token,
        "bot_user_id": ws.bot_user_id,
        "team": {"id": ws.team_id, "name": ws.name},
        "enterprise": None,
        "is_enterprise_install": False,
    }
