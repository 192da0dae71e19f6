"""`/scale-check <subcommand> …`: the registry of subcommands, help, and "did you mean"."""

from __future__ import annotations

import difflib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot import blocks as bk
from handlers.base import Ctx

COMMAND = "/scale-check"

RunSub = Callable[[Ctx, str], Awaitable[None]]
CheckSub = Callable[[str], str | None]


@dataclass(frozen=True)
class Subcommand:
    """One subcommand: what it does, how to call it, and the work it runs after the ack."""

    name: str
    summary: str
    usage: str  # the arguments, e.g. "[team]"
    example: str  # a complete example, e.g. "/scale-check metrics"; `{you}` stands for the reader
    run: RunSub
    # Instant validation in the ack path: returns a sentence saying how to fix the arguments, or None.
    check: CheckSub | None = None
    aliases: tuple[str, ...] = ()
    order: int = 50  # position in the help


YOU = "{you}"


def example_text(example: str, user_id: str | None = None) -> str:
    """An example as mrkdwn: the command in code and `{you}` as a mention of the reader, so the example
    names someone who exists in the workspace it is shown in."""
    if YOU not in example:
        return f"`{example}`"
    command, _, rest = example.partition(YOU)
    who = f"<@{user_id}>" if user_id else "@someone"
    return f"`{command.strip()}` {who}{rest}"


class CommandRouter:
    def __init__(self) -> None:
        self._subs: dict[str, Subcommand] = {}
        self._names: dict[str, Subcommand] = {}
        self.default: Subcommand | None = None

    def add(self, sub: Subcommand, *, default: bool = False) -> None:
        for name in (sub.name, *sub.aliases):
            if name in self._names:
                raise ValueError(f"subcommand {name!r} is registered twice")
            self._names[name] = sub
        self._subs[sub.name] = sub
        if default:
            self.default = sub

    @property
    def subcommands(self) -> list[Subcommand]:
        return sorted(self._subs.values(), key=lambda s: (s.order, s.name))

    def resolve(self, text: str) -> tuple[Subcommand | None, str, str | None]:
        """(subcommand, its arguments, suggestion). No subcommand and no suggestion means help."""
        words = text.strip().split(maxsplit=1)
        if not words:
            return self.default, "", None
        word, rest = words[0].lower(), (words[1] if len(words) > 1 else "")
        if word in ("help", "-h", "--help", "?"):
            return None, rest, None
        sub = self._names.get(word)
        if sub is not None:
            return sub, rest, None
        close = difflib.get_close_matches(word, [*self._names, "help"], n=1, cutoff=0.5)
        return None, text, close[0] if close else ""

    def help_message(
        self, unknown: str | None = None, suggestion: str | None = None, user_id: str | None = None
    ) -> dict:
        """The help, optionally led by "unknown subcommand … did you mean …"; `user_id` is the reader."""
        lines = []
        if unknown is not None:
            word = bk.escape(unknown.split()[0]) if unknown.split() else ""
            hint = f" Did you mean `{COMMAND} {suggestion}`?" if suggestion else ""
            lines.append(bk.section(f":thinking_face: I don't know `{word}`.{hint}"))
        lines.append(bk.header("scalebot: are we ready for 10x?"))
        entries = [f"*`{COMMAND} help`* — this list.\n_e.g._ `{COMMAND} help`"]
        if self.default is not None:
            entries.insert(
                0,
                f"*`{COMMAND}`* — {self.default.summary} (same as `{self.default.name}`).\n_e.g._ `{COMMAND}`",
            )
        for sub in self.subcommands:
            usage = f" {sub.usage}" if sub.usage else ""
            example = example_text(sub.example, user_id)
            entries.append(f"*`{COMMAND} {sub.name}{usage}`* — {sub.summary}\n_e.g._ {example}")
        # One section per entry: the same space between every two (a handful of blocks, well under 50).
        lines += [bk.section(entry) for entry in entries]
        lines.append(bk.context("Answers from me are only visible to you unless they start a thread."))
        text = "scalebot commands: " + ", ".join(["help", *(s.name for s in self.subcommands)])
        if unknown is not None and suggestion:
            text = f"I don't know that subcommand. Did you mean {COMMAND} {suggestion}? " + text
        return bk.message(text, lines)
