"""`scalebot`: serve, scheduler, jobs, migrate, manifest, config check."""

from __future__ import annotations

import argparse
import asyncio
import errno
import ipaddress
import json
import logging
import signal
import socket
import sys
from collections.abc import Sequence
from datetime import UTC

from pydantic import ValidationError

from bot.configbase import redact
from bot.logs import configure_logging
from bot.process import tune_gc
from bot.settings import Mode, Settings, SettingsError, load_settings
from bot.words import plural
from bot.yamlfile import ConfigFileError

log = logging.getLogger("scalebot")


class CliError(Exception):
    """A problem the operator can fix; printed without a traceback, exit status 2."""


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        raise CliError(redact(str(exc))) from None
    except ValidationError as exc:
        # Each variable and what is wrong with it, never its value (pydantic's `input_value` is left out).
        lines = [f"{'.'.join(str(p) for p in e['loc']).upper()}: {redact(e['msg'])}" for e in exc.errors()]
        raise CliError("invalid environment:\n  " + "\n  ".join(lines)) from None


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _listen(host: str, port: int) -> socket.socket:
    """The listening socket, bound before anything starts, so a busy port is one sentence, not a traceback."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(
        socket.SOL_SOCKET, socket.SO_REUSEADDR, 1
    )  # as uvicorn does: a restart can rebind at once
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise CliError(
                f"port {port} on {host} is busy: another program (perhaps another scalebot) is listening "
                f"there. Stop it, or pick another port: ./scripts/run --port {port + 1} "
                f"(or scalebot serve --port {port + 1})."
            ) from None
        if exc.errno == errno.EACCES:
            raise CliError(
                f"not allowed to listen on port {port} on {host} (ports under 1024 need privileges). "
                f"Pick another port: ./scripts/run --port 3000."
            ) from None
        raise CliError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def cmd_serve(args: argparse.Namespace) -> int:
    tune_gc()
    import uvicorn

    from bot.app import create_app

    settings = _settings()
    configure_logging(settings.log_level, settings.log_format)
    if settings.mode is Mode.LOCAL and not _is_loopback(args.host) and not args.allow_remote:
        raise CliError(
            f"local mode listens on loopback only: anyone who can open the console can act as any user. "
            f"Use --host 127.0.0.1, or pass --allow-remote to serve {args.host} anyway."
        )
    listener = _listen(args.host, args.port)
    port = listener.getsockname()[1]  # the port asked for, or the one the system picked for --port 0
    app = create_app(settings, run_scheduler=not args.no_scheduler)
    url = f"http://{args.host}:{port}"
    if settings.mode is Mode.LOCAL:
        from bot.local import serve_at

        url = serve_at(app, args.host, port, allow_remote=args.allow_remote)
    log.info("scalebot starting", extra={"mode": settings.mode.value, "url": url})
    if settings.mode is Mode.LOCAL:
        banner = app.state.scalebot.extras.get("local_banner") or (
            f"Local mode (no Slack credentials). Health: {url}/healthz"
        )
        print(banner.format(url=url), flush=True)
    from bot.limits import GuardedHttpProtocol, accept_backlog

    log.info("connection limits", extra={"max_connections": GuardedHttpProtocol.cap})
    config = uvicorn.Config(
        app,
        host=args.host,
        port=port,
        log_config=None,
        access_log=True,
        lifespan="on",
        http=GuardedHttpProtocol,  # header deadline and connection cap (bot/limits.py)
        backlog=accept_backlog(),
    )
    uvicorn.Server(config).run(sockets=[listener])
    return 0


def cmd_scheduler(args: argparse.Namespace) -> int:
    tune_gc()
    settings = _settings()
    configure_logging(settings.log_level, settings.log_format)
    asyncio.run(_run_scheduler(settings))
    return 0


async def _run_scheduler(settings: Settings) -> None:
    from bot.runtime import build_runtime
    from bot.scheduler import Scheduler
    from storage import migrate

    rt = build_runtime(settings)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, migrate.upgrade, rt.db)
    rt.scheduler = await loop.run_in_executor(None, Scheduler, rt, loop)
    await loop.run_in_executor(None, rt.scheduler.start)
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print("scheduler running; Ctrl-C to stop", flush=True)
    await stop.wait()
    await loop.run_in_executor(None, rt.scheduler.shutdown)
    await rt.close()


def cmd_jobs(args: argparse.Namespace) -> int:
    tune_gc()
    settings = _settings()
    configure_logging("WARNING", settings.log_format)
    return asyncio.run(_jobs(settings, args.run))


async def _jobs(settings: Settings, run: str | None) -> int:
    from bot.runtime import build_runtime
    from bot.scheduler import Scheduler
    from storage import migrate

    rt = build_runtime(settings)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, migrate.upgrade, rt.db)
    rt.scheduler = await loop.run_in_executor(None, Scheduler, rt, loop)
    try:
        if run:
            outcome = await rt.scheduler.run_now(run)
            print(f"{run}: {outcome}")
            return 0 if outcome in ("done", "skipped") else 1
        jobs = await loop.run_in_executor(None, rt.scheduler.jobs)
        if not jobs:
            print("no scheduled jobs")
            return 0
        width = max(len(j.id) for j in jobs)
        print(f"{'JOB':<{width}}  {'NEXT RUN (UTC)':<20}  TRIGGER")
        for job in sorted(jobs, key=lambda j: (j.next_run is None, j.next_run or 0, j.id)):
            nxt = job.next_run.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") if job.next_run else "paused"
            print(f"{job.id:<{width}}  {nxt:<20}  {job.trigger}")
        return 0
    except KeyError:
        raise CliError(f"no job {run!r}; `scalebot jobs` lists them") from None
    finally:
        await rt.close()


def cmd_migrate(args: argparse.Namespace) -> int:
    from storage import migrate
    from storage.db import Database

    settings = _settings()
    configure_logging(settings.log_level, settings.log_format)
    db = Database(settings.database_url)
    try:
        applied = migrate.upgrade(db)
    finally:
        db.close()
    print(f"applied: {', '.join(applied)}" if applied else "already at head")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    """Everything stored about one workspace, as JSON, without its tokens."""
    from storage import migrate
    from storage.db import Database
    from storage.workspace_data import export_workspace

    settings = _settings()
    configure_logging("WARNING", settings.log_format)
    db = Database(settings.database_url)
    try:
        migrate.upgrade(db)
        tables = db.call(export_workspace, args.workspace)
    finally:
        db.close()
    if not any(tables.values()):
        raise CliError(f"nothing is stored for workspace {args.workspace}")
    document = {"workspace_id": args.workspace, "tables": tables}
    text = json.dumps(document, indent=2, ensure_ascii=False, default=str)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as out:
            out.write(text + "\n")
        print(f"wrote {sum(len(rows) for rows in tables.values())} rows to {args.output}", file=sys.stderr)
    else:
        print(text)
    return 0


def cmd_manifest(args: argparse.Namespace) -> int:
    from bot.manifest import render

    try:
        manifest = render(args.url, socket_mode=args.socket_mode)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    print(json.dumps(manifest, indent=2))
    return 0


def cmd_config_check(args: argparse.Namespace) -> int:
    from bot.config import load_and_check

    settings = _settings()
    config = load_and_check(settings.scalebot_config)
    where = (
        str(settings.scalebot_config)
        if settings.scalebot_config
        else "no config file (SCALEBOT_CONFIG unset)"
    )
    print(
        f"OK: mode {settings.mode.value}; {where}: {plural(len(config.teams), 'team')}, "
        f"{plural(len(config.sources), 'source')}, {plural(len(config.trackers), 'tracker')}"
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="scalebot", description="Are we ready for 10x? A Slack app.")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the web app (and the scheduler unless --no-scheduler)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=3000)
    serve.add_argument(
        "--no-scheduler", action="store_true", help="leave scheduled jobs to `scalebot scheduler`"
    )
    serve.add_argument(
        "--allow-remote", action="store_true", help="local mode: listen beyond loopback anyway"
    )
    serve.set_defaults(func=cmd_serve)

    sub.add_parser("scheduler", help="run only the scheduler").set_defaults(func=cmd_scheduler)

    jobs = sub.add_parser("jobs", help="list scheduled jobs and their next run")
    jobs.add_argument("--run", metavar="JOB_ID", help="run this job once, now")
    jobs.set_defaults(func=cmd_jobs)

    sub.add_parser("migrate", help="bring the database schema to the latest version").set_defaults(
        func=cmd_migrate
    )

    export = sub.add_parser("export", help="write a workspace's stored data as JSON (never its tokens)")
    export.add_argument("--workspace", required=True, metavar="T…", help="the Slack workspace id")
    export.add_argument("--output", metavar="FILE", help="write to FILE instead of standard output")
    export.set_defaults(func=cmd_export)

    manifest = sub.add_parser("manifest", help="print the Slack app manifest for a deployment URL")
    manifest.add_argument(
        "--url", required=True, help="the public base URL, e.g. https://scalebot.example.org"
    )
    manifest.add_argument("--socket-mode", action="store_true")
    manifest.set_defaults(func=cmd_manifest)

    config = sub.add_parser("config", help="configuration tools")
    config_sub = config.add_subparsers(dest="config_command", required=True)
    config_sub.add_parser("check", help="validate the environment and SCALEBOT_CONFIG").set_defaults(
        func=cmd_config_check
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except (CliError, ConfigFileError) as exc:
        print(f"scalebot: {redact(str(exc))}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
