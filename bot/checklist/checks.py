"""Start-up check: every playbook the config file references loads, or start-up stops naming why."""

from __future__ import annotations

import yaml

from bot.checklist import loader
from bot.config import AppConfig
from bot.configbase import shown
from bot.yamlfile import ConfigFileError


def _team_lines(config: AppConfig) -> dict[int, int]:
    """Line of each team's `playbook:` key in the config file (index → line), when it can be read."""
    if config.path is None:
        return {}
    try:
        root = yaml.compose(config.path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    except (OSError, yaml.YAMLError):
        return {}
    lines: dict[int, int] = {}
    if not isinstance(root, yaml.MappingNode):
        return lines
    for key, value in root.value:
        if key.value == "teams" and isinstance(value, yaml.SequenceNode):
            for index, team in enumerate(value.value):
                if isinstance(team, yaml.MappingNode):
                    for k, _ in team.value:
                        if k.value == "playbook":
                            lines[index] = k.start_mark.line + 1
    return lines


def check(config: AppConfig) -> list[str]:
    """Problems with the default playbook and each team's: the playbook's own `file:line: key: problem`
    lines, each saying which config entry named it."""
    where = str(config.path) if config.path else "(no config file)"
    refs: list[tuple[str, str]] = [(f"defaults.playbook in {where}", config.defaults.playbook)]
    lines = _team_lines(config)
    for i, team in enumerate(config.teams):
        if team.playbook is not None:
            line = f":{lines[i]}" if i in lines else ""
            refs.append((f"teams[{i}].playbook in {where}{line}", team.playbook))
    problems: list[str] = []
    seen: set[str] = set()
    for named_by, ref in refs:
        if ref in seen:
            continue
        seen.add(ref)
        try:
            loader.load(ref, config.base_dir)
        except ConfigFileError as exc:
            problems.extend(f"{problem} (playbook {shown(ref)}, {named_by})" for problem in exc.problems)
    return problems
