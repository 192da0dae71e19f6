"""Load YAML files into pydantic models, naming the file, line and key when something is wrong."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from bot.configbase import HIDDEN, redact, shown, token_shaped

M = TypeVar("M", bound=BaseModel)


class ConfigFileError(ValueError):
    """A YAML file that does not parse or validate; `problems` are lines like `file:12: key: what`."""

    def __init__(self, path: Path, problems: Sequence[str]) -> None:
        self.path = path
        self.problems = [redact(p) for p in problems]
        super().__init__("\n".join(self.problems))


def _line_map(
    node: yaml.Node, path: tuple[Any, ...] = (), out: dict[tuple[Any, ...], int] | None = None
) -> dict:
    """Map each key path (('teams', 0, 'name')) to the 1-based line where its value starts."""
    out = {} if out is None else out
    out.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            out[(*path, key)] = key_node.start_mark.line + 1
            _line_map(value_node, (*path, key), out)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _line_map(item, (*path, index), out)
    return out


def _nearest_line(lines: dict[tuple[Any, ...], int], loc: tuple[Any, ...]) -> int:
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return 1


def _dotted(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, str) and token_shaped(part):
            part = "(a key that looks like a credential)"
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def load_yaml_model(path: Path, model: type[M], *, context: dict[str, Any] | None = None) -> M:
    """Parse `path` and validate it as `model`; raises `ConfigFileError` with file:line: key: problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        where = HIDDEN if token_shaped(str(path)) else str(path)
        raise ConfigFileError(path, [f"{where}: cannot read the file: {exc.strerror}"]) from exc
    return parse_yaml_model(text, path, model, context=context)


def parse_yaml_model(text: str, path: Path, model: type[M], *, context: dict[str, Any] | None = None) -> M:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else 1
        raise ConfigFileError(path, [f"{path}:{line}: not valid YAML: {exc.problem}"]) from exc
    if data is None:
        data = {}
    lines = _line_map(node) if node is not None else {}
    try:
        return model.model_validate(data, context=context)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            message = _without_credential(err["msg"].removeprefix("Value error, "), err.get("input"))
            if err["type"] in ("union_tag_invalid", "union_tag_not_found"):
                ctx = err.get("ctx") or {}
                key = str(ctx.get("discriminator", "kind")).strip("'")
                loc = (*loc, key)
                if err["type"] == "union_tag_invalid":
                    message = (
                        f"unknown {key} {shown(ctx.get('tag'))} (expected one of: {ctx.get('expected_tags')})"
                    )
            loc = _file_loc(data, loc)
            problems.append(f"{path}:{_nearest_line(lines, loc)}: {_dotted(loc)}: {message}")
        raise ConfigFileError(path, problems) from exc


def _without_credential(message: str, value: Any) -> str:
    """The message with the offending value taken out when it looks like a credential (pydantic's own
    messages never carry `input_value`, but a validator's may quote what it was given)."""
    if isinstance(value, str) and value and token_shaped(value):
        return message.replace(repr(value), HIDDEN).replace(value, HIDDEN)
    return message


def _file_loc(data: Any, loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """The error location as keys of the file: drop parts pydantic adds (union tags, validator names)."""
    out: list[Any] = []
    for i, part in enumerate(loc):
        if (isinstance(data, dict) and part in data) or (
            isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data)
        ):
            out.append(part)
            data = data[part]
        elif i == len(loc) - 1 and isinstance(part, str | int) and not str(part).startswith("function-"):
            out.append(part)  # a missing key: name it
    return tuple(out)
