"""Config checks for the weekly digest, run at start-up and by `scalebot config check`."""

from __future__ import annotations

from bot.config import AppConfig


def check(config: AppConfig) -> list[str]:
    problems = []
    named = {ws for ws in config.workspaces} | {t.workspace for t in config.teams if t.workspace}
    if config.digest.channel is not None and len(named) > 1:
        problems.append(
            "digest.channel: a channel belongs to one workspace, and this file names several "
            f"({', '.join(sorted(named))}); set each one's under workspaces.<id>.digest.channel instead"
        )
    return problems
