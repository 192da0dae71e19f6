"""What the digest, setup and App Home tests share: a tiny Prometheus on 127.0.0.1, seeding of each
capability's records, and reading the digest back from the Slack fake."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sqlmodel import Session

from localslack import FakeSlack
from storage import debt as debt_repo
from storage.checklist import CheckRow
from storage.metrics import MetricsSnapshotRow, week_start
from storage.premortem import PremortemRow
from storage.premortem_mitigations import MitigationRow

PromValue = Callable[[str], float | None]


def default_values(query: str) -> float | None:
    """The seeded team's signals: p95 read 180 ms (over the 100 ms trigger), DB pool at 50%."""
    if "db_pool_utilisation" in query:
        return 0.5
    if 'method=~"GET|HEAD"' in query:
        return 0.180
    if "histogram_quantile(0.95" in query:
        return 0.120
    if "histogram_quantile(0.99" in query:
        return 0.250
    if 'code=~"5.."' in query:
        return 0.002
    if "max(up" in query:
        return 1.0
    if "http_requests_total" in query:
        return 120.0
    return None


class TinyPrometheus:
    """`/api/v1/query` and `/api/v1/query_range` answering a constant per query (None: empty)."""

    def __init__(self, values: PromValue = default_values, delay: float = 0.0) -> None:
        self.values, self.delay = values, delay
        self.queries: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                params = {k: v[-1] for k, v in parse_qs(url.query).items()}
                outer.queries.append(params.get("query", ""))
                body = outer.answer(url.path, params)
                raw = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def answer(self, path: str, params: dict[str, str]) -> dict[str, Any]:
        value = self.values(params.get("query", ""))
        if value is None:
            kind = "matrix" if path.endswith("query_range") else "vector"
            return {"status": "success", "data": {"resultType": kind, "result": []}}
        if path.endswith("query_range"):
            start, end, step = float(params["start"]), float(params["end"]), float(params["step"])
            points, t = [], start
            while t <= end + 1e-6:
                points.append([t, str(value)])
                t += step
            return {
                "status": "success",
                "data": {"resultType": "matrix", "result": [{"metric": {}, "values": points}]},
            }
        return {
            "status": "success",
            "data": {
                "resultType": "vector",
                "result": [{"metric": {}, "value": [float(params["time"]), str(value)]}],
            },
        }

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def closed_port_url() -> str:
    """A 127.0.0.1 URL nothing listens on (a source that refuses connections)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


# --- seeding each capability's records -----------------------------------------------------------


def add_check(
    session: Session,
    workspace_id: str,
    channel_id: str,
    team: str,
    verdict: str,
    band: str,
    finished_at: datetime,
    permalink: str | None = None,
) -> None:
    session.add(
        CheckRow(
            workspace_id=workspace_id,
            channel_id=channel_id,
            team_name=team,
            playbook_ref="default",
            playbook_digest="seeded",
            playbook_json="{}",
            status="done",
            started_by="U0LEAD1",
            started_at=finished_at - timedelta(hours=1),
            updated_at=finished_at,
            finished_at=finished_at,
            verdict=verdict,
            band=band,
            permalink=permalink,
        )
    )


def add_sprints(
    session: Session,
    workspace_id: str,
    channel_id: str,
    figures: list[tuple[int, int]],
    today: date,
    now: datetime,
) -> None:
    """Consecutive two-week sprints "Sprint 1"… ending with the one holding `today`."""
    first = today - timedelta(days=14 * (len(figures) - 1) + 3)
    for i, (debt, capacity) in enumerate(figures):
        starts = first + timedelta(days=14 * i)
        debt_repo.record_write(
            session,
            workspace_id,
            channel_id,
            debt_repo.SprintWrite(
                sprint=f"Sprint {i + 1}",
                capacity=Decimal(capacity),
                debt=Decimal(debt),
                unit="points",
                source="slack",
                author="U0LEAD1",
                now=now,
                starts=starts,
                ends=starts + timedelta(days=13),
            ),
        )


def add_p95_history(
    session: Session, workspace_id: str, channel_id: str, team: str, now: datetime, values: list[float]
) -> None:
    """Weekly snapshots before `now`'s week, oldest first (the last value is last week's)."""
    this_week = week_start(now)
    for i, value in enumerate(reversed(values), start=1):
        monday = this_week - timedelta(weeks=i)
        session.add(
            MetricsSnapshotRow(
                workspace_id=workspace_id,
                channel_id=channel_id,
                week_start=monday,
                team_name=team,
                source="prom",
                read_at=datetime.combine(monday, datetime.min.time(), tzinfo=UTC) + timedelta(hours=9),
                values_json=json.dumps({"p95_latency": {"value": value, "status": "no threshold"}}),
            )
        )


def add_premortem(
    session: Session,
    workspace_id: str,
    channel_id: str,
    team: str,
    started_at: datetime,
    mitigations: list[tuple[str, str, str, date, str]],
) -> None:
    """A pre-mortem past its vote, with the top risks' mitigations: (risk, plan, owner, due, status),
    the first being the top risk."""
    pm = PremortemRow(
        workspace_id=workspace_id,
        channel_id=channel_id,
        team_name=team,
        status="planning",
        started_by="U0LEAD1",
        started_at=started_at,
        deadline=started_at + timedelta(hours=48),
        updated_at=started_at,
        top_json=json.dumps([f"g{i}" for i in range(len(mitigations))]),
        permalink="https://acme.example/premortem",
    )
    session.add(pm)
    session.flush()
    assert pm.id is not None
    for i, (risk, plan, owner, due, status) in enumerate(mitigations):
        session.add(
            MitigationRow(
                workspace_id=workspace_id,
                channel_id=channel_id,
                premortem_id=pm.id,
                group_id=f"g{i}",
                title=risk,
                plan=plan,
                owner=owner,
                due=due,
                verification="load_test",
                status=status,
                created_by="U0LEAD1",
                created_at=started_at,
                updated_by="U0LEAD1",
                updated_at=started_at,
            )
        )


# --- reading the digest back ---------------------------------------------------------------------


def part(message: dict[str, Any]) -> str | None:
    return ((message.get("metadata") or {}).get("event_payload") or {}).get("part")


def parents(fake: FakeSlack, channel: str) -> list[dict[str, Any]]:
    return [m for m in fake.messages(channel) if part(m) == "parent"]


def team_messages(fake: FakeSlack, channel: str, parent_ts: str) -> list[dict[str, Any]]:
    return [m for m in fake.messages(channel, parent_ts) if part(m) == "team"]


def text_of(message: dict[str, Any]) -> str:
    """Every text of a message's blocks, joined (what a reader sees, in mrkdwn)."""
    out = [message.get("text") or ""]

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if isinstance(value.get("text"), str):
                out.append(value["text"])
            for v in value.values():
                if isinstance(v, dict | list):
                    walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    walk(message.get("blocks") or [])
    return "\n".join(out)
