"""A launch's steps when they come: the pre-mortem (T−14), a fresh signal checklist (T−7), the go/no-go
summary (T−1) and the retro prompt (T+3), each told in the launch's thread.

`run_step` is what the scheduler's `launch.step` job calls. It acts only when the run is the step's
current time and the step is still pending (`storage.launches.claim_step`), so a job left by a move or a
cancel does nothing and one run among every replica starts the step. A run that comes more than the
grace time late (the bot was down) says in the thread that the step was skipped, instead of running it.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from bot import blocks as bk
from bot.checklist.service import service_for as checklist_service
from bot.errors import UserError
from bot.launch import render, rules
from bot.launch.model import GoNoGo, Launch, Mitigation
from bot.launch.service import LaunchService
from bot.metrics.render import signal_windows, trigger_line, value_text
from bot.metrics.service import MetricsNotConfigured, read_team_signals
from bot.premortem import lifecycle
from bot.premortem.service import service_for as premortem_service
from bot.slack_api import InstrumentedWebClient
from bot.teams import Team
from storage import launches as repo
from storage import premortem_mitigations as mitigations_repo

log = logging.getLogger(__name__)

SKIP_HINTS = {
    "premortem": "Start one yourself with `/scale-check premortem` in the team's channel.",
    "checklist": "Run one yourself with `/scale-check new` in the team's channel.",
    "gonogo": "`/scale-check metrics` shows the headroom now.",
    "retro": "Report what broke with `/scale-check incident <component>`.",
}


async def run_step(
    svc: LaunchService, workspace_id: str, launch_id: int, step: str, run_time: datetime
) -> str:
    """Start the step if this run is its own; returns what happened (for the log and the tests)."""
    rt = svc.rt
    due_ts = int(run_time.astimezone(UTC).timestamp())
    if not await rt.db.run(repo.claim_step, workspace_id, launch_id, step, due_ts):
        return "not this run"  # moved, cancelled, or already started by another run
    launch = await svc.load(workspace_id, launch_id)
    client = await rt.client_for(workspace_id)
    grace = timedelta(hours=rt.config.launch_for(workspace_id).grace_hours)
    if rules.missed(run_time, rt.clock.now(), grace):
        await rt.db.run(
            repo.finish_step,
            workspace_id,
            launch_id,
            step,
            repo.SKIPPED,
            "skipped: the bot was down",
            rt.clock.now(),
        )
        await svc.post(client, launch, render.step_skipped(step, run_time, SKIP_HINTS[step]))
        await svc.redraw(client, await svc.load(workspace_id, launch_id))
        return "skipped"
    late = bool((s := launch.step(step)) and s.late)
    try:
        note = await _act(svc, client, launch, step, late)
    except BaseException:
        # Let a retry (the scheduler's sweep) claim it again.
        await rt.db.run(repo.finish_step, workspace_id, launch_id, step, repo.PENDING, None, rt.clock.now())
        raise
    await rt.db.run(repo.finish_step, workspace_id, launch_id, step, repo.DONE, note, rt.clock.now())
    await svc.redraw(client, await svc.load(workspace_id, launch_id))
    log.info("launch step ran", extra={"workspace": workspace_id, "launch": launch_id, "step": step})
    return "done"


async def _act(
    svc: LaunchService, client: InstrumentedWebClient, launch: Launch, step: str, late: bool
) -> str:
    team = await svc.team(client, launch.workspace_id, launch.channel_id)
    if step == "premortem":
        return await _premortem(svc, client, launch, team, late)
    if step == "checklist":
        return await _checklist(svc, client, launch, team, late)
    if step == "gonogo":
        facts = await go_no_go(svc, launch, team)
        await svc.post(client, launch, render.gonogo_message(launch, facts, late))
        return "posted"
    await svc.post(client, launch, render.retro_message(launch, late))
    return "asked"


async def _premortem(
    svc: LaunchService, client: InstrumentedWebClient, launch: Launch, team: Team, late: bool
) -> str:
    leads = list(launch.leads or team.leads)
    try:
        started = await lifecycle.start(premortem_service(svc.rt), team, launch.created_by, leads)
    except UserError as exc:
        await svc.post(client, launch, render.step_started("premortem", late, f"not started — {exc.message}"))
        return "not started"
    # Its predictions resolve at the launch's T+30 (bot/launch/horizon.py).
    await svc.rt.db.run(repo.link_premortem, launch.workspace_id, launch.id, "premortem", started.pm.id)
    where = bk.link(started.pm.permalink, "its thread") if started.pm.permalink else "the channel"
    detail = f"started with {', '.join(bk.mention(u) for u in started.pm.lead_ids)}; answers go in {where}."
    await svc.post(client, launch, render.step_started("premortem", late, detail))
    return "started"


async def _checklist(
    svc: LaunchService, client: InstrumentedWebClient, launch: Launch, team: Team, late: bool
) -> str:
    try:
        state, _ = await checklist_service(svc.rt).start(
            client, launch.workspace_id, team, launch.created_by, force_new=True
        )
    except UserError as exc:
        await svc.post(client, launch, render.step_started("checklist", late, f"not started — {exc.message}"))
        return "not started"
    loaded = await checklist_service(svc.rt).load(launch.workspace_id, state.id)
    link = loaded.check.permalink
    where = bk.link(link, "the checklist") if link else "the channel"
    await svc.post(
        client,
        launch,
        render.step_started("checklist", late, f"a fresh one is in {where}; answer it before the launch."),
    )
    return "started"


def meets(value: float, op: str, target: float) -> bool:
    """Whether a mitigation's metric meets its target (`< 0.6`, `<= 200`, `> 0.99`…)."""
    ops = {"<": value < target, "<=": value <= target, ">": value > target, ">=": value >= target}
    return ops.get(op, False)


async def go_no_go(svc: LaunchService, launch: Launch, team: Team) -> GoNoGo:
    """Open mitigations with their metric read now, headroom at the launch's multiple, breached triggers
    and the latest checklist's verdict."""
    rt = svc.rt
    reading, note = None, None
    try:
        reading = await read_team_signals(rt, team)
    except MetricsNotConfigured as exc:
        note = exc.message
    breaks: tuple[tuple[str, float], ...] = ()
    triggers: tuple[str, ...] = ()
    if reading is not None:
        windows = signal_windows(reading)
        breaks = tuple(
            (h.name, h.headroom) for h in reading.projection.ranked if h.headroom < launch.multiple
        )
        triggers = tuple(
            trigger_line(t, windows.get(t.signal, "")).removeprefix("• ") for t in reading.triggers
        )
        if not reading.projection.ranked and reading.errors:
            note = "metrics unavailable (" + "; ".join(reading.errors.values()) + ")"
    rows = await rt.db.run(mitigations_repo.open_for_team, launch.workspace_id, launch.channel_id)
    mitigations = []
    for m, _pm in rows:
        value = reading.get(m.metric) if reading is not None and m.metric else None
        now = value.value if value is not None else None
        met = None
        if now is not None and m.target_op and m.target_value is not None:
            met = meets(now, m.target_op, m.target_value)
        target = (
            f"{m.target_op} {m.target_text or f'{m.target_value:g}'}"  # as the person wrote it ("< 50%")
            if m.target_op and m.target_value is not None
            else m.target_text
        )
        shown = value_text(value.signal, now) if value is not None and now is not None else ""
        mitigations.append(Mitigation(m.title, m.owner, m.metric, target, now, met, shown))
    entries, _ = await checklist_service(rt).history(launch.workspace_id, launch.channel_id, 1)
    latest = entries[0] if entries else None
    verdict = latest.verdict if latest and latest.status == "done" else None
    return GoNoGo(
        multiple=launch.multiple,
        breaks=breaks,
        triggers=triggers,
        mitigations=tuple(mitigations),
        verdict=verdict,
        checklist_link=latest.permalink if latest else None,
        metrics_note=note,
    )
