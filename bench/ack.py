"""Ack latency of `/scale-check help` over loopback: Bolt's default runner vs process_before_response.

Both apps run in this process against the Slack fake, requests alternate between them in rounds so
machine noise hits both alike, and the figures are reported side by side with their ratio.

    .venv/bin/python -m bench.ack [--requests 400] [--rounds 4]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from localslack import FakeSlack
from tests.harness import SIGNING_SECRET, BotServer, bot_settings, seed_workspace


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400, help="requests per mode")
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()

    with FakeSlack() as fake, tempfile.TemporaryDirectory() as tmp:
        seeded = seed_workspace(fake)
        servers = {}
        for label, pbr in (
            ("default runner (polls every 10 ms)", False),
            ("process_before_response + lazy", True),
        ):
            settings = bot_settings(
                fake, seeded, f"sqlite:///{Path(tmp) / (str(pbr) + '.db')}", log_level="WARNING"
            )
            servers[label] = BotServer(settings, process_before_response=pbr).start()
        samples: dict[str, list[float]] = {label: [] for label in servers}
        per_round = max(1, args.requests // args.rounds)
        for server in servers.values():  # warm up both
            fake.configure_app(request_url=server.events_url, signing_secret=SIGNING_SECRET)
            for _ in range(20):
                fake.actor().slash_command(seeded.team_id, seeded.member, seeded.channel, "help")
        for _ in range(args.rounds):
            for label, server in servers.items():
                fake.configure_app(request_url=server.events_url, signing_secret=SIGNING_SECRET)
                actor = fake.actor()
                for _ in range(per_round):
                    started = time.perf_counter()
                    response = actor.slash_command(seeded.team_id, seeded.member, seeded.channel, "help")
                    samples[label].append(time.perf_counter() - started)
                    assert response.status_code == 200
        for server in servers.values():
            server.stop()

    print(f"/scale-check help over loopback, {per_round * args.rounds} signed requests per mode (ms)")
    print(f"{'mode':<38} {'p50':>7} {'p99':>7} {'mean':>7}")
    rows = {}
    for label, values in samples.items():
        ms = [v * 1000 for v in values]
        rows[label] = (percentile(ms, 0.5), percentile(ms, 0.99), statistics.fmean(ms))
        print(f"{label:<38} {rows[label][0]:7.1f} {rows[label][1]:7.1f} {rows[label][2]:7.1f}")
    (d50, d99, _), (p50, p99, _) = rows.values()
    print(f"ratio default/process_before_response: p50 {d50 / p50:.2f}x, p99 {d99 / p99:.2f}x")


if __name__ == "__main__":
    main()
