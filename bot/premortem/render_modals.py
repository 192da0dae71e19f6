"""The pre-mortem's modals: pick the leads, a lead's answer, a mitigation, a manager's override."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from bot import blocks as bk
from bot.premortem.config import COMPONENT_MAX
from bot.premortem.grouping import Group
from bot.premortem.mitigation import PLAN_MAX
from bot.premortem.model import (
    EVIDENCE_KINDS,
    LIKELIHOOD_LABELS,
    LOAD_TEST,
    MAX_LEADS,
    MAX_RISKS,
    QUESTION,
    Mitigation,
    Risk,
    likelihood_key,
)
from bot.premortem.refs import GroupRef, MitigationRef, PremortemRef, StartForm

VIEW_START = "premortem:start"
VIEW_ANSWER = "premortem:answer"
VIEW_MITIGATION = "premortem:mitigation"
VIEW_OVERRIDE = "premortem:override"
ACTION_COMPONENT = "premortem:component"  # the external select, answered by block_suggestion

LEADS_BLOCK, LEADS_ACTION = "leads", "leads"
WHY_MAX, EVIDENCE_MAX = 500, 300
# Per risk n (1..3): these block ids, each with the action id "value".
FIELDS = ("component", "other", "why", "kind", "evidence", "likelihood")
PLAN, OWNER, DUE, VERIFY, METRIC, TARGET, REASON = (
    "plan",
    "owner",
    "due",
    "verify",
    "metric",
    "target",
    "reason",
)
VALUE = "value"

View = dict[str, Any]


def block(n: int, name: str) -> str:
    return f"risk{n}_{name}"


def _text_input(initial: str, *, multiline: bool = False, max_length: int, placeholder: str = "") -> dict:
    element: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": VALUE,
        "multiline": multiline,
        "max_length": max_length,
    }
    if initial:
        element["initial_value"] = initial
    if placeholder:
        element["placeholder"] = bk.plain(placeholder)
    return element


def start_modal(channel_id: str, check_id: int | None = None) -> View:
    blocks = [
        bk.section(f"*{QUESTION}*\nName the tech leads who answer. Each gets the question in the thread."),
        bk.input_block(
            "Tech leads",
            {
                "type": "multi_users_select",
                "action_id": LEADS_ACTION,
                "max_selected_items": MAX_LEADS,
                "placeholder": bk.plain("Pick the leads"),
            },
            block_id=LEADS_BLOCK,
        ),
    ]
    meta = StartForm(ch=channel_id, check=check_id).metadata()
    return bk.modal(
        "Start a pre-mortem", blocks, callback_id=VIEW_START, submit="Start", private_metadata=meta
    )


def component_option(name: str) -> dict[str, Any]:
    return bk.option(name, name[: bk.MAX_OPTION_VALUE])


def surprise_option(name: str) -> dict[str, Any]:
    """A component that broke last time though no pre-mortem named it, offered first."""
    return bk.option(bk.truncate(f"{name} (broke; not predicted)", 75), name[: bk.MAX_OPTION_VALUE])


def answer_modal(premortem_id: int, team: str, existing: Sequence[Risk], error: str | None = None) -> View:
    """Up to three ranked risks; an edit starts from the lead's earlier answer."""
    by_rank = {r.rank: r for r in existing}
    blocks: list[bk.Block] = [
        bk.section(f"{bk.escape(team)} pre-mortem: *{QUESTION}*"),
        bk.context(
            "Rank 1 is the thing most likely to break first. Pick a known component or name a new one. "
            "Your answer stays hidden until every lead has answered or the deadline passes, and you can "
            "edit it until then."
        ),
    ]
    if error:
        blocks.append(bk.section(f":warning: {bk.escape(error)}"))
    for n in range(1, MAX_RISKS + 1):
        risk = by_rank.get(n)
        select: dict[str, Any] = {
            "type": "external_select",
            "action_id": ACTION_COMPONENT,
            "min_query_length": 0,
            "placeholder": bk.plain("Type to search known components"),
        }
        if risk is not None:
            select["initial_option"] = component_option(risk.component)
        kind: dict[str, Any] = {
            "type": "static_select",
            "action_id": VALUE,
            "placeholder": bk.plain("What shows it?"),
            "options": [bk.option(label.capitalize(), key) for key, label in EVIDENCE_KINDS.items()],
        }
        known = risk.evidence_kind if risk is not None else None
        if known is not None and known in EVIDENCE_KINDS:
            kind["initial_option"] = bk.option(EVIDENCE_KINDS[known].capitalize(), known)
        chance: dict[str, Any] = {
            "type": "static_select",
            "action_id": VALUE,
            "placeholder": bk.plain("How likely in the next 90 days?"),
            "options": [bk.option(label, key) for key, label in LIKELIHOOD_LABELS.items()],
        }
        stated = likelihood_key(risk.likelihood) if risk is not None else None
        if stated is not None:
            chance["initial_option"] = bk.option(LIKELIHOOD_LABELS[stated], stated)
        first = n == 1
        title = "most likely to break first" if first else "optional"
        needed = "needed for this risk: " if first else "needed once this risk is named: "
        blocks += [
            bk.header(f"Risk {n} ({title})"),
            bk.input_block(
                "Component",
                select,
                block_id=block(n, "component"),
                optional=True,
                hint=f"A component is {needed}pick one here, or type a new one below.",
            ),
            bk.input_block(
                "…or a component not in the list",
                _text_input("", max_length=COMPONENT_MAX, placeholder="e.g. payment webhook queue"),
                block_id=block(n, "other"),
                optional=True,
                hint="Used instead of the list's choice when filled in.",
            ),
            bk.input_block(
                "Why it breaks at 10x",
                _text_input(risk.why if risk else "", multiline=True, max_length=WHY_MAX),
                block_id=block(n, "why"),
                optional=not first,
                hint=None if first else "Needed once this risk names a component.",
            ),
            bk.input_block("Evidence", kind, block_id=block(n, "kind"), optional=True),
            bk.input_block(
                "The evidence itself",
                _text_input(
                    risk.evidence if risk else "",
                    max_length=EVIDENCE_MAX,
                    placeholder="a metric and its value, an incident, a load test result…",
                ),
                block_id=block(n, "evidence"),
                optional=True,
            ),
            bk.input_block(
                "How likely it breaks",
                chance,
                block_id=block(n, "likelihood"),
                optional=True,
                hint="Optional. Scored against what really breaks (Brier score in `/scale-check history`).",
            ),
        ]
    title = "Edit your answer" if existing else "Your answer"
    return bk.modal(
        title,
        blocks,
        callback_id=VIEW_ANSWER,
        submit="Save",
        private_metadata=PremortemRef(pm=premortem_id).metadata(),
    )


def mitigation_modal(
    premortem_id: int,
    group: Group,
    signals: Sequence[str],
    existing: Mitigation | None,
    today: date,
    values: dict[str, Any] | None = None,
    error: str | None = None,
) -> View:
    """Plan, owner, due date and verification for one top risk. `values` refills it after an error."""
    v = values or {}
    if existing is not None and not v:
        v = {
            PLAN: existing.plan,
            OWNER: existing.owner,
            DUE: existing.due.isoformat(),
            VERIFY: existing.verification,
            METRIC: existing.metric,
            TARGET: f"{existing.target.op} {existing.target.text}" if existing.target else "",
        }
    blocks: list[bk.Block] = [bk.section(f"*Risk:* {bk.escape(group.title)}")]
    if error:
        blocks.append(bk.section(f":warning: {error}"))
    owner: dict[str, Any] = {
        "type": "users_select",
        "action_id": VALUE,
        "placeholder": bk.plain("Who owns it"),
    }
    if v.get(OWNER):
        owner["initial_user"] = v[OWNER]
    due: dict[str, Any] = {
        "type": "datepicker",
        "action_id": VALUE,
        "initial_date": v.get(DUE) or today.isoformat(),
    }
    choices = {"metric": "A metric meets a target", "load_test": LOAD_TEST.capitalize()}
    verify: dict[str, Any] = {
        "type": "radio_buttons",
        "action_id": VALUE,
        "options": [bk.option(label, key) for key, label in choices.items()],
    }
    if v.get(VERIFY) in choices:
        verify["initial_option"] = bk.option(choices[v[VERIFY]], v[VERIFY])
    blocks += [
        bk.input_block(
            "Plan", _text_input(v.get(PLAN) or "", multiline=True, max_length=PLAN_MAX), block_id=PLAN
        ),
        bk.input_block("Owner", owner, block_id=OWNER),
        bk.input_block("Due date", due, block_id=DUE),
        bk.input_block("Verified when", verify, block_id=VERIFY),
    ]
    if signals:
        metric: dict[str, Any] = {
            "type": "static_select",
            "action_id": VALUE,
            "placeholder": bk.plain("One of the team's signals"),
            "options": [bk.option(name, name) for name in list(signals)[:100]],
        }
        if v.get(METRIC) in signals:
            metric["initial_option"] = bk.option(v[METRIC], v[METRIC])
        blocks += [
            bk.input_block(
                "Metric",
                metric,
                block_id=METRIC,
                optional=True,
                hint="Needed when it is verified by a metric.",
            ),
            bk.input_block(
                "Target",
                _text_input(v.get(TARGET) or "", max_length=40, placeholder="e.g. < 0.6, <= 250ms, >= 99.9%"),
                block_id=TARGET,
                optional=True,
                hint="Needed when it is verified by a metric: the metric must meet this before the "
                "mitigation can be marked done.",
            ),
        ]
    else:
        blocks.append(
            bk.context("This team has no metrics source, so a mitigation is verified by a load test at 10x.")
        )
    meta = GroupRef(pm=premortem_id, g=group.id).metadata()
    return bk.modal("Mitigation", blocks, callback_id=VIEW_MITIGATION, submit="Save", private_metadata=meta)


def override_modal(mitigation: Mitigation, unavailable: str) -> View:
    blocks = [
        bk.section(
            f"*{bk.escape(mitigation.title)}* is verified by `{bk.escape(mitigation.metric or '')}`, which I "
            f"can't read right now ({bk.escape(unavailable)}). Mark it done anyway, with the reason on record."
        ),
        bk.input_block(
            "Reason",
            _text_input("", multiline=True, max_length=500),
            block_id=REASON,
            hint="At least 10 characters.",
        ),
    ]
    return bk.modal(
        "Mark done anyway",
        blocks,
        callback_id=VIEW_OVERRIDE,
        submit="Mark done",
        private_metadata=MitigationRef(
            m=mitigation.id, s=mitigation.status
        ).metadata(),  # the status it was opened in
    )


def note_view(title: str, text: str) -> View:
    """A modal with a sentence and no inputs (while saving, once saved)."""
    return bk.modal(title, [bk.section(text)], callback_id="premortem:note", submit=None, close="Close")
