"""The redactor: keeps tokens, secrets, OAuth codes and response_urls out of every log line and error.

Shared by every layer (storage registers installation tokens with it), so it lives outside bot/.
"""

from __future__ import annotations

import re
import threading

REDACTED = "[redacted]"

# Credentials this process never configured itself (installation tokens, OAuth codes), by shape.
# Each pattern keeps its first group (the key) and replaces the rest with REDACTED.
_PATTERNS = [
    # Slack tokens: bot, user, app-level, config, refresh.
    re.compile(r"()\bx(?:ox[abposre]|app)-[A-Za-z0-9-]{6,}"),
    # Query strings and form bodies: ?code=…, &client_secret=…, token=…
    re.compile(
        r"(?i)((?<![A-Za-z_])(?:code|client_secret|token|access_token|refresh_token|state|"
        r"api_key|application_key|password)=)[^&\s\"']+"
    ),
    # JSON-ish bodies and query dicts: "access_token": "…", 'code': ['…']
    re.compile(
        r"(?i)([\"'](?:access_token|refresh_token|bot_token|user_token|token|client_secret|"
        r"signing_secret|code|state|api_key|app_key|application_key|password|secret)[\"']\s*:\s*\[?\s*[\"'])[^\"']+"
    ),
    # HTTP auth headers as slack_sdk and httpx print them.
    re.compile(
        r"(?i)((?:authorization|dd-api-key|dd-application-key|api-key|x-api-key)[\"']?\s*[:=]\s*[\"']?"
        r"(?:bearer\s+|basic\s+)?)[^\s\"',}]+"
    ),
    # Passwords in URLs: redis://:secret@host, postgresql://user:secret@host
    re.compile(r"(://[^:/@\s]*:)[^@\s/]+(?=@)"),
    # response_urls (anyone holding one may post for 30 minutes): Slack's hooks.slack.com/actions/…,
    # /commands/…, and the local Slack's /hooks/response/…
    re.compile(r"((?:hooks\.slack\.com/(?:actions|commands)|/hooks/response)/)[^\s\"',}]+"),
]


class Redactor:
    """Scrubs known secret values and credential-shaped substrings from text."""

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._lock = threading.Lock()

    def add(self, *values: str | None) -> None:
        """Register exact secret values (from settings, the config file's env references, installs)."""
        with self._lock:
            for value in values:
                if value and len(value) >= 4:
                    self._values.add(value)

    def scrub(self, text: str) -> str:
        for value in sorted(self._values, key=len, reverse=True):
            if value in text:
                text = text.replace(value, REDACTED)
        for pattern in _PATTERNS:
            text = pattern.sub(lambda m: m.group(1) + REDACTED, text)
        return text


redactor = Redactor()
