"""What the bot sent, searched for seed file names: users read an article's title, never `004_…`.

`sent_text(store)` is every request the bot made to Slack (Web API arguments: messages, views, the App
Home, modals), every response_url post and every uploaded text file, as (where, text) pairs;
`seed_file_names(text)` finds a seed file name (`004_26b48070c33732f0.txt`) or its short form (`004_…`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator

from localslack import Store

SEED_FILE = re.compile(r"\b00[0-4]_[0-9a-f]{16}\b|00[0-4]_…")


def seed_file_names(text: str) -> list[str]:
    """Each seed file name in `text`, with a little context either side."""
    return [f"…{text[max(0, m.start() - 60) : m.end() + 20]}…" for m in SEED_FILE.finditer(text)]


def sent_text(store: Store) -> Iterator[tuple[str, str]]:
    with store.lock:
        calls = list(store.calls)
        posts = list(store.response_url_posts)
        files = list(store.files.values())
    for call in calls:
        yield call.method, json.dumps(call.args, ensure_ascii=False)
    for post in posts:
        yield "response_url", json.dumps(post.body, ensure_ascii=False)
    for file in files:
        try:
            yield f"file {file.filename}", file.content.decode("utf-8")
        except UnicodeDecodeError:
            yield f"file {file.filename}", f"{file.title or ''} {file.alt_txt or ''}"  # an image: its words


def cited_files(sent: Iterable[tuple[str, str]]) -> list[str]:
    """Every seed file name in what was sent, as `where: …context…` (empty when there is none)."""
    return [f"{where}: {hit}" for where, text in sent for hit in seed_file_names(text)]
