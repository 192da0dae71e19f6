"""Click-to-visible latency of the checklist's buttons, against the Slack fake's chat.update budget.

The app and the Slack fake run in this process and talk over real signed HTTP. One check is started; then

- single clicks: one person clicks an answer, waits until the thread shows it, pauses a moment (a person
  answering question after question), and the next click comes from someone else;
- a burst: 40 clicks by 5 people at random moments within 2 s, on the questions of two parts of the
  check (two thread messages).

A click is visible when the message it was made on shows its answer (or the answer of a later click on
the same question, which replaced it). The fake enforces its per-workspace chat.update budget (a burst of
20, then 50 a minute) and response_url's limits (5 uses in 30 minutes); the report counts the updates
against each, the 429s the bot caused, and checks the thread's final state against what was stored.

    .venv/bin/python -m bench.clicks [--singles 20] [--burst 40] [--window 2.0] [--seed 7]
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from localslack import FakeSlack
from localslack.faults import UPDATE_LIMIT
from storage import checklist as repo
from tests.checklist_driver import Driver
from tests.harness import SIGNING_SECRET, BotServer, bot_settings, seed_workspace

LABELS = {"yes": "Yes", "no": "No", "not_sure": "Not sure"}
VALUES = list(LABELS)
SURGE = ["b2c", "product_led", "competitor_influx", "lining_up", "media_coverage", "gone_viral", "giant"]
AUDIT = ["load_test", "people_spof", "manual_process", "observability", "rollback"]
SHOWN = re.compile(r"\*(Yes|No|Not sure)\* · <@(\w+)>")
TARGET_SINGLE_P50 = 0.150
TARGET_BURST_P99 = 1.2


@dataclass
class Click:
    user: str
    question: str
    value: str
    sent: float = 0.0
    acked: float = 0.0


class Watcher:
    """Polls the thread's messages every few ms and keeps, per question, when each answer appeared."""

    def __init__(self, driver: Driver, questions: list[str], period: float = 0.005) -> None:
        self.driver, self.period = driver, period
        self.ts = {q: driver.message_of(q)["ts"] for q in questions}
        self.timeline: dict[str, list[tuple[float, tuple[str, str] | None]]] = {q: [] for q in questions}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def shown(self) -> dict[str, tuple[str, str] | None]:
        found: dict[str, tuple[str, str] | None] = {}
        messages = {ts: self.driver.fake.message(self.driver.channel, ts) for ts in set(self.ts.values())}
        for question, ts in self.ts.items():
            found[question] = None
            for block in (messages[ts] or {}).get("blocks") or []:
                if block.get("block_id") == f"q:{question}":
                    match = SHOWN.search(str(block["text"]["text"]))
                    if match:
                        found[question] = (match.group(2), match.group(1))
        return found

    def _run(self) -> None:
        while not self._stop.is_set():
            now = time.perf_counter()
            for question, answer in self.shown().items():
                line = self.timeline[question]
                if not line or line[-1][1] != answer:
                    line.append((now, answer))
            time.sleep(self.period)

    def __enter__(self) -> Watcher:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def visible_at(self, click: Click, later: list[Click]) -> float | None:
        """When `click`'s answer, or a later click's on its question, first showed (None: never)."""
        wanted = {(c.user, LABELS[c.value]) for c in [click, *later] if c.question == click.question}
        line = self.timeline[click.question]
        before = [answer for at, answer in line if at < click.sent]
        if before and before[-1] == (click.user, LABELS[click.value]):
            return click.sent  # it already showed this answer: the click changes nothing
        for at, answer in line:
            if at >= click.sent and answer in wanted:
                return at
        return None


def click(driver: Driver, c: Click) -> None:
    c.sent = time.perf_counter()
    driver.click(c.user, c.question, c.value)
    c.acked = time.perf_counter()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def latencies(watcher: Watcher, clicks: list[Click], settled: float) -> tuple[list[float], int]:
    """Seconds from each click to its visible result; a click never shown counts until the settle."""
    out, never = [], 0
    ordered = sorted(clicks, key=lambda c: c.sent)
    for i, c in enumerate(ordered):
        at = watcher.visible_at(c, ordered[i + 1 :])
        if at is None:
            never += 1
            at = settled
        out.append(at - c.sent)
    return out, never


def wait_answers_shown(driver: Driver, watcher: Watcher, seeded_team: str, timeout: float) -> float:
    def matches() -> bool:
        stored = {a.question_id: a for a in driver.bot.db(repo.load, seeded_team, 1).answers}
        shown = watcher.shown()
        return all(
            shown[q] == ((stored[q].answered_by, LABELS[stored[q].value]) if q in stored else None)
            for q in watcher.ts
        )

    driver.fake.wait_for(matches, timeout=timeout, message="the thread shows every stored answer")
    return time.perf_counter()


def report(label: str, values: list[float], never: int, target: tuple[str, float]) -> None:
    ms = [v * 1000 for v in values]
    p50, p99 = percentile(ms, 0.5), percentile(ms, 0.99)
    print(
        f"{label:<26} n={len(ms):3d}  p50 {p50:7.1f}  p99 {p99:7.1f}  max {max(ms):7.1f}  "
        f"mean {statistics.fmean(ms):7.1f}  never shown {never}"
    )
    which, limit = target
    figure = p50 if which == "p50" else p99
    print(f"{'':<26} {which} against the {limit * 1000:.0f} ms target: {figure / (limit * 1000):.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--singles", type=int, default=20)
    parser.add_argument(
        "--pause", type=float, default=0.3, help="seconds between one click shown and the next"
    )
    parser.add_argument("--burst", type=int, default=40)
    parser.add_argument("--window", type=float, default=2.0)
    parser.add_argument("--rest", type=float, default=25.0, help="seconds for the budget to refill")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--verbose", action="store_true", help="show the slowest burst clicks")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    began = time.monotonic()

    with FakeSlack() as fake, tempfile.TemporaryDirectory() as tmp:
        fake.set_update_limit(UPDATE_LIMIT)  # Slack's: a burst of 20, then 50 a minute per workspace
        seeded = seed_workspace(fake)
        people = [seeded.lead, seeded.lead2, seeded.lead3, seeded.manager, seeded.member]
        settings = bot_settings(fake, seeded, f"sqlite:///{Path(tmp) / 'bench.db'}", log_level="WARNING")
        with BotServer(settings) as bot:
            fake.configure_app(request_url=bot.events_url, signing_secret=SIGNING_SECRET)
            driver = Driver(fake, seeded, bot, fake.actor())
            driver.start(seeded.lead)
            time.sleep(2.0)  # the start's own drawing is behind us
            questions = SURGE + AUDIT
            with Watcher(driver, questions) as watcher:
                singles: list[Click] = []
                for i in range(args.singles):
                    question = questions[i % len(questions)]
                    previous = watcher.shown()[question]
                    value = next(v for v in VALUES if (people[i % 5], LABELS[v]) != previous)
                    c = Click(people[i % 5], question, value)
                    click(driver, c)
                    singles.append(c)
                    fake.wait_for(
                        lambda c=c: watcher.shown()[c.question] == (c.user, LABELS[c.value]),
                        timeout=10,
                        message="a single click shown",
                    )
                    time.sleep(args.pause)
                single_settled = wait_answers_shown(driver, watcher, seeded.team_id, 10)
                single_lat, single_never = latencies(watcher, singles, single_settled)

                time.sleep(args.rest)
                burst_start_calls = len(fake.calls())
                burst_hooks_before = len(fake.response_url_posts())
                plan = sorted(
                    (
                        rng.uniform(0, args.window),
                        Click(rng.choice(people), rng.choice(questions), rng.choice(VALUES)),
                    )
                    for _ in range(args.burst)
                )
                by_person: dict[str, list[tuple[float, Click]]] = {}
                for at, c in plan:
                    by_person.setdefault(c.user, []).append((at, c))
                zero = time.perf_counter() + 0.05

                def person(schedule: list[tuple[float, Click]]) -> None:
                    for at, c in schedule:
                        delay = zero + at - time.perf_counter()
                        if delay > 0:
                            time.sleep(delay)
                        click(driver, c)

                threads = [threading.Thread(target=person, args=(s,)) for s in by_person.values()]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                spread = max(c.sent for _, c in plan) - min(c.sent for _, c in plan)
                burst_settled = wait_answers_shown(driver, watcher, seeded.team_id, 30)
                burst_lat, burst_never = latencies(watcher, [c for _, c in plan], burst_settled)
                if args.verbose:
                    t0 = min(c.sent for _, c in plan)
                    ordered = sorted((c for _, c in plan), key=lambda c: c.sent)
                    for lat, c in sorted(zip(burst_lat, ordered, strict=True), key=lambda x: -x[0])[:6]:
                        line = [(round(at - t0, 3), a) for at, a in watcher.timeline[c.question] if at >= t0]
                        print(f"{lat:.3f}s {c.question} {c.user} {c.value} sent {c.sent - t0:.3f}: {line}")
                time.sleep(1.5)  # any trailing update lands before counting
                final_ok = True
                try:
                    wait_answers_shown(driver, watcher, seeded.team_id, 1)
                except AssertionError:
                    final_ok = False
            calls = fake.calls()
            hooks = fake.response_url_posts()
            errors = [e for p in people for e in fake.ephemerals(p)]

    updates = [c for c in calls if c.method == "chat.update"]
    refused = [c for c in updates if c.error == "ratelimited"]
    burst_updates = [c for c in calls[burst_start_calls:] if c.method == "chat.update"]
    window_max = max((sum(1 for d in updates if 0 <= d.at - u.at < 60) for u in updates), default=0)
    print(
        f"checklist clicks over signed HTTP; Slack fake's chat.update budget {UPDATE_LIMIT.burst} at once, "
        f"then {UPDATE_LIMIT.per_minute:.0f}/min per workspace (ms)"
    )
    report(f"single clicks (pause {args.pause:.1f}s)", single_lat, single_never, ("p50", TARGET_SINGLE_P50))
    report(
        f"burst: {args.burst} in {spread:.2f}s, 5 people", burst_lat, burst_never, ("p99", TARGET_BURST_P99)
    )
    ack = [(c.acked - c.sent) * 1000 for _, c in plan]
    print(f"{'burst acks':<26} p50 {percentile(ack, 0.5):7.1f}  p99 {percentile(ack, 0.99):7.1f}")
    print(
        f"chat.update: {len(updates)} in all, {len(burst_updates)} for the burst, most in any 60 s "
        f"{window_max} (budget {UPDATE_LIMIT.burst}+{UPDATE_LIMIT.per_minute:.0f}/min), "
        f"429 ratelimited {len(refused)}"
    )
    uses = Counter(p.hook_id for p in hooks)
    print(
        f"response_url: {len(hooks)} posts ({len(hooks) - burst_hooks_before} in the burst), "
        f"most on one url {max(uses.values(), default=0)} (limit 5), refused {sum(1 for p in hooks if not p.ok)}"
    )
    print(
        f"final state shown to everyone: {'yes' if final_ok else 'NO'}; "
        f"ephemerals to the clickers {len(errors)}; run took {time.monotonic() - began:.0f}s"
    )


if __name__ == "__main__":
    main()
