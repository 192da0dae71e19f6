"""Text from outside cannot forge log lines (issue 13, class 2): one record is one line in the text
format, whatever a monitoring API's error or a tracker's sprint name contains; JSON stays JSON."""

from __future__ import annotations

import io
import json
import logging
import re

import pytest

from bot.logs import configure_logging

FORGED = "timeout\n2026-12-06 02:00:00,000 ERROR   scalebot: admin token leaked\r\x1b[2Jdone"
RECORD_START = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} ")


def _strict_stream() -> io.TextIOWrapper:
    """A UTF-8 stream like stderr: it cannot write a lone surrogate."""
    return io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="strict", write_through=True)


def _written(stream: io.TextIOWrapper) -> str:
    buffer = stream.buffer
    assert isinstance(buffer, io.BytesIO)
    return buffer.getvalue().decode("utf-8")


@pytest.fixture
def text_log() -> io.TextIOWrapper:
    stream = _strict_stream()
    configure_logging("DEBUG", "text", stream)
    return stream


@pytest.mark.parametrize("logger", ["bot.metrics.prometheus", "httpx", "some.library.we.never.heard.of"])
def test_an_interpolated_value_cannot_start_a_new_line(text_log: io.TextIOWrapper, logger: str) -> None:
    logging.getLogger(logger).warning("source failed: %s", FORGED)
    out = _written(text_log)
    records = [line for line in out.splitlines() if RECORD_START.match(line)]
    assert len(records) == 1 and len(out.splitlines()) == 1, out
    assert "\\n2026-12-06" in out and "\\r" in out and "\\x1b[2J" in out
    assert "\x1b" not in out


def test_extra_fields_and_f_strings_are_escaped_too(text_log: io.TextIOWrapper) -> None:
    log = logging.getLogger("bot.debt.importers")
    log.info("sprint imported", extra={"sprint": FORGED})
    log.info(f"sprint {FORGED} imported")
    lines = _written(text_log).splitlines()
    assert len(lines) == 2, lines
    assert all("\\n2026-12-06" in line for line in lines)


def test_a_traceback_stays_under_its_record(text_log: io.TextIOWrapper) -> None:
    try:
        raise ValueError(FORGED)
    except ValueError:
        logging.getLogger("slack_bolt").exception("listener failed")
    lines = _written(text_log).splitlines()
    assert RECORD_START.match(lines[0])
    assert len(lines) > 2 and all(line.startswith("    ") for line in lines[1:]), lines
    assert not any(RECORD_START.match(line) for line in lines[1:])


def test_a_lone_surrogate_is_written_not_lost(text_log: io.TextIOWrapper) -> None:
    logging.getLogger("bot.checklist").warning("answer was %s", "bad \ud800 text")
    out = _written(text_log)
    assert "bad \\ud800 text" in out
    assert "Logging error" not in out


def test_json_stays_json_with_the_text_intact() -> None:
    stream = _strict_stream()
    configure_logging("DEBUG", "json", stream)
    logging.getLogger("httpx").warning("source failed: %s", FORGED, extra={"sprint": "a\nb\ud800"})
    lines = _written(stream).splitlines()
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert record["message"] == f"source failed: {FORGED}"
    assert record["sprint"] == "a\nb\ud800"
