"""A user working in modals and the Home tab: clicking, choosing, typing, submitting, closing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from localslack import payloads
from localslack.elements import (
    STATEFUL,
    ActorError,
    action_item,
    find_element,
    is_empty,
    state_entry,
    state_values,
    with_generated_ids,
)
from localslack.methods.views import (
    STACK_LIMIT,
    close_stack,
    close_view,
    modal_stack,
    new_modal_from_response,
    open_modal_of,
)
from localslack.state import JSON, User, View, Workspace
from localslack.transport import Transport
from localslack.validation import validate_options_response, validate_view


@dataclass
class Submission:
    """What became of a view_submission."""

    response: httpx.Response
    # "errors" | "update" | "push" | "clear" | "close", or None when the app did not answer 200
    response_action: str | None
    errors: dict[str, str] | None
    view: JSON | None  # what the user sees afterwards; None once the modal is gone


class ViewActions(Transport):
    """The modal and Home tab half of the actor."""

    last_suggestion: JSON | None = None

    def _reachable_view(self, ws: Workspace, user: User, view_id: str) -> View:
        view = self.store.views.get(view_id)
        if view is None or view.team_id != ws.team_id or view.user_id != user.id:
            raise ActorError(f"{user.id} has no view {view_id}")
        if view.type == "modal":
            top = open_modal_of(self.store, ws.team_id, user.id)
            if view.status != "open" or top is None:
                raise ActorError(f"view {view_id} is closed")
            if top.id != view.id:
                raise ActorError(f"view {view_id} is under {top.id} in the stack; the user cannot reach it")
        return view

    def _fill(self, ws: Workspace, view: View, values: dict[str, dict[str, Any]]) -> None:
        for block_id, by_action in values.items():
            for action_id, value in by_action.items():
                _, element = find_element(
                    view.spec.get("blocks"), action_id, block_id, where=f"view {view.id}"
                )
                if element.get("type") not in STATEFUL:
                    raise ActorError(f"{action_id!r} is a {element.get('type')}; it holds no value")
                self._check_choice(ws, element, value)
                view.state.setdefault(block_id, {})[action_id] = state_entry(element, value)

    def fill(self, team_id: str, user_id: str, view_id: str, values: dict[str, dict[str, Any]]) -> None:
        """Type into / choose in input elements without sending anything (as Slack's client does)."""
        with self.store.lock:
            ws, user = self._who(team_id, user_id)
            self._fill(ws, self._reachable_view(ws, user, view_id), values)

    def click_in_view(
        self,
        team_id: str,
        user_id: str,
        view_id: str,
        action_id: str,
        value: str | None = None,
        block_id: str | None = None,
    ) -> httpx.Response:
        """Click a button in a modal or the Home tab: sends block_actions with a view container."""
        with self.store.lock:
            ws, user = self._who(team_id, user_id)
            view = self._reachable_view(ws, user, view_id)
            block, element = find_element(
                view.spec.get("blocks"), action_id, block_id, where=f"view {view_id}", button_value=value
            )
            if element.get("type") not in ("button", "workflow_button"):
                raise ActorError(f"{action_id!r} is a {element.get('type')}; use select_in_view()")
            payload = self._view_action(
                ws, user, view, action_item(block, element, None, self.store.next_ts())
            )
        return self._post_interaction(payload)

    def select_in_view(
        self,
        team_id: str,
        user_id: str,
        view_id: str,
        action_id: str,
        selected: Any,
        block_id: str | None = None,
    ) -> httpx.Response | None:
        """Choose in a select, overflow, date picker, checkboxes... in a view.

        Input-block elements only update the view's state (None is returned) unless the block sets
        `dispatch_action`, in which case Slack sends block_actions, as for elements outside inputs.
        """
        with self.store.lock:
            ws, user = self._who(team_id, user_id)
            view = self._reachable_view(ws, user, view_id)
            block, element = find_element(
                view.spec.get("blocks"), action_id, block_id, where=f"view {view_id}"
            )
            if element.get("type") not in STATEFUL:
                raise ActorError(f"{action_id!r} is a {element.get('type')}; use click_in_view()")
            self._check_choice(ws, element, selected)
            if element.get("type") != "overflow":
                view.state.setdefault(str(block["block_id"]), {})[action_id] = state_entry(element, selected)
            if block.get("type") == "input" and not block.get("dispatch_action"):
                return None
            action = action_item(block, element, selected, self.store.next_ts())
            payload = self._view_action(ws, user, view, action)
        return self._post_interaction(payload)

    def _view_action(self, ws: Workspace, user: User, view: View, action: JSON) -> JSON:
        trigger = self.store.mint_trigger(ws.team_id, user.id, view_id=view.id)
        self.last_trigger_id = trigger.id
        return payloads.view_actions(self.store, ws, user, view, action, trigger.id)

    def submit_view(
        self, team_id: str, user_id: str, view_id: str, values: dict[str, dict[str, Any]] | None = None
    ) -> Submission:
        """Fill `values` ({block_id: {action_id: value}}), press Submit, and apply the app's answer."""
        with self.store.lock:
            ws, user = self._who(team_id, user_id)
            view = self._reachable_view(ws, user, view_id)
            if view.type != "modal" or view.spec.get("submit") is None:
                raise ActorError(f"view {view_id} has no submit button")
            self._fill(ws, view, values or {})
            full = state_values(view.spec.get("blocks"), view.state)
            for block in view.spec.get("blocks") or []:
                if block.get("type") != "input" or block.get("optional"):
                    continue
                entries = full.get(str(block.get("block_id")), {})
                if not entries or all(is_empty(e) for e in entries.values()):
                    raise ActorError(
                        f"Slack will not submit {view_id}: required input {block['block_id']!r} is empty"
                    )
            trigger = self.store.mint_trigger(team_id, user_id, view_id=view.id)
            self.last_trigger_id = trigger.id
            payload = payloads.view_submission(self.store, ws, user, view, trigger.id)
        return self._apply_submission(view, self._post_interaction(payload))

    def _apply_submission(self, view: View, response: httpx.Response) -> Submission:
        store = self.store
        if response.status_code != 200:
            return Submission(response, None, None, payloads.view_object(view))
        body: Any = {}
        if response.content.strip():
            try:
                body = response.json()
            except ValueError:
                raise ActorError(
                    f"the app answered view_submission with non-JSON {response.text[:200]!r}"
                ) from None
        action = body.get("response_action") if isinstance(body, dict) else None
        with store.lock:
            if action is None:
                close_view(store, view)
                top = open_modal_of(store, view.team_id, view.user_id)
                return Submission(response, "close", None, payloads.view_object(top) if top else None)
            if action == "errors":
                errors = body.get("errors")
                inputs = {
                    b.get("block_id") for b in view.spec.get("blocks") or [] if b.get("type") == "input"
                }
                if not isinstance(errors, dict) or not errors or not set(errors) <= inputs:
                    raise ActorError(
                        f"Slack refuses errors {errors!r}: keys must be input block_ids {sorted(inputs)}"
                    )
                view.errors = {str(k): str(v) for k, v in errors.items()}
                return Submission(response, "errors", view.errors, payloads.view_object(view))
            if action in ("update", "push"):
                problems = validate_view(body.get("view"), ("modal",))
                if problems:
                    raise ActorError(f"Slack refuses the response_action {action} view: {problems}")
                if action == "push" and len(modal_stack(store, view)) >= STACK_LIMIT:
                    raise ActorError("Slack refuses the push: push_limit_reached")
                spec = dict(body["view"])
                spec["blocks"] = with_generated_ids(spec.get("blocks"))
                shown = new_modal_from_response(store, view, spec, push=action == "push")
                return Submission(response, action, None, payloads.view_object(shown))
            if action == "clear":
                close_stack(store, view)
                return Submission(response, "clear", None, None)
        raise ActorError(f"Slack refuses unknown response_action {action!r}")

    def close_view(self, team_id: str, user_id: str, view_id: str) -> httpx.Response | None:
        """Press Close/Cancel; sends view_closed only if the view asked for notify_on_close."""
        with self.store.lock:
            ws, user = self._who(team_id, user_id)
            view = self._reachable_view(ws, user, view_id)
            cleared = bool(view.spec.get("clear_on_close"))
            payload = None
            if view.spec.get("notify_on_close"):
                payload = payloads.view_closed(self.store, ws, user, view, is_cleared=cleared)
            if cleared:
                close_stack(self.store, view)
            else:
                close_view(self.store, view)
        return self._post_interaction(payload) if payload is not None else None

    def suggest(
        self, team_id: str, user_id: str, view_id: str, action_id: str, block_id: str | None, value: str
    ) -> list[JSON]:
        """Type `value` into an external select: sends block_suggestion, returns the options answered."""
        with self.store.lock:
            ws, user = self._who(team_id, user_id)
            view = self._reachable_view(ws, user, view_id)
            block, element = find_element(
                view.spec.get("blocks"), action_id, block_id, where=f"view {view_id}"
            )
            if element.get("type") not in ("external_select", "multi_external_select"):
                raise ActorError(f"{action_id!r} is a {element.get('type')}, not an external select")
            least = int(element.get("min_query_length", 3))  # Slack's default min_query_length is 3
            if len(value) < least:
                raise ActorError(f"Slack sends no block_suggestion before {least} characters are typed")
            payload = payloads.block_suggestion(
                self.store, ws, user, view, action_id, str(block["block_id"]), value
            )
        return self._options_answer(self._post_interaction(payload))

    def _options_answer(self, response: httpx.Response) -> list[JSON]:
        """The options an app answered a block_suggestion with, checked as Slack checks them."""
        if response.status_code != 200:
            raise ActorError(f"the app answered block_suggestion with HTTP {response.status_code}")
        try:
            body = response.json()
        except ValueError:
            raise ActorError(
                f"the app answered block_suggestion with non-JSON {response.text[:200]!r}"
            ) from None
        problems = validate_options_response(body)
        if problems:
            raise ActorError(f"Slack refuses the options: {problems}")
        self.last_suggestion = body
        if "options" in body:
            return list(body["options"])
        return [o for group in body["option_groups"] for o in group["options"]]
