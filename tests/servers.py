"""Real Redis, PostgreSQL, Prometheus and Alertmanager servers for tests.

Every server is started from the Debian binaries on a free 127.0.0.1 port, in a temporary
directory of its own, and never listens anywhere else. Each class can be used directly (also as a
context manager) or through the pytest fixtures in ``tests/fixtures_servers.py``.

- :class:`RedisServer` — ``redis-server`` without persistence; ``stop()``/``start()`` keep the port.
- :class:`PostgresServer` — ``initdb`` + ``postgres`` with fast, unsafe settings; a fresh database
  per :meth:`PostgresServer.create_database` call.
- :class:`PrometheusServer` — a TSDB backfilled from OpenMetrics text with ``promtool``, then served
  by ``prometheus`` with no scrape targets; :class:`OpenMetricsWriter` generates that text.
  :meth:`PrometheusServer.alerting` instead gives it a scrape target, a rule file and an Alertmanager.
- :class:`AlertmanagerServer` — Debian's ``prometheus-alertmanager`` (no clustering) whose one receiver
  is a webhook; :class:`MetricsExporter` serves fixed metrics for Prometheus to scrape.

A missing binary raises :class:`BinaryNotFound` whose message says what to install.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import json
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Self

import httpx

HOST = "127.0.0.1"

__all__ = [
    "HOST",
    "AlertmanagerServer",
    "BinaryNotFound",
    "HistogramStep",
    "MetricsExporter",
    "OpenMetricsWriter",
    "PostgresServer",
    "PrometheusServer",
    "RedisServer",
    "ServerError",
    "find_binary",
    "find_postgres_bindir",
    "free_port",
    "prometheus_bin",
    "promtool_bin",
    "redis_server_bin",
]


class ServerError(RuntimeError):
    """A server did not start or stop as expected (the message carries the end of its log)."""


class BinaryNotFound(RuntimeError):
    """A binary a server needs is not installed; the message says how to install it."""


# --------------------------------------------------------------------------------------------------
# helpers


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def find_binary(name: str, package: str, extra_dirs: Iterable[str] = ("/usr/bin", "/usr/sbin")) -> str:
    """Absolute path of ``name`` on PATH (or in ``extra_dirs``), else :class:`BinaryNotFound`."""
    found = shutil.which(name)
    if found:
        return found
    for d in extra_dirs:
        candidate = os.path.join(d, name)
        if os.access(candidate, os.X_OK):
            return candidate
    raise BinaryNotFound(f"{name} not found: apt-get install {package}")


def redis_server_bin() -> str:
    return find_binary("redis-server", "redis-server")


def prometheus_bin() -> str:
    return find_binary("prometheus", "prometheus")


def promtool_bin() -> str:
    return find_binary("promtool", "prometheus")


def alertmanager_bin() -> str:
    return find_binary("prometheus-alertmanager", "prometheus-alertmanager")


def find_postgres_bindir(preferred: str = "15") -> str:
    """The ``/usr/lib/postgresql/<version>/bin`` holding ``initdb`` and ``postgres``.

    Prefers ``preferred`` (the version production runs), else the newest installed one.
    ``SCALEBOT_TEST_PG_BINDIR`` overrides the search.
    """
    override = os.environ.get("SCALEBOT_TEST_PG_BINDIR")
    candidates = [override] if override else []
    found = glob.glob("/usr/lib/postgresql/*/bin")

    def version_key(path: str) -> tuple[int, ...]:
        version = Path(path).parent.name
        return tuple(int(p) for p in re.findall(r"\d+", version)) or (0,)

    found.sort(key=version_key, reverse=True)
    candidates += [d for d in found if Path(d).parent.name == preferred]
    candidates += found
    for d in candidates:
        if all(os.access(os.path.join(d, b), os.X_OK) for b in ("initdb", "postgres")):
            return d
    raise BinaryNotFound(
        "PostgreSQL server binaries (initdb, postgres) not found under /usr/lib/postgresql/*/bin: "
        "apt-get install postgresql"
    )


def _tail(path: Path, lines: int = 30) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


def _wait_until(
    check: Callable[[], bool], timeout: float, proc: subprocess.Popen[bytes] | None, what: str, log: Path
) -> None:
    deadline = time.monotonic() + timeout
    delay = 0.01
    while True:
        # a server that died (port taken…) must not pass for ready because something else answers
        if proc is not None and proc.poll() is not None:
            raise ServerError(f"{what} exited with code {proc.returncode} while starting:\n{_tail(log)}")
        if check():
            return
        if time.monotonic() > deadline:
            raise ServerError(f"{what} not ready after {timeout:.0f}s:\n{_tail(log)}")
        time.sleep(delay)
        delay = min(delay * 1.5, 0.2)


def _stop_process(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM, timeout: float = 15.0) -> None:
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        proc.send_signal(sig)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=0.2):
            return True
    except OSError:
        return False


def _as_seconds(t: float | datetime) -> float:
    if isinstance(t, datetime):
        if t.tzinfo is None:
            raise ValueError("use an aware datetime (tzinfo=UTC) for test times")
        return t.timestamp()
    return float(t)


# Servers still running at interpreter exit are stopped (a crashed test run must not leave
# daemons holding ports and temp dirs).
_live: set[_Server] = set()


@atexit.register
def _stop_all() -> None:
    for server in list(_live):
        with contextlib.suppress(Exception):
            server.close()


class _Server:
    """Common life cycle: a temp dir, one child process, a log file, ``close()`` removes all."""

    name = "server"

    def __init__(self, port: int | None, base_dir: str | os.PathLike[str] | None) -> None:
        self.port = port or free_port()
        self._auto_port = port is None  # may move to another port if the first start loses a race
        self._started_once = False
        self.host = HOST
        self.dir = Path(tempfile.mkdtemp(prefix=f"scalebot-{self.name}-", dir=base_dir))
        self.log_path = self.dir / f"{self.name}.log"
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._closed = False
        self.start_seconds: float | None = None  # last start() until ready (no initdb/backfill)
        _live.add(self)

    # subclass API -------------------------------------------------------------------------------
    def _command(self) -> list[str]:
        raise NotImplementedError

    def _ready(self) -> bool:
        raise NotImplementedError

    def _prepare(self) -> None:
        """Run once before the first start (initdb, building blocks, writing config…)."""

    def _signal_stop(self, proc: subprocess.Popen[bytes]) -> None:
        _stop_process(proc)

    # public API ---------------------------------------------------------------------------------
    startup_timeout = 30.0

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> Self:
        """Start (again) on the same port; waits until the server answers. No-op if running."""
        if self._closed:
            raise ServerError(f"{self.name} was closed")
        if self.running:
            return self
        self._prepare()
        attempts = 3 if self._auto_port and not self._started_once else 1
        for attempt in range(attempts):
            began = time.monotonic()
            self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
            self._proc = subprocess.Popen(
                self._command(),
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                cwd=self.dir,
            )
            try:
                _wait_until(self._ready, self.startup_timeout, self._proc, self.name, self.log_path)
            except ServerError as exc:
                self.stop()
                # another process took the free port between free_port() and the bind: move on
                if attempt + 1 < attempts and "in use" in str(exc).lower():
                    self.port = free_port()
                    continue
                raise
            except BaseException:
                self.stop()
                raise
            break
        self.start_seconds = time.monotonic() - began
        self._started_once = True
        return self

    def stop(self) -> None:
        """Stop the server (data stays, so ``start()`` brings it back). No-op if stopped."""
        proc, self._proc = self._proc, None
        if proc is not None:
            self._signal_stop(proc)
        if self._log is not None:
            self._log.close()
            self._log = None

    def close(self) -> None:
        """Stop and delete the temp dir."""
        if self._closed:
            return
        self.stop()
        self._closed = True
        _live.discard(self)
        shutil.rmtree(self.dir, ignore_errors=True)

    def log(self) -> str:
        return _tail(self.log_path, 200)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<{type(self).__name__} {self.host}:{self.port} {state} {self.dir}>"


# --------------------------------------------------------------------------------------------------
# Redis


class RedisServer(_Server):
    """``redis-server`` on 127.0.0.1 with no persistence.

    >>> with RedisServer() as r:
    ...     r.url  # 'redis://127.0.0.1:PORT/0'
    """

    name = "redis"
    startup_timeout = 15.0

    def __init__(
        self, port: int | None = None, *, binary: str | None = None, base_dir: str | None = None
    ) -> None:
        self.binary = binary or redis_server_bin()
        super().__init__(port, base_dir)

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"

    def _command(self) -> list[str]:
        return [
            self.binary,
            "--port", str(self.port),
            "--bind", self.host,
            "--dir", str(self.dir),
            "--save", "",
            "--appendonly", "no",
            "--daemonize", "no",
            "--protected-mode", "yes",
            "--logfile", "",
            "--loglevel", "warning",
        ]  # fmt: skip

    def command(self, *args: str, timeout: float = 2.0) -> bytes:
        """Send one command over raw RESP; the reply's status line (``b"+PONG"``, ``b"+OK"``,
        ``b"-ERR …"``) or, for a bulk string, its content."""
        payload = f"*{len(args)}\r\n".encode() + b"".join(
            f"${len(a.encode())}\r\n".encode() + a.encode() + b"\r\n" for a in args
        )
        with socket.create_connection((self.host, self.port), timeout=timeout) as s:
            s.sendall(payload)
            data = b""
            while True:
                head, sep, rest = data.partition(b"\r\n")
                if sep and not head.startswith(b"$"):
                    return head
                if sep and (int(head[1:]) < 0 or len(rest) >= int(head[1:]) + 2):
                    return rest[: max(int(head[1:]), 0)]
                chunk = s.recv(65536)
                if not chunk:
                    raise ConnectionError(f"redis closed the connection after {data!r}")
                data += chunk

    def ping(self) -> bool:
        try:
            return self.command("PING", timeout=0.5) == b"+PONG"
        except OSError:
            return False

    def _ready(self) -> bool:
        # PING alone could be answered by another server on the port: check it is our process
        if self._proc is None:
            return False
        try:
            info = self.command("INFO", "server", timeout=0.5)
        except OSError:
            return False
        return f"process_id:{self._proc.pid}\r\n".encode() in info

    def flush(self) -> None:
        """FLUSHALL: empty every database."""
        reply = self.command("FLUSHALL")
        if reply != b"+OK":
            raise ServerError(f"FLUSHALL answered {reply!r}")


# --------------------------------------------------------------------------------------------------
# PostgreSQL

_DB_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def _dir_traversable_by_others(path: Path) -> bool:
    for p in [path, *path.parents]:
        try:
            if not p.stat().st_mode & 0o001:
                return False
        except OSError:
            return False
    return True


class PostgresServer(_Server):
    """A throw-away PostgreSQL cluster (``initdb`` on first start), trust auth on 127.0.0.1.

    As root, ``initdb`` and ``postgres`` refuse to run, so they run as the ``postgres`` system user
    through ``runuser`` in a temp dir that user owns. The superuser is always ``postgres``.

    >>> with PostgresServer() as pg:
    ...     url = pg.create_database()  # 'postgresql+psycopg://postgres@127.0.0.1:PORT/test_…'
    """

    name = "postgres"
    startup_timeout = 60.0
    superuser = "postgres"
    settings: Mapping[str, str] = {
        "listen_addresses": HOST,
        "fsync": "off",
        "synchronous_commit": "off",
        "full_page_writes": "off",
        "max_connections": "300",
        "shared_buffers": "64MB",
        "max_wal_size": "1GB",
        "checkpoint_timeout": "1h",
        "autovacuum": "off",
        "logging_collector": "off",
        "log_min_messages": "warning",
        "log_min_error_statement": "panic",
        "timezone": "UTC",
    }

    def __init__(
        self,
        port: int | None = None,
        *,
        bindir: str | None = None,
        base_dir: str | None = None,
        settings: Mapping[str, str] | None = None,
    ) -> None:
        self.bindir = bindir or find_postgres_bindir()
        self.as_root = os.geteuid() == 0
        if self.as_root:
            base_dir = base_dir or tempfile.gettempdir()
            if not _dir_traversable_by_others(Path(base_dir)):
                base_dir = "/tmp"  # the postgres user must be able to reach its directory
        super().__init__(port, base_dir)
        self.data_dir = self.dir / "data"
        self.settings = {**self.settings, **(settings or {})}
        self.init_seconds: float | None = None  # duration of initdb, for timing reports
        if self.as_root:
            shutil.chown(self.dir, user="postgres", group="postgres")
            self.dir.chmod(0o700)

    @property
    def version(self) -> int:
        """Major version of the server binaries (from the ``/usr/lib/postgresql/<v>/bin`` path)."""
        try:
            return int(Path(self.bindir).parent.name.split(".")[0])
        except ValueError:
            return 0

    def _as_pg_user(self, argv: list[str]) -> list[str]:
        return ["runuser", "-u", "postgres", "--", *argv] if self.as_root else argv

    def _prepare(self) -> None:
        if (self.data_dir / "PG_VERSION").exists():
            return
        began = time.monotonic()
        argv = [
            os.path.join(self.bindir, "initdb"),
            "-D", str(self.data_dir),
            "-U", self.superuser,
            "-A", "trust",
            "-E", "UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
            "--no-instructions",
        ]  # fmt: skip
        res = subprocess.run(
            self._as_pg_user(argv), capture_output=True, cwd=self.dir, stdin=subprocess.DEVNULL, check=False
        )
        if res.returncode != 0:
            raise ServerError(
                f"initdb failed ({res.returncode}):\n{res.stdout.decode(errors='replace')}"
                f"{res.stderr.decode(errors='replace')}"
            )
        self.init_seconds = time.monotonic() - began

    def _command(self) -> list[str]:
        argv = [
            os.path.join(self.bindir, "postgres"),
            "-D", str(self.data_dir),
            "-p", str(self.port),
            "-k", str(self.dir),
        ]  # fmt: skip
        for key, value in self.settings.items():
            argv += ["-c", f"{key}={value}"]
        return self._as_pg_user(argv)

    def _ready(self) -> bool:
        # postmaster.pid's 8th line reads "ready" once connections are accepted
        try:
            lines = (self.data_dir / "postmaster.pid").read_text().splitlines()
        except OSError:
            return False
        return len(lines) >= 8 and lines[7].strip() == "ready" and _port_open(self.port)

    def _postmaster_pid(self) -> int | None:
        try:
            return int((self.data_dir / "postmaster.pid").read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            return None

    def _signal_stop(self, proc: subprocess.Popen[bytes]) -> None:
        # runuser does not pass SIGINT on to its child, so signal the postmaster itself:
        # SIGINT = "fast" shutdown (disconnects clients, no waiting for them to leave).
        pid = self._postmaster_pid()
        if pid is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGINT)
            try:
                proc.wait(15)
                return
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGQUIT)  # immediate shutdown
        _stop_process(proc, signal.SIGTERM)

    # databases ----------------------------------------------------------------------------------
    def dsn(self, dbname: str = "postgres") -> str:
        """libpq connection string (for ``psycopg.connect``)."""
        return f"host={self.host} port={self.port} user={self.superuser} dbname={dbname}"

    def url_for(self, dbname: str = "postgres") -> str:
        """SQLAlchemy URL for ``dbname``."""
        return f"postgresql+psycopg://{self.superuser}@{self.host}:{self.port}/{dbname}"

    def _admin(self, statement: str, name: str) -> None:
        import psycopg
        from psycopg import sql

        if not _DB_NAME.match(name):
            raise ValueError(f"database name must match {_DB_NAME.pattern}: {name!r}")
        with psycopg.connect(self.dsn(), autocommit=True, connect_timeout=10) as conn:
            conn.execute(sql.SQL(statement).format(sql.Identifier(name)))

    def create_database(self, name: str | None = None) -> str:
        """Create a fresh empty database (unique name unless given) and return its SQLAlchemy URL."""
        name = name or f"test_{uuid.uuid4().hex[:16]}"
        # FILE_COPY (PostgreSQL ≥ 15) is faster than the WAL_LOG default for tiny databases
        strategy = " STRATEGY FILE_COPY" if self.version >= 15 else ""
        self._admin("CREATE DATABASE {} TEMPLATE template0" + strategy, name)
        return self.url_for(name)

    def drop_database(self, name_or_url: str) -> None:
        """Drop a database by name or by the URL ``create_database`` returned (kicks out sessions)."""
        name = name_or_url.rsplit("/", 1)[-1].split("?", 1)[0]
        self._admin("DROP DATABASE IF EXISTS {} WITH (FORCE)", name)


# --------------------------------------------------------------------------------------------------
# Prometheus


class PrometheusServer(_Server):
    """Prometheus serving a TSDB backfilled from OpenMetrics text, with no scrape targets.

    >>> w = OpenMetricsWriter(end=T, duration=8 * 86400, step=60).gauge("up", {"job": "x"}, lambda t: 1)
    >>> text = w.text()
    >>> with PrometheusServer(text) as prom:
    ...     prom.query("up", T)["data"]["result"]
    """

    name = "prometheus"
    startup_timeout = 60.0

    def __init__(
        self,
        openmetrics: str | None = None,
        *,
        port: int | None = None,
        base_dir: str | None = None,
        retention: str = "100y",
        extra_args: Sequence[str] = (),
    ) -> None:
        self.binary = prometheus_bin()
        self.promtool = promtool_bin()
        super().__init__(port, base_dir)
        self.data_dir = self.dir / "data"
        self.data_dir.mkdir()
        self.config_path = self.dir / "prometheus.yml"
        # No scrape targets: the backfilled blocks are the only data, so query results are exact.
        self.config_path.write_text(
            "global:\n  scrape_interval: 1h\n  evaluation_interval: 1h\nscrape_configs: []\n"
        )
        self.retention = retention
        self.extra_args = list(extra_args)
        self.build_seconds: float | None = None  # duration of the last backfill, for timing reports
        self._client = httpx.Client(timeout=30.0, trust_env=False)
        if openmetrics is not None:
            self.backfill(openmetrics)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def backfill(self, openmetrics: str | OpenMetricsWriter) -> None:
        """Turn OpenMetrics text into TSDB blocks in the data dir (before ``start()``)."""
        if self.running:
            raise ServerError("backfill before start() (or stop() first)")
        text = openmetrics.text() if isinstance(openmetrics, OpenMetricsWriter) else openmetrics
        if not text.rstrip().endswith("# EOF"):
            text = text.rstrip("\n") + "\n# EOF\n"
        if not text.endswith("\n"):
            text += "\n"
        began = time.monotonic()
        source = self.dir / f"backfill-{uuid.uuid4().hex[:8]}.om"
        source.write_text(text)
        # promtool cuts 2h blocks by default: one pass over the whole input per block (8 days →
        # ~100 passes, seconds). The hidden --max-block-duration makes a few big blocks instead.
        base = [self.promtool, "tsdb", "create-blocks-from", "openmetrics", "-q"]
        res = subprocess.run(
            [*base, "--max-block-duration=8760h", str(source), str(self.data_dir)],
            capture_output=True,
            stdin=subprocess.DEVNULL,
            check=False,
        )
        if res.returncode != 0 and b"max-block-duration" in res.stderr:  # older promtool
            res = subprocess.run(
                [*base, str(source), str(self.data_dir)],
                capture_output=True,
                stdin=subprocess.DEVNULL,
                check=False,
            )
        source.unlink()
        if res.returncode != 0:
            raise ServerError(
                f"promtool tsdb create-blocks-from openmetrics failed ({res.returncode}):\n"
                f"{res.stdout.decode(errors='replace')}{res.stderr.decode(errors='replace')}"
            )
        self.build_seconds = time.monotonic() - began

    def alerting(self, rules_yaml: str, alertmanager: str, scrape_target: str, interval: str = "1s") -> Self:
        """Scrape `scrape_target` (host:port) and evaluate `rules_yaml` every `interval`, sending what
        fires to the Alertmanager at `alertmanager` (host:port). Call before ``start()``."""
        if self.running:
            raise ServerError("configure alerting before start()")
        rules = self.dir / "rules.yml"
        rules.write_text(rules_yaml)
        self.config_path.write_text(
            f"global:\n  scrape_interval: {interval}\n  evaluation_interval: {interval}\n"
            f"rule_files: [{json.dumps(str(rules))}]\n"
            "alerting:\n  alertmanagers:\n    - static_configs:\n"
            f"        - targets: [{json.dumps(alertmanager)}]\n"
            "scrape_configs:\n  - job_name: exporter\n    static_configs:\n"
            f"      - targets: [{json.dumps(scrape_target)}]\n"
        )
        return self

    def alerts(self) -> list[dict[str, Any]]:
        """``/api/v1/alerts``: the alerts Prometheus has pending or firing."""
        body: dict[str, Any] = self._client.get(f"{self.url}/api/v1/alerts").json()
        return list(body["data"]["alerts"])

    def _command(self) -> list[str]:
        return [
            self.binary,
            f"--config.file={self.config_path}",
            f"--storage.tsdb.path={self.data_dir}",
            f"--storage.tsdb.retention.time={self.retention}",
            f"--web.listen-address={self.host}:{self.port}",
            "--log.level=warn",
            *self.extra_args,
        ]

    def _ready(self) -> bool:
        try:
            if self._client.get(f"{self.url}/-/ready", timeout=1.0).status_code != 200:
                return False
            # another Prometheus could answer on this port: check it serves our data dir
            flags = self._client.get(f"{self.url}/api/v1/status/flags", timeout=1.0).json()
        except (httpx.HTTPError, ValueError):
            return False
        return bool(flags.get("data", {}).get("storage.tsdb.path") == str(self.data_dir))

    def _signal_stop(self, proc: subprocess.Popen[bytes]) -> None:
        _stop_process(proc, signal.SIGTERM)

    def close(self) -> None:
        super().close()
        self._client.close()

    # queries ------------------------------------------------------------------------------------
    def query(self, promql: str, time: float | datetime) -> dict[str, Any]:
        """``/api/v1/query`` at ``time``; the whole JSON answer (``status``, ``data``…)."""
        resp = self._client.get(
            f"{self.url}/api/v1/query", params={"query": promql, "time": f"{_as_seconds(time):.3f}"}
        )
        body: dict[str, Any] = resp.json()
        return body

    def query_value(self, promql: str, time: float | datetime) -> float | None:
        """The single value of an instant query (a scalar or a one-series vector); None if empty."""
        body = self.query(promql, time)
        if body.get("status") != "success":
            raise ServerError(f"query {promql!r} failed: {body}")
        data = body["data"]
        if data["resultType"] == "scalar":
            return float(data["result"][1])
        result = data["result"]
        if not result:
            return None
        if len(result) > 1:
            raise ServerError(f"query {promql!r} returned {len(result)} series, expected one")
        return float(result[0]["value"][1])

    def query_range(
        self, promql: str, start: float | datetime, end: float | datetime, step: float
    ) -> dict[str, Any]:
        """``/api/v1/query_range``; the whole JSON answer."""
        resp = self._client.get(
            f"{self.url}/api/v1/query_range",
            params={
                "query": promql,
                "start": f"{_as_seconds(start):.3f}",
                "end": f"{_as_seconds(end):.3f}",
                "step": f"{step}",
            },
        )
        body: dict[str, Any] = resp.json()
        return body


# --------------------------------------------------------------------------------------------------
# Alertmanager


class AlertmanagerServer(_Server):
    """Debian's ``prometheus-alertmanager`` on 127.0.0.1, clustering off, whose only receiver posts
    to `webhook_url` with `token` as its bearer token. Groups are sent after `group_wait`.

    >>> with AlertmanagerServer("http://127.0.0.1:8000/alertmanager/webhook", "s3cret") as am:
    ...     am.address  # '127.0.0.1:PORT', for Prometheus's alerting config
    """

    name = "alertmanager"
    startup_timeout = 30.0

    def __init__(
        self,
        webhook_url: str,
        token: str,
        *,
        port: int | None = None,
        base_dir: str | None = None,
        group_wait: str = "1s",
        group_by: Sequence[str] = ("alertname", "team", "component"),
    ) -> None:
        self.binary = alertmanager_bin()
        self.webhook_url = webhook_url
        super().__init__(port, base_dir)
        self.config_path = self.dir / "alertmanager.yml"
        self.config_path.write_text(
            "route:\n"
            "  receiver: scalebot\n"
            f"  group_by: {json.dumps(list(group_by))}\n"
            f"  group_wait: {group_wait}\n"
            "  group_interval: 1s\n"
            "  repeat_interval: 1h\n"
            "receivers:\n"
            "  - name: scalebot\n"
            "    webhook_configs:\n"
            f"      - url: {json.dumps(webhook_url)}\n"
            "        send_resolved: true\n"
            "        http_config:\n"
            "          authorization:\n"
            "            type: Bearer\n"
            f"            credentials: {json.dumps(token)}\n"
        )
        self._client = httpx.Client(timeout=10.0, trust_env=False)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def _command(self) -> list[str]:
        return [
            self.binary,
            f"--config.file={self.config_path}",
            f"--storage.path={self.dir / 'data'}",
            f"--web.listen-address={self.host}:{self.port}",
            "--cluster.listen-address=",  # no gossip port: one instance, nothing else listening
            "--log.level=warn",
        ]

    def _ready(self) -> bool:
        try:
            if self._client.get(f"{self.url}/-/ready", timeout=1.0).status_code != 200:
                return False
            status = self._client.get(f"{self.url}/api/v2/status", timeout=1.0).json()
        except (httpx.HTTPError, ValueError):
            return False
        # another Alertmanager could answer on this port: check it runs our config
        return self.webhook_url in str((status.get("config") or {}).get("original", ""))

    def alerts(self) -> list[dict[str, Any]]:
        """``/api/v2/alerts``: what Alertmanager holds."""
        return list(self._client.get(f"{self.url}/api/v2/alerts").json())

    def close(self) -> None:
        super().close()
        self._client.close()


class MetricsExporter:
    """A tiny HTTP server answering ``GET /metrics`` with fixed exposition text, for Prometheus to scrape."""

    def __init__(self, text: str) -> None:
        import http.server
        import threading

        self.text = text
        exporter = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = exporter.text.encode()
                self.send_response(200 if self.path.startswith("/metrics") else 404)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer((HOST, 0), Handler)
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def address(self) -> str:
        return f"{HOST}:{self.port}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> MetricsExporter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# --------------------------------------------------------------------------------------------------
# OpenMetrics text for backfilling

Labels = Mapping[str, str]


@dataclass(frozen=True)
class HistogramStep:
    """Observations made during one step (the interval ending at the sample time).

    ``counts[i]`` is how many observations fell in ``(buckets[i-1], buckets[i]]``; the last entry
    (``len(buckets)``) counts those above the largest bucket. ``total`` is their sum.
    """

    counts: Sequence[float]
    total: float

    @classmethod
    def from_values(cls, buckets: Sequence[float], values: Iterable[float], weight: float = 1.0) -> Self:
        """Bin ``values`` (each counted ``weight`` times): an easy way to shape a distribution.

        ``HistogramStep.from_values(B, [0.05] * 94 + [0.15] * 6, weight=60)`` → 6 000 requests in
        the step with p95 in the bucket holding 0.15 s.
        """
        counts = [0.0] * (len(buckets) + 1)
        total = 0.0
        for v in values:
            i = next((k for k, b in enumerate(buckets) if v <= b), len(buckets))
            counts[i] += weight
            total += v * weight
        return cls(counts, total)


def _fmt_value(v: float) -> str:
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    if float(v).is_integer() and abs(v) < 1e15:
        return str(int(v))
    return repr(float(v))


def _fmt_ts(t: float) -> str:
    return str(int(t)) if float(t).is_integer() else f"{t:.3f}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _fmt_labels(labels: Labels, extra: tuple[str, str] | None = None) -> str:
    items = list(labels.items()) + ([extra] if extra else [])
    if not items:
        return ""
    return "{" + ",".join(f'{k}="{_escape(str(v))}"' for k, v in items) + "}"


_METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")


class OpenMetricsWriter:
    """Builds OpenMetrics text of synthetic series over ``[start, end]`` every ``step`` seconds.

    Times are Unix seconds (float) or aware datetimes; samples sit at ``start, start+step, … end``
    (``end`` included when it falls on the grid: pass ``end`` and ``duration`` to get that).
    A value function returning ``None`` leaves a gap at that time.

    >>> w = OpenMetricsWriter(end=T, duration=8 * 86400, step=60)
    >>> w.gauge("db_connections", {"team": "core"}, lambda t: 80 + 10 * math.sin(t / 3600))
    >>> w.counter("http_requests", {"team": "core", "code": "200"}, lambda t: 50 * (t - w.start))
    >>> w.counter_rate("http_requests", {"team": "core", "code": "500"}, lambda t: 0.2)
    >>> w.histogram("http_request_duration_seconds", {"team": "core"}, [0.05, 0.1, 0.25, 0.5, 1],
    ...             lambda t: HistogramStep.from_values([0.05, 0.1, 0.25, 0.5, 1], [0.03, 0.2], 60))
    >>> text = w.text()  # ends with "# EOF"
    """

    def __init__(
        self,
        *,
        end: float | datetime,
        step: float = 60.0,
        start: float | datetime | None = None,
        duration: float | None = None,
    ) -> None:
        if (start is None) == (duration is None):
            raise ValueError("give exactly one of start= or duration=")
        if step <= 0:
            raise ValueError("step must be positive")
        self.end = _as_seconds(end)
        self.start = _as_seconds(start) if start is not None else self.end - float(duration or 0)
        if self.start > self.end:
            raise ValueError("start is after end")
        self.step = float(step)
        # family name -> (type, [lines])
        self._families: dict[str, tuple[str, list[str]]] = {}

    def times(self) -> Iterator[float]:
        n = math.floor((self.end - self.start) / self.step + 1e-9)
        for i in range(n + 1):
            yield self.start + i * self.step

    def _family(self, name: str, kind: str) -> list[str]:
        if not _METRIC_NAME.match(name):
            raise ValueError(f"bad metric name {name!r}")
        existing, lines = self._families.setdefault(name, (kind, []))
        if existing != kind:
            raise ValueError(f"{name} already declared as {existing}")
        return lines

    def gauge(self, name: str, labels: Labels, fn: Callable[[float], float | None]) -> Self:
        """A gauge: ``fn(t)`` is its value at ``t``."""
        lines = self._family(name, "gauge")
        lbl = _fmt_labels(labels)
        for t in self.times():
            v = fn(t)
            if v is not None:
                lines.append(f"{name}{lbl} {_fmt_value(v)} {_fmt_ts(t)}")
        return self

    def counter(self, name: str, labels: Labels, fn: Callable[[float], float | None]) -> Self:
        """A counter ``name`` (sampled as ``name_total``): ``fn(t)`` is its cumulative total at ``t``.

        ``name`` may be given with or without the ``_total`` suffix; PromQL sees ``name_total``.
        """
        name = name.removesuffix("_total")
        lines = self._family(name, "counter")
        lbl = _fmt_labels(labels)
        for t in self.times():
            v = fn(t)
            if v is not None:
                lines.append(f"{name}_total{lbl} {_fmt_value(v)} {_fmt_ts(t)}")
        return self

    def counter_rate(self, name: str, labels: Labels, rate: Callable[[float], float]) -> Self:
        """A counter that grows by ``rate(t) * step`` in each step (``rate(name_total[5m]) ≈ rate``)."""
        total = 0.0
        values: dict[float, float] = {}
        for t in self.times():
            values[t] = total
            total += rate(t) * self.step
        return self.counter(name, labels, values.__getitem__)

    def histogram(
        self,
        name: str,
        labels: Labels,
        buckets: Sequence[float],
        fn: Callable[[float], HistogramStep | None],
    ) -> Self:
        """A classic histogram (``name_bucket{le=…}``, ``name_count``, ``name_sum``).

        ``fn(t)`` gives the observations made during the step ending at ``t`` (see
        :class:`HistogramStep`); the writer accumulates them into the cumulative series.
        ``None`` means no observations in that step.
        """
        bounds = [float(b) for b in buckets if not math.isinf(b)]
        if bounds != sorted(set(bounds)):
            raise ValueError("buckets must be strictly increasing")
        lines = self._family(name, "histogram")
        les = [_fmt_value(b) for b in bounds] + ["+Inf"]
        bucket_lbls = [_fmt_labels(labels, ("le", le)) for le in les]
        lbl = _fmt_labels(labels)
        cumulative = [0.0] * (len(bounds) + 1)
        total = 0.0
        for t in self.times():
            obs = fn(t)
            if obs is not None:
                if len(obs.counts) != len(bounds) + 1:
                    raise ValueError(f"HistogramStep needs {len(bounds) + 1} counts (last one: > max bucket)")
                for i, c in enumerate(obs.counts):
                    cumulative[i] += c
                total += obs.total
            ts = _fmt_ts(t)
            running = 0.0
            for i, bl in enumerate(bucket_lbls):
                running += cumulative[i]
                lines.append(f"{name}_bucket{bl} {_fmt_value(running)} {ts}")
            lines.append(f"{name}_count{lbl} {_fmt_value(running)} {ts}")
            lines.append(f"{name}_sum{lbl} {_fmt_value(total)} {ts}")
        return self

    def text(self) -> str:
        """The OpenMetrics exposition, one family after another, ending with ``# EOF``."""
        out: list[str] = []
        for name, (kind, lines) in self._families.items():
            out.append(f"# TYPE {name} {kind}")
            out.extend(lines)
        out.append("# EOF")
        return "\n".join(out) + "\n"
