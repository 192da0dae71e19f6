"""Structured logging routed through the redactor (common/redact.py), so no line carries a credential."""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import IO, Any

from common.redact import redactor

_SURROGATE = re.compile("[\ud800-\udfff]")


# Characters that would let text from outside start a new line, move the cursor or colour the
# terminal: C0 and C1 controls, DEL, Unicode's line and paragraph separators, and lone surrogates
# (which no UTF-8 stream can write).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape_char(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape_controls(text: str) -> str:
    """`text` on one line: control characters as visible escapes (`\\n`, `\\x1b`, `\\udc80`)."""
    return _CONTROL.sub(_escape_char, text)


class RedactingFilter(logging.Filter):
    """Formats the record's message once, scrubs it, and freezes it so no handler sees the raw args."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a library's bad format string must not lose the line
            message = f"{record.msg!r} {record.args!r}"
        record.msg = redactor.scrub(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redactor.scrub(record.exc_text)
            record.exc_info = None  # the scrubbed text replaces the raw traceback
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and any `extra=` fields."""

    _standard = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in self._standard and not key.startswith("_"):
                payload[key] = value if isinstance(value, str | int | float | bool | None) else str(value)
        if record.exc_text:
            payload["traceback"] = record.exc_text
        # A lone surrogate is valid in a Python string but not in UTF-8: written as its JSON escape.
        text = json.dumps(payload, ensure_ascii=False)
        return redactor.scrub(_SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text))


class TextFormatter(logging.Formatter):
    """One line per record: control characters in the message and in `extra=` fields (interpolated
    text from outside: an API's error, a sprint's name) are escaped, so no value can forge a line; a
    traceback follows on lines indented under its record."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        record.message = escape_controls(record.getMessage())
        record.asctime = self.formatTime(record, self.datefmt)
        line = self.formatMessage(record)
        extras = {
            k: v
            for k, v in vars(record).items()
            if k not in JsonFormatter._standard and not k.startswith("_") and k != "color_message"
        }
        if extras:
            line += " " + " ".join(f"{k}={escape_controls(str(v))}" for k, v in sorted(extras.items()))
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        for extra_text in (record.exc_text, record.stack_info):
            if extra_text:
                line += "".join("\n    " + escape_controls(part) for part in extra_text.splitlines())
        return redactor.scrub(line)


def make_handler(fmt: str = "text", stream: IO[str] | None = None) -> logging.Handler:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(RedactingFilter())
    handler.set_name("scalebot")
    return handler


def configure_logging(level: str = "INFO", fmt: str = "text", stream: IO[str] | None = None) -> None:
    """Route every logger (ours, uvicorn's, slack_sdk's, httpx's) through one redacting handler."""
    root = logging.getLogger()
    for existing in list(root.handlers):
        if existing.get_name() == "scalebot":
            root.removeHandler(existing)
    root.addHandler(make_handler(fmt, stream))
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        lg = logging.getLogger(name)
        lg.handlers.clear()
        lg.propagate = True
    # Chatty at DEBUG and useless to operators even then.
    for name in ("aiosqlite", "asyncio", "matplotlib", "PIL", "multipart", "python_multipart"):
        logging.getLogger(name).setLevel(max(logging.INFO, logging.getLevelName(level)))
    # Alembic announces its context on every readiness probe; `storage.migrate` logs what it applied.
    logging.getLogger("alembic").setLevel(logging.WARNING)
