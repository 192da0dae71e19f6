"""A small JQL parser and evaluator for the Jira Cloud fake.

It accepts the JQL Atlassian documents ("Use advanced search with Jira Query Language (JQL)": clauses of
field, operator and value joined by AND / OR / NOT with parentheses; quoted or unquoted values; lists;
functions such as `openSprints()`; `is EMPTY`; an `ORDER BY` tail), so any well-formed filter the
`debt.import.jql` option may hold is run against the fake's issues. Malformed JQL raises `JqlError` with
a message in Jira's words ("Error in the JQL Query: …"), which the fake answers with Jira's 400 shape
(`{"errorMessages": [...], "errors": {}}`); so does a field the fake's Jira does not have.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
      | (?P<op>!=|!~|>=|<=|=|~|>|<)
      | (?P<punct>[(),])
      | (?P<word>[^\s(),=!~<>"']+)
    )""",
    re.VERBOSE,
)
_KEYWORDS = {"and", "or", "not", "in", "is", "empty", "null", "order", "by", "asc", "desc", "was", "changed"}


class JqlError(ValueError):
    """Jira's 400 for a query it cannot run; `str()` is Jira's message."""


@dataclass(frozen=True)
class Tok:
    kind: str  # string, op, punct, word
    text: str
    at: int

    @property
    def keyword(self) -> str:
        return self.text.lower() if self.kind == "word" else ""


def tokens(jql: str) -> list[Tok]:
    out, pos = [], 0
    while pos < len(jql):
        if not jql[pos:].strip():
            break
        found = _TOKEN.match(jql, pos)
        if found is None or found.end() == pos:
            raise JqlError(
                f"Error in the JQL Query: The character '{jql[pos]}' is a reserved JQL character. (line 1, character {pos + 1})"
            )
        kind = found.lastgroup or "word"
        text = found.group(kind)
        if kind == "string":
            text = re.sub(r"\\(.)", r"\1", text[1:-1])
        out.append(Tok(kind, text, found.start(kind) + 1))
        pos = found.end()
    return out


Issue = dict[str, Any]  # field name (lower case) -> value (a list for multi-valued fields)
Predicate = Callable[[Issue], bool]


class _Parser:
    def __init__(self, jql: str, fields: set[str], functions: dict[str, Any]) -> None:
        self.toks = tokens(jql)
        self.i = 0
        self.fields = fields
        self.functions = functions

    def peek(self) -> Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> Tok:
        tok = self.peek()
        if tok is None:
            raise JqlError(
                "Error in the JQL Query: Expecting either a value, list or function but got the end of the query."
            )
        self.i += 1
        return tok

    def expect(self, text: str) -> None:
        if self.peek() is None:
            raise JqlError(f"Error in the JQL Query: Expecting '{text}' but got the end of the query.")
        tok = self.take()
        if tok.text.lower() != text:
            raise JqlError(
                f"Error in the JQL Query: Expecting '{text}' but got '{tok.text}'. (line 1, character {tok.at})"
            )

    def parse(self) -> Predicate:
        if self.peek() is None:
            return lambda issue: True
        test = self.peek()
        predicate: Predicate = (
            (lambda issue: True) if test is not None and test.keyword == "order" else self.or_()
        )
        tok = self.peek()
        if tok is not None and tok.keyword == "order":
            self.take()
            self.expect("by")
            self.order_by()
        tok = self.peek()
        if tok is not None:
            raise JqlError(
                f"Error in the JQL Query: Expecting either 'OR' or 'AND' but got '{tok.text}'. (line 1, character {tok.at})"
            )
        return predicate

    def order_by(self) -> None:
        while True:
            self.field()
            tok = self.peek()
            if tok is not None and tok.keyword in ("asc", "desc"):
                self.take()
            tok = self.peek()
            if tok is None or tok.text != ",":
                return
            self.take()

    def or_(self) -> Predicate:
        parts = [self.and_()]
        while (tok := self.peek()) is not None and tok.keyword == "or":
            self.take()
            parts.append(self.and_())
        return parts[0] if len(parts) == 1 else (lambda issue: any(p(issue) for p in parts))

    def and_(self) -> Predicate:
        parts = [self.not_()]
        while (tok := self.peek()) is not None and tok.keyword == "and":
            self.take()
            parts.append(self.not_())
        return parts[0] if len(parts) == 1 else (lambda issue: all(p(issue) for p in parts))

    def not_(self) -> Predicate:
        tok = self.peek()
        if tok is not None and (tok.keyword == "not" or tok.text == "!"):
            self.take()
            inner = self.not_()
            return lambda issue: not inner(issue)
        if tok is not None and tok.text == "(":
            self.take()
            inner = self.or_()
            self.expect(")")
            return inner
        return self.clause()

    def field(self) -> str:
        tok = self.take()
        if tok.kind not in ("word", "string") or (tok.kind == "word" and tok.keyword in _KEYWORDS):
            raise JqlError(
                f"Error in the JQL Query: Expecting a field name but got '{tok.text}'. (line 1, character {tok.at})"
            )
        name = tok.text.lower()
        if name not in self.fields:
            raise JqlError(f"Field '{tok.text}' does not exist or you do not have permission to view it.")
        return name

    def clause(self) -> Predicate:
        name = self.field()
        tok = self.take()
        word = tok.keyword
        if tok.kind == "op":
            op = tok.text
        elif word == "in":
            op = "in"
        elif word == "not":
            self.expect("in")
            op = "not in"
        elif word == "is":
            nxt = self.peek()
            op = "is not" if nxt is not None and nxt.keyword == "not" else "is"
            if op == "is not":
                self.take()
            empty = self.take()
            if empty.keyword not in ("empty", "null"):
                raise JqlError(
                    f"Error in the JQL Query: Expecting 'EMPTY' but got '{empty.text}'. (line 1, character {empty.at})"
                )
            want_empty = op == "is"
            return lambda issue: _empty(issue.get(name)) == want_empty
        else:
            raise JqlError(
                f"Error in the JQL Query: Expecting operator but got '{tok.text}'. (line 1, character {tok.at})"
            )
        nxt = self.peek()
        listed = op in ("in", "not in") and nxt is not None and nxt.text == "("
        values = self.values() if listed else [self.value()]  # `in openSprints()`: a function's list
        return _compare(name, op, values)

    def values(self) -> list[Any]:
        self.expect("(")
        out = [self.value()]
        while (tok := self.take()).text == ",":
            out.append(self.value())
        if tok.text != ")":
            raise JqlError(
                f"Error in the JQL Query: Expecting ')' but got '{tok.text}'. (line 1, character {tok.at})"
            )
        return out

    def value(self) -> Any:
        tok = self.take()
        if tok.kind == "string":
            return tok.text
        if tok.kind != "word" or tok.keyword in ("and", "or", "order"):
            raise JqlError(
                f"Error in the JQL Query: Expecting either a value, list or function but got '{tok.text}'. (line 1, character {tok.at})"
            )
        nxt = self.peek()
        if nxt is not None and nxt.text == "(":  # a function call
            self.take()
            args = []
            while (arg := self.take()).text != ")":
                if arg.text != ",":
                    args.append(arg.text)
            name = tok.text.lower()
            if name not in self.functions:
                raise JqlError(f"Unable to find JQL function '{tok.text}()'.")
            return self.functions[name]
        return tok.text


def _empty(value: Any) -> bool:
    return value is None or value == [] or value == ""


def _matches(actual: Any, wanted: Any) -> bool:
    if isinstance(wanted, set | frozenset | list | tuple):  # a function's answer
        return any(_matches(actual, w) for w in wanted)
    if isinstance(actual, list):
        return any(_matches(a, wanted) for a in actual)
    return str(actual).casefold() == str(wanted).casefold()


def _compare(name: str, op: str, values: list[Any]) -> Predicate:
    if op in ("=", "in"):
        return lambda issue: any(_matches(issue.get(name), v) for v in values)
    if op in ("!=", "not in"):
        return lambda issue: (
            not _empty(issue.get(name)) and not any(_matches(issue.get(name), v) for v in values)
        )
    if op in ("~", "!~"):
        text = str(values[0]).casefold().strip("*")
        found: Predicate = lambda issue: text in str(issue.get(name) or "").casefold()  # noqa: E731
        return found if op == "~" else (lambda issue: not found(issue))

    def ordered(issue: Issue) -> bool:
        actual = issue.get(name)
        try:
            a, b = float(actual), float(values[0])
        except (TypeError, ValueError):
            return False
        return {">": a > b, ">=": a >= b, "<": a < b, "<=": a <= b}[op]

    return ordered


def compile_jql(jql: str, fields: set[str], functions: dict[str, Any]) -> Predicate:
    """A predicate over issues (dicts keyed by lower-case field names); raises `JqlError`."""
    return _Parser(jql, {f.lower() for f in fields}, {k.lower(): v for k, v in functions.items()}).parse()
