"""Building and posting the weekly digest for many teams, against Slack's per-channel posting rate.

1,000 teams (by default), 5 signals each from a Prometheus-compatible source answering every query after
50 ms, three sprints of tech-debt figures each, 50 managers with 20 teams each; the Slack fake allows one
message per second per channel and answers some calls 429 with `Retry-After`. The report shows, each
against its floor: the collection against its ideal (total source latency / the source's concurrency) and
the CPU per team; the messages sent (the parent, the capped thread replies, each manager's digest, the
canvas calls) and the wall time against the floor Slack's one message a second per channel implies (the
parent and the replies share the digest channel; managers' digests go to their own DMs in parallel);
and the peak RSS of the process.

    .venv/bin/python -m bench.digest [--teams 1000] [--managers 50] [--latency 0.05] [--concurrency 64]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bot.config import AppConfig
from bot.digest import service
from bot.digest.model import Week
from bot.process import tune_gc
from bot.runtime import build_runtime
from bot.settings import Settings
from localslack import FakeSlack
from storage import installations, migrate
from tests.digest_support import add_sprints, part

SIGNALS = ("p95_latency", "p99_latency", "error_rate", "availability", "request_rate")
DIGEST = "C0DIGEST"
MANAGER = "U0MGR1"  # a digest recipient who manages no team: the org-wide copy by DM


def manager(i: int, managers: int) -> str:
    return f"U0M{i % managers:04d}"


def slow_prometheus(latency: float) -> Starlette:
    """`/api/v1/query_range` and `/api/v1/query`: one flat series (or sample), after `latency` seconds
    (asynchronously, so many at once)."""

    async def query(request: Request) -> JSONResponse:
        await asyncio.sleep(latency)
        q = request.query_params
        value = "0.12" if "histogram_quantile" in q["query"] else "0.5"
        return JSONResponse(
            {
                "status": "success",
                "data": {
                    "resultType": "vector",
                    "result": [{"metric": {}, "value": [float(q["time"]), value]}],
                },
            }
        )

    async def query_range(request: Request) -> JSONResponse:
        await asyncio.sleep(latency)
        q = request.query_params
        start, end, step = float(q["start"]), float(q["end"]), float(q["step"])
        value = "0.12" if "histogram_quantile" in q["query"] else "0.5"
        points, t = [], start
        while t <= end + 1e-6:
            points.append([t, value])
            t += step
        return JSONResponse(
            {
                "status": "success",
                "data": {"resultType": "matrix", "result": [{"metric": {}, "values": points}]},
            }
        )

    return Starlette(routes=[Route("/api/v1/query_range", query_range), Route("/api/v1/query", query)])


class SourceProcess:
    """The simulated source in its own process, as a real one would be (not sharing this one's CPU)."""

    def __init__(self, latency: float) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.digest", "--serve-source", str(port), "--latency", str(latency)]
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("the simulated source did not start") from None
                time.sleep(0.1)

    def cpu_seconds(self) -> float:
        """The source process's CPU so far (user + system), from /proc."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


class RateLimitInjector(threading.Thread):
    """Slack answering 429 now and then: the first chart upload and the first DM open, then the next
    `chat.postMessage` every `every` seconds."""

    def __init__(self, fake: FakeSlack, every: float = 20.0) -> None:
        super().__init__(daemon=True)
        self.fake, self.every, self.stop = fake, every, threading.Event()
        fake.rate_limit_next("files.getUploadURLExternal", retry_after=1)
        fake.rate_limit_next("conversations.open", retry_after=1)
        self.injected = 2

    def run(self) -> None:
        while not self.stop.wait(self.every):
            self.fake.rate_limit_next("chat.postMessage", retry_after=1)
            self.injected += 1


class StallWatch:
    """How late the event loop runs a 5 ms timer while the digest is built and posted: what a Slack
    request arriving meanwhile would wait before its handler could start (the ack budget is 3 s)."""

    TICK = 0.005

    def __init__(self) -> None:
        self.late: list[float] = []

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            due = loop.time() + self.TICK
            await asyncio.sleep(self.TICK)
            self.late.append(max(0.0, loop.time() - due))

    def worst(self) -> float:
        return max(self.late, default=0.0)

    def p99(self) -> float:
        ordered = sorted(self.late)
        return ordered[int(len(ordered) * 0.99)] if ordered else 0.0


def config(teams: int, prom_url: str, concurrency: int, managers: int) -> AppConfig:
    return AppConfig.model_validate(
        {
            "defaults": {
                "metrics": {"max_concurrency": concurrency, "answer_within_seconds": 60, "retries": 0}
            },
            "sources": {"prom": {"kind": "prometheus", "url": prom_url, "timeout_seconds": 10}},
            "teams": [
                {
                    "name": f"Team {i:04d}",
                    "channel": f"C{1000000 + i}",
                    "managers": [manager(i, managers)],
                    "metrics": {
                        "source": "prom",
                        "service": f"svc-{i}",
                        "default_signals": False,
                        "signals": {name: {} for name in SIGNALS},
                    },
                }
                for i in range(teams)
            ],
            "digest": {"channel": DIGEST, "managers": [MANAGER]},
        }
    )


async def run(args: argparse.Namespace, fake: FakeSlack, source: SourceProcess, tmp: Path) -> dict[str, Any]:
    ws = fake.workspace("T0001")
    settings = Settings(  # type: ignore[call-arg]
        slack_bot_token=ws.bot_token,
        slack_signing_secret="bench-signing-secret",
        slack_api_url=fake.api_url,
        database_url=f"sqlite:///{tmp / 'bench.sqlite3'}",
        log_level="WARNING",
    )
    rt = build_runtime(settings, config=config(args.teams, source.url, args.concurrency, args.managers))
    await asyncio.get_running_loop().run_in_executor(None, migrate.upgrade, rt.db)
    await rt.db.run(
        installations.save_installation,
        installations.InstallationRow(
            workspace_id="T0001", bot_token=ws.bot_token, source="token", installed_at=rt.clock.now()
        ),
    )
    now = rt.clock.now()

    def sprints(session: Any) -> None:
        for i in range(args.teams):
            figures = [(6 + (i + k) % 12, 50) for k in range(3)]
            add_sprints(session, "T0001", f"C{1000000 + i}", figures, now.date(), now)

    await rt.db.run(sprints)
    timings: dict[str, float] = {}
    real_build = service.build

    async def timed_build(*a: Any, **kw: Any) -> Any:
        started, cpu, source_cpu = time.perf_counter(), time.process_time(), source.cpu_seconds()
        try:
            return await real_build(*a, **kw)
        finally:
            timings["collect"] = time.perf_counter() - started
            timings["collect_cpu"] = time.process_time() - cpu
            timings["source_cpu"] = source.cpu_seconds() - source_cpu

    service.build = timed_build  # type: ignore[assignment]
    started = time.perf_counter()
    stalls = StallWatch()
    watching = asyncio.create_task(stalls.run())
    outcome = await asyncio.wait_for(
        service.send_week(
            rt, "T0001", Week.of(now, "UTC"), now, reason="now", concurrency=args.teams_at_once
        ),
        args.timeout,
    )
    timings["total"] = time.perf_counter() - started
    watching.cancel()
    timings["stall_max"], timings["stall_p99"] = stalls.worst(), stalls.p99()
    timings["queries"] = sum(
        sample.value
        for metric in rt.telemetry.source_queries.collect()
        for sample in metric.samples
        if sample.name.endswith("_total")
    )
    await rt.close()
    return {"outcome": outcome, **timings}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--teams", type=int, default=1000)
    parser.add_argument("--managers", type=int, default=50, help="team managers (teams spread evenly)")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per source query")
    parser.add_argument("--concurrency", type=int, default=64, help="concurrent queries to the source")
    parser.add_argument("--teams-at-once", type=int, default=16, help="teams collected at once")
    parser.add_argument("--timeout", type=float, default=1800, help="give up after this many seconds")
    parser.add_argument("--serve-source", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.serve_source:
        uvicorn.run(
            slow_prometheus(args.latency), host="127.0.0.1", port=args.serve_source, log_level="warning"
        )
        return
    tune_gc()  # the process settings `scalebot serve` and `scalebot scheduler` start with
    prom = SourceProcess(args.latency)
    with FakeSlack() as fake, tempfile.TemporaryDirectory() as tmp:
        ws = fake.add_workspace("T0001")
        fake.add_user(ws.team_id, MANAGER, "maria", tz="Europe/London")
        for i in range(args.managers):
            fake.add_user(ws.team_id, manager(i, args.managers), f"manager{i}", tz="UTC")
        fake.add_channel(ws.team_id, DIGEST, "scale-digest", members=[MANAGER])
        fake.set_message_rate(1)
        injector = RateLimitInjector(fake)
        injector.start()
        try:
            result = asyncio.run(run(args, fake, prom, Path(tmp)))
        finally:
            injector.stop.set()
            prom.stop()
        outcome = result["outcome"]
        thread = fake.messages(DIGEST, outcome.parent_ts)
        team_posts = [m for m in thread if part(m) == "team"]
        answered_429 = [c for c in fake.calls() if c.error == "ratelimited"]
        charts = [f for f in fake.files() if f.completed]
        posts = [c for c in fake.calls("chat.postMessage") if c.ok]
        canvas_calls = [c for c in fake.calls() if "canvases" in c.method and c.ok]
        canvases = fake.canvases()
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    queries = args.teams * len(SIGNALS)
    ideal = queries * args.latency / args.concurrency
    channel_floor = 1 + len(team_posts)  # the parent and the replies, one a second in one channel
    post_time = result["total"] - result["collect"]
    print(
        f"digest for {args.teams} teams × {len(SIGNALS)} signals, {args.latency * 1000:g} ms per query, "
        f"{args.managers} managers"
    )
    print(f"  wall:     {result['total']:.1f} s to build and post it all (target ≤ 120 s)")
    sent = int(result["queries"])
    print(
        f"  collect:  {result['collect']:.1f} s against the ideal {ideal:.2f} s "
        f"({result['collect'] / ideal:.1f}×; total source latency {queries * args.latency:g} s / concurrency "
        f"{args.concurrency}); CPU {result['collect_cpu'] / args.teams * 1000:.1f} ms per team"
    )
    print(
        f"            {sent} queries sent ({sent / args.teams:g} per team: availability reads its value and "
        f"its daily trend apart), a floor of {sent * args.latency / args.concurrency:.2f} s; the simulated "
        f"source used {result['source_cpu']:.1f} s of CPU meanwhile (on this machine's "
        f"{os.cpu_count()} cores)"
    )
    print(
        f"  post:     {post_time:.1f} s against the floor of {channel_floor} s (the parent and "
        f"{len(team_posts)} replies, one a second in the digest's channel; DMs go in parallel)"
    )
    print(
        f"  messages: {len(posts)} chat.postMessage = 1 parent + {len(team_posts)} replies + "
        f"{outcome.managers} managers' digests + {outcome.dms} org-wide copy; {len(charts)} files; "
        f"canvas: {len(canvases)} canvas, {len(canvas_calls)} canvas calls "
        f"({', '.join(sorted({c.method for c in canvas_calls}))})"
    )
    print(
        f"  429s answered: {len(answered_429)} ({injector.injected} injected, the rest from the fake's limits)"
    )
    print(f"  peak RSS: {peak_rss_mb:.0f} MiB")
    print(
        f"  event loop: a 5 ms timer ran at most {result['stall_max'] * 1000:.0f} ms late "
        f"(p99 {result['stall_p99'] * 1000:.0f} ms) while the digest was built and posted"
    )
    if outcome.managers != args.managers or len(canvases) != 1:
        raise SystemExit("wrong number of managers' digests or canvases")


if __name__ == "__main__":
    main()
