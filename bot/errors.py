"""Errors a person can fix (with a sentence saying how) and error ids for the ones they can't."""

from __future__ import annotations

import secrets


class UserError(Exception):
    """Something the person can fix; the message is shown to them as is, so it says how."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class PermissionDenied(UserError):
    """The person may not do this; the message names who can."""


def new_error_id() -> str:
    """A short id a person can quote and an operator can grep for in the logs."""
    return secrets.token_hex(4)


def unexpected_error_message(error_id: str) -> str:
    return (
        f"Something went wrong on my side (error id `{error_id}`). It has been logged; "
        "try again in a moment, and quote the id if you report it."
    )
