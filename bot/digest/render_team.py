"""One team's message in the digest thread: checklist, mitigations, metrics, tech debt (Block Kit data).

Everything here is a function of the digest's facts and its `as_of` time (never "now"), so re-running the
same week renders the same message and only what changed is edited.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from bot import blocks as bk
from bot.digest.agenda import seed_ref
from bot.digest.model import (
    SECTION_TITLES,
    CalibrationFacts,
    ChecklistFacts,
    DebtFacts,
    HeadroomLine,
    LaunchesFacts,
    MetricsFacts,
    NoChecklist,
    PremortemFacts,
    Section,
    SectionKind,
    TeamDigest,
)
from bot.words import mitigation_count, plural, quoted

MAX_MITIGATIONS = 10
STATUS_ICONS = bk.SIGNAL_ICONS
DEBT_ICONS = {"under": ":arrow_down_small:", "in band": ":white_check_mark:", "over": ":arrow_up_small:"}


def unavailable_line(reason: str) -> str:
    return f":warning: unavailable: {bk.escape(reason)}"


def due_text(day: date) -> str:
    """A due date is a calendar day, the same for every reader (a `<!date>` would shift it by zone)."""
    return f"{day:%b} {day.day}, {day.year}"


def multiple(k: float) -> str:
    return "×∞" if k == float("inf") else f"×{float(f'{k:.2g}'):g}"


def headroom_text(h: HeadroomLine) -> str:
    return f"{bk.escape(h.title)} {multiple(h.headroom)}" + (" (saturates at 10x)" if h.saturates else "")


def _title(kind: SectionKind) -> str:
    return f"*{SECTION_TITLES[kind]}*"


def _not_available(section: Section[Any]) -> str | None:
    if section.unavailable:
        return unavailable_line(section.unavailable)
    if section.facts is None:
        return f"_{bk.escape(section.note or 'not set up yet')}_"
    return None


def checklist_text(section: Section[Any], as_of: datetime) -> str:
    missing = _not_available(section)
    if missing is not None:
        return f"{_title('checklist')}: {missing}"
    facts = section.facts
    if isinstance(facts, NoChecklist):
        going = " (one is in progress)" if facts.open_check else ""
        return f"{_title('checklist')}: no finished checklist yet{going} — run `/scale-check` in the channel"
    assert isinstance(facts, ChecklistFacts)
    stage = f" · stage {facts.stage}" if facts.stage else ""
    days = max(facts.age(as_of).days, 0)
    # The date reads "today" or "yesterday" on its own; older ones also say how long ago.
    stale = " · :warning: *stale* (over 90 days): run it again" if facts.stale(as_of) else ""
    link = f" · {bk.link(facts.permalink, 'thread')}" if facts.permalink else ""
    when = bk.date(facts.finished_at, "{date_short_pretty}")
    age = when if days < 2 else f"{days} days ago ({when})"
    return f"{_title('checklist')}: *{bk.escape(facts.verdict)}*{stage} · {age}{stale}{link}"


def premortem_text(section: Section[Any]) -> str:
    missing = _not_available(section)
    if missing is not None:
        return f"{_title('premortem')}: {missing}"
    facts = section.facts
    assert isinstance(facts, PremortemFacts)
    if not facts.exists:
        return f"{_title('premortem')}: no pre-mortem yet — `/scale-check premortem` asks the leads what breaks first at 10x"
    if not facts.mitigations:
        plan = " — plan them in the pre-mortem thread" if facts.unmitigated else ""
        return f"{_title('premortem')}: {mitigation_count(0, 0, facts.unmitigated)}{plan}"
    head = f"{_title('premortem')}: {mitigation_count(len(facts.mitigations), len(facts.overdue), facts.unmitigated)}"
    lines: list[str] = []
    used = len(head)
    for m in facts.mitigations[:MAX_MITIGATIONS]:
        owner = bk.mention(m.owner) if m.owner else "no owner"
        due = due_text(m.due) if m.due else "no due date"
        overdue = " · :red_circle: *overdue*" if m.overdue else ""
        risk, plan = bk.truncate(bk.escape(m.risk), 120), bk.truncate(bk.escape(m.plan), 200)
        line = f"• {quoted(risk)} — {plan} · {owner} · due {due} · {m.status}{overdue}"
        if used + len(line) + 80 > bk.MAX_SECTION_TEXT:
            break
        lines.append(line)
        used += len(line) + 1
    more = len(facts.mitigations) - len(lines)
    if more > 0:
        lines.append(f"…and {more} more: `/scale-check premortem status` in the channel")
    return head + "\n" + "\n".join(lines)


def metrics_texts(section: Section[Any]) -> list[str]:
    missing = _not_available(section)
    if missing is not None:
        return [f"{_title('metrics')}: {missing}"]
    facts = section.facts
    assert isinstance(facts, MetricsFacts)
    head = f"{_title('metrics')} from {bk.escape(facts.source)}, read {bk.date(facts.read_at)}"
    since = "last week"
    if not facts.compared_last_week:
        head += " · no reading last week"
        if facts.compared_at is not None:
            since = bk.date(facts.compared_at, "{date_short}")
            head += f", so changes are since {since}"
    lines = []
    for s in facts.signals:
        if s.error:
            lines.append(f"• {bk.escape(s.title)}: {unavailable_line(s.error)}")
            continue
        change = f" · {s.change} since {since}" if s.change else ""
        icon = STATUS_ICONS.get(s.status, "")
        trend = f" · {s.trend}" if s.trend else ""
        lines.append(f"• {bk.escape(s.title)} {s.value} ({s.limit}) {icon}{change}{trend}")
    parts = [head + "\n" + "\n".join(lines)]
    checks = [*facts.hints, *facts.unchecked]
    if checks:
        parts.append(bk.truncate("*Not checked*\n" + "\n".join(checks), bk.MAX_SECTION_TEXT))
    extra = []
    for t in facts.triggers:
        extra.append(
            f":rotating_light: {bk.escape(t.title)} {t.value} ({t.limit}) → *{t.action}* ({seed_ref(t.seed, t.origin)})"
        )
    if facts.breaks_first:
        extra.append("*Breaks first at 10x:* " + ", ".join(headroom_text(h) for h in facts.breaks_first))
    elif facts.signals:
        extra.append("*Breaks first at 10x:* nothing measured breaks below 10x")
    if extra:
        parts.append("\n".join(extra))
    return parts


def debt_text(section: Section[Any]) -> str:
    missing = _not_available(section)
    if missing is not None:
        return f"{_title('debt')}: {missing}"
    facts = section.facts
    assert isinstance(facts, DebtFacts)
    icon = DEBT_ICONS.get(facts.status, "")
    run = f" · {facts.out_of_band_run} sprints out of band in a row" if facts.out_of_band_run > 1 else ""
    stale = (
        f"\n:warning: import stale ({bk.escape(facts.stale)}); showing the last good figure"
        if facts.stale
        else ""
    )
    return (
        f"{_title('debt')}: {bk.escape(facts.sprint)} {facts.share_text} · rolling {facts.rolling_text} "
        f"{icon} *{facts.status}* (band 20–30%) · trend {facts.direction} `{facts.sparkline}`{run}{stale}"
    )


def launches_text(section: Section[Any]) -> str | None:
    """The team's launches in the next 30 days; nothing when there are none."""
    facts = section.facts
    if not isinstance(facts, LaunchesFacts) or not facts.lines:
        return None
    return f"{_title('launches')}:\n" + "\n".join(f"• {line}" for line in facts.lines)


def calibration_text(td: TeamDigest) -> str | None:
    """The team's calibration line; None while it has nothing to say (and when it could not be read:
    a missing line is not worth a warning of its own)."""
    facts = td.facts("calibration", CalibrationFacts)
    if facts is None or facts.line is None:
        return None
    return f":dart: {bk.escape(facts.line)}"


def people(td: TeamDigest) -> str:
    team = td.team
    bits = [bk.channel_link(team.channel_id)]
    if team.leads:
        bits.append("leads " + " ".join(bk.mention(u) for u in team.leads))
    if team.managers:
        bits.append("managers " + " ".join(bk.mention(u) for u in team.managers))
    return " · ".join(bits)


def summary_text(td: TeamDigest, as_of: datetime) -> str:
    """One line for notifications and the preview: the team at a glance (plain words, escaped)."""
    bits = [f"*{bk.escape(td.team.name)}*"]
    checklist = td.section("checklist").facts
    if isinstance(checklist, ChecklistFacts):
        bits.append(checklist.verdict + (" (stale)" if checklist.stale(as_of) else ""))
    premortem = td.facts("premortem", PremortemFacts)
    if premortem is not None:
        bits.append(
            mitigation_count(len(premortem.mitigations), len(premortem.overdue), premortem.unmitigated)
            if premortem.exists
            else "no pre-mortem"
        )
    metrics = td.facts("metrics", MetricsFacts)
    if metrics is not None:
        n = len(metrics.triggers)
        bits.append(plural(n, "breached trigger") if n else "no breached triggers")
    debt = td.facts("debt", DebtFacts)
    if debt is not None:
        bits.append(f"debt {debt.rolling_text} {debt.status}")
    down = [k for k, s in td.sections.items() if s.unavailable]
    if down:
        bits.append("unavailable: " + ", ".join(down))
    return " · ".join(bits)


def team_message(td: TeamDigest, as_of: datetime) -> dict[str, Any]:
    """The team's message in the thread (well under 50 blocks, every text within Slack's limits)."""
    blocks: list[bk.Block] = [
        bk.header(td.team.name),
        bk.context(people(td)),
        bk.section(checklist_text(td.section("checklist"), as_of)),
        bk.section(premortem_text(td.section("premortem"))),
        *(bk.section(text) for text in metrics_texts(td.section("metrics"))),
        bk.section(debt_text(td.section("debt"))),
    ]
    launches = launches_text(td.section("launches"))
    if launches:
        blocks.append(bk.section(launches))
    calibration = calibration_text(td)
    if calibration is not None:
        blocks.append(bk.context(calibration))
    text = summary_text(td, as_of).replace("*", "")
    return bk.message(text, blocks)
