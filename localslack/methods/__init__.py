"""The Web API methods; importing this package registers every handler in `METHODS`."""

from localslack.methods import canvases, chat, conversations, files, oauth, people, views
from localslack.methods.base import METHODS, UNAUTHENTICATED, Call, SlackError

__all__ = [
    "METHODS",
    "UNAUTHENTICATED",
    "Call",
    "SlackError",
    "canvases",
    "chat",
    "conversations",
    "files",
    "oauth",
    "people",
    "views",
]
