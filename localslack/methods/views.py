"""views.* methods: modals (open, push, update) and the Home tab (publish), plus closing them."""

from __future__ import annotations

from typing import Any

from localslack.elements import preserve_state, with_generated_ids
from localslack.methods.base import Call, SlackError, find_user, method
from localslack.state import JSON, Trigger, View
from localslack.store import Store
from localslack.validation import validate_view

# https://docs.slack.dev/interactivity/handling-user-interaction : a trigger_id "expires in three
# seconds" and can be exchanged once.
TRIGGER_TTL = 3.0
# https://docs.slack.dev/surfaces/modals : "you can push up to 2 additional views" (a stack of three).
STACK_LIMIT = 3


def _spec(call: Call, allowed: tuple[str, ...]) -> JSON:
    spec = call.json_arg("view")
    if spec is None:
        raise SlackError("invalid_arguments", ["[ERROR] missing required field: view"])
    problems = validate_view(spec, allowed)
    if problems:
        # views.* report Block Kit problems as invalid_arguments, not invalid_blocks.
        raise SlackError("invalid_arguments", problems)
    spec = dict(spec)
    spec["blocks"] = with_generated_ids(spec.get("blocks"))
    return spec


def _check_external_id(store: Store, team_id: str, spec: JSON, keep: str | None = None) -> None:
    external_id = spec.get("external_id")
    if not external_id:
        return
    for view in store.views.values():
        if (
            view.team_id == team_id
            and view.id != keep
            and view.status != "closed"
            and view.spec.get("external_id") == external_id
        ):
            raise SlackError("duplicate_external_id")


def exchange_trigger(call: Call) -> Trigger:
    trigger_id = call.arg("trigger_id") or call.arg("interactivity_pointer")
    if not trigger_id:
        raise SlackError("invalid_arguments", ["[ERROR] missing required field: trigger_id"])
    trigger = call.store.triggers.get(trigger_id)
    if trigger is None or trigger.team_id != call.team_id:
        raise SlackError("invalid_trigger_id")
    if trigger.used:
        raise SlackError("exchanged_trigger_id")
    if call.store.now() - trigger.created > TRIGGER_TTL:
        raise SlackError("expired_trigger_id")
    trigger.used = True
    return trigger


def _new_view(call: Call, spec: JSON, kind: str, user_id: str, root: str | None = None) -> View:
    store, ws = call.store, call.workspace
    view_id = store.new_id("V")
    view = View(
        id=view_id,
        team_id=ws.team_id,
        user_id=user_id,
        type=kind,
        spec=spec,
        hash=store.new_view_hash(),
        root_view_id=root or view_id,
        app_id=store.app.app_id,
        bot_id=ws.bot_id,
        status="open" if kind == "modal" else "published",
    )
    return store.put_view(view)


def modal_stack(store: Store, view: View) -> list[View]:
    """The open views sharing `view`'s root, bottom first."""
    return [
        v
        for v in store.views.values()
        if v.type == "modal" and v.status == "open" and v.root_view_id == view.root_view_id
    ]


def open_modal_of(store: Store, team_id: str, user_id: str) -> View | None:
    """The modal on top of the user's open stack, if any."""
    open_modals = [
        v
        for v in store.views.values()
        if v.type == "modal" and v.status == "open" and v.team_id == team_id and v.user_id == user_id
    ]
    return open_modals[-1] if open_modals else None


def close_view(store: Store, view: View) -> None:
    with store.lock:
        view.status = "closed"


def close_stack(store: Store, view: View) -> None:
    with store.lock:
        for v in modal_stack(store, view):
            v.status = "closed"


def replace_spec(store: Store, view: View, spec: JSON) -> None:
    """New content for an existing view: new hash, input state kept where block and action ids match."""
    with store.lock:
        view.spec = spec
        view.hash = store.new_view_hash()
        view.state = preserve_state(view.state, spec.get("blocks"))
        view.errors = None


@method("views.open")
def views_open(call: Call) -> JSON:
    spec = _spec(call, ("modal",))
    _check_external_id(call.store, call.team_id, spec)
    trigger = exchange_trigger(call)
    current = open_modal_of(call.store, call.team_id, trigger.user_id)
    if current is not None:
        close_stack(call.store, current)  # a user sees one modal at a time; a new one replaces it
    view = _new_view(call, spec, "modal", trigger.user_id)
    return {"view": view.to_api()}


@method("views.push")
def views_push(call: Call) -> JSON:
    spec = _spec(call, ("modal",))
    _check_external_id(call.store, call.team_id, spec)
    trigger = exchange_trigger(call)
    top = open_modal_of(call.store, call.team_id, trigger.user_id)
    if top is None or trigger.view_id is None:
        raise SlackError(
            "invalid_arguments",
            ["[ERROR] views.push needs a trigger_id from an interaction in an open modal"],
        )
    if len(modal_stack(call.store, top)) >= STACK_LIMIT:
        raise SlackError("push_limit_reached")
    view = _new_view(call, spec, "modal", trigger.user_id, root=top.root_view_id)
    view.previous_view_id = top.id
    return {"view": view.to_api()}


def _find(call: Call) -> View:
    view_id, external_id = call.arg("view_id"), call.arg("external_id")
    if not view_id and not external_id:
        raise SlackError("invalid_arguments", ["[ERROR] either view_id or external_id is required"])
    view: View | None = None
    if view_id:
        view = call.store.views.get(view_id)
    else:
        view = next(
            (
                v
                for v in call.store.views.values()
                if v.team_id == call.team_id
                and v.status != "closed"
                and v.spec.get("external_id") == external_id
            ),
            None,
        )
    if view is None or view.team_id != call.team_id or view.status == "closed":
        raise SlackError("not_found")
    return view


@method("views.update")
def views_update(call: Call) -> JSON:
    view = _find(call)
    given_hash = call.arg("hash")
    if given_hash and given_hash != view.hash:
        raise SlackError("hash_conflict")
    spec = _spec(call, (view.type,))
    _check_external_id(call.store, call.team_id, spec, keep=view.id)
    replace_spec(call.store, view, spec)
    return {"view": view.to_api()}


def home_of(store: Store, team_id: str, user_id: str) -> View | None:
    return next(
        (
            v
            for v in store.views.values()
            if v.type == "home" and v.team_id == team_id and v.user_id == user_id
        ),
        None,
    )


@method("views.publish")
def views_publish(call: Call) -> JSON:
    user = find_user(call, call.arg("user_id"))
    spec = _spec(call, ("home",))
    existing = home_of(call.store, call.team_id, user.id)
    given_hash = call.arg("hash")
    if existing is not None and given_hash and given_hash != existing.hash:
        raise SlackError("hash_conflict")
    _check_external_id(call.store, call.team_id, spec, keep=existing.id if existing else None)
    if existing is None:
        existing = _new_view(call, spec, "home", user.id)
    else:
        replace_spec(call.store, existing, spec)
    return {"view": existing.to_api()}


def new_modal_from_response(store: Store, on_top_of: View, spec: Any, push: bool) -> View:
    """Apply a view_submission `response_action` of update (replace) or push (new view on the stack)."""
    with store.lock:
        if not push:
            replace_spec(store, on_top_of, spec)
            return on_top_of
        view_id = store.new_id("V")
        view = View(
            id=view_id,
            team_id=on_top_of.team_id,
            user_id=on_top_of.user_id,
            type="modal",
            spec=spec,
            hash=store.new_view_hash(),
            root_view_id=on_top_of.root_view_id,
            previous_view_id=on_top_of.id,
            app_id=on_top_of.app_id,
            bot_id=on_top_of.bot_id,
        )
        return store.put_view(view)
