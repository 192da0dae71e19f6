"""No module of the application is over 400 lines: a file that grows past it is split by responsibility
(docs/developing.md), not trimmed of its comments."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "handlers", "storage", "localslack", "demometrics", "common")
MAX_LINES = 400


def test_no_module_of_the_application_is_over_400_lines() -> None:
    sizes = {
        str(path.relative_to(ROOT)): len(path.read_text(encoding="utf-8").splitlines())
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
    }
    assert len(sizes) > 100  # the tree was found
    over = {name: lines for name, lines in sorted(sizes.items()) if lines > MAX_LINES}
    assert not over, f"split these by responsibility (at most {MAX_LINES} lines each): {over}"
