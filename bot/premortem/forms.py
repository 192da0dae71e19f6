"""Reading the modals' values into plain data, with the sentence to show under each input that is wrong."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from typing import Any

from bot.premortem.config import COMPONENT_MAX
from bot.premortem.grouping import component_key, display
from bot.premortem.mitigation import PLAN_MAX, TargetError, default_op, parse_target
from bot.premortem.model import EVIDENCE_KINDS, LIKELIHOODS, MAX_RISKS, Risk, Target
from bot.premortem.render_modals import (
    DUE,
    METRIC,
    OWNER,
    PLAN,
    TARGET,
    VERIFY,
    WHY_MAX,
    block,
)

Values = dict[str, dict[str, dict[str, Any]]]


class FormErrors(ValueError):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def values_of(view: dict[str, Any]) -> Values:
    return ((view.get("state") or {}).get("values")) or {}


def _entry(values: Values, block_id: str) -> dict[str, Any]:
    by_action = values.get(block_id) or {}
    return next(iter(by_action.values()), {}) if by_action else {}


def text(values: Values, block_id: str) -> str:
    return " ".join(str(_entry(values, block_id).get("value") or "").split())


def long_text(values: Values, block_id: str) -> str:
    return str(_entry(values, block_id).get("value") or "").strip()


def chosen(values: Values, block_id: str) -> str | None:
    option = _entry(values, block_id).get("selected_option") or {}
    value = option.get("value")
    return str(value) if value else None


def parse_answer(lead: str, values: Values) -> list[Risk]:
    """A lead's ranked risks; at least the first, each with a component and why it breaks."""
    errors: dict[str, str] = {}
    risks: list[Risk] = []
    for n in range(1, MAX_RISKS + 1):
        other = text(values, block(n, "other"))
        picked = chosen(values, block(n, "component"))
        component = display(other or picked or "")
        why = long_text(values, block(n, "why"))
        kind = chosen(values, block(n, "kind"))
        evidence = long_text(values, block(n, "evidence"))
        stated = chosen(values, block(n, "likelihood"))
        if not component:
            if n == 1:
                errors[block(n, "component")] = (
                    "Name at least one component: pick one, or type a new one below."
                )
            elif why or evidence or kind or stated:
                errors[block(n, "component")] = f"Name the component for risk {n}, or clear its other fields."
            continue
        if len(component) > COMPONENT_MAX:
            errors[block(n, "other")] = f"Keep the component's name to {COMPONENT_MAX} characters."
        elif not component_key(component):
            errors[block(n, "other")] = "Name the component with letters or digits."
        if not why:
            errors[block(n, "why")] = f"Say why {component[:40]} breaks at 10x."
        elif len(why) > WHY_MAX:
            errors[block(n, "why")] = f"Keep it to {WHY_MAX} characters."
        if kind is not None and kind not in EVIDENCE_KINDS:
            errors[block(n, "kind")] = "Pick one of the listed kinds of evidence."
        if stated is not None and stated not in LIKELIHOODS:
            errors[block(n, "likelihood")] = "Pick one of the listed likelihoods, or leave it empty."
        likelihood = LIKELIHOODS.get(stated) if stated else None
        risks.append(Risk(lead, len(risks) + 1, component, why, kind, evidence, likelihood))
    keys = [component_key(r.component) for r in risks]
    for i, key in enumerate(keys):
        if key in keys[:i]:
            errors.setdefault(
                block(i + 1, "other"), "You named this component twice; name three different ones."
            )
    if errors:
        raise FormErrors(errors)
    return risks


@dataclass(frozen=True)
class MitigationForm:
    plan: str
    owner: str
    due: date
    verification: str  # metric | load_test
    metric: str | None
    target: Target | None

    def to_json(self) -> dict[str, Any]:
        return {
            PLAN: self.plan,
            OWNER: self.owner,
            DUE: self.due.isoformat(),
            VERIFY: self.verification,
            METRIC: self.metric,
            TARGET: f"{self.target.op} {self.target.text}" if self.target else "",
        }


def raw_mitigation(values: Values) -> dict[str, Any]:
    """What was typed, to refill the modal after an error found later."""
    return {
        PLAN: long_text(values, PLAN),
        OWNER: _entry(values, OWNER).get("selected_user"),
        DUE: _entry(values, DUE).get("selected_date"),
        VERIFY: chosen(values, VERIFY),
        METRIC: chosen(values, METRIC),
        TARGET: text(values, TARGET),
    }


def parse_mitigation(raw: dict[str, Any], signals: Collection[str], today: date) -> MitigationForm:
    errors: dict[str, str] = {}
    plan = str(raw.get(PLAN) or "").strip()
    if not plan:
        errors[PLAN] = "Write a short plan."
    elif len(plan) > PLAN_MAX:
        errors[PLAN] = f"Keep the plan to {PLAN_MAX} characters."
    owner = str(raw.get(OWNER) or "")
    if not owner:
        errors[OWNER] = "Pick the owner."
    due = today
    try:
        due = date.fromisoformat(str(raw.get(DUE) or ""))
    except ValueError:
        errors[DUE] = "Pick a due date."
    else:
        if due < today:
            errors[DUE] = f"The due date {due.isoformat()} is in the past; pick today or later."
    verification = str(raw.get(VERIFY) or "")
    metric, target = raw.get(METRIC) or None, None
    if verification not in ("metric", "load_test"):
        errors[VERIFY] = "Say how it is verified."
    elif verification == "metric":
        if not signals:
            errors[VERIFY] = "This team has no metrics source; verify it with a load test at 10x."
        elif not metric:
            errors[METRIC] = "Pick the metric that shows it worked."
        elif metric not in signals:
            errors[METRIC] = "That metric is no longer one of the team's signals; pick another."
        if signals and not raw.get(TARGET):
            errors[TARGET] = "Say what the metric must reach, like < 0.6."
        elif signals and metric:
            try:
                target = parse_target(str(raw[TARGET]), default_op(metric))
            except TargetError as exc:
                errors[TARGET] = str(exc)
    else:
        metric = None
    if errors:
        raise FormErrors(errors)
    return MitigationForm(
        plan, owner, due, verification, metric if verification == "metric" else None, target
    )


def mitigation_from_json(data: dict[str, Any]) -> MitigationForm:
    target = None
    if data.get(TARGET) and data.get(METRIC):
        target = parse_target(str(data[TARGET]), default_op(str(data[METRIC])))
    return MitigationForm(
        plan=str(data[PLAN]),
        owner=str(data[OWNER]),
        due=date.fromisoformat(str(data[DUE])),
        verification=str(data[VERIFY]),
        metric=data.get(METRIC),
        target=target,
    )


def reason_of(values: Values, block_id: str) -> str:
    return long_text(values, block_id)
