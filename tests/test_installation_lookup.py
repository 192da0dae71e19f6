"""A single-workspace start that cannot reach Slack finds its workspace by the bot token, even after the
token was forgotten (only its fingerprint kept) because the workspace revoked it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from storage import installations, migrate
from storage.db import Database
from tests.conftest import remember_secret

TOKEN = "xoxb-lookup-1234567890-abcdef"
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def test_the_installation_is_found_by_its_token_and_by_the_fingerprint_kept_after_revocation(
    tmp_path: Path,
) -> None:
    remember_secret(TOKEN)
    db = Database(f"sqlite:///{tmp_path}/install.db")
    try:
        migrate.upgrade(db)
        row = installations.InstallationRow(
            workspace_id="T0LOOKUP", bot_token=TOKEN, source="token", installed_at=T0
        )
        db.call(installations.save_installation, row)
        found = db.call(installations.installation_for_token, TOKEN)
        assert found is not None and found.workspace_id == "T0LOOKUP" and found.active

        db.call(installations.deactivate, "T0LOOKUP", "tokens_revoked", T0)
        db.call(installations.forget_token, "T0LOOKUP")
        found = db.call(installations.installation_for_token, TOKEN)
        assert found is not None and found.workspace_id == "T0LOOKUP"
        assert not found.active and found.deactivated_reason == "tokens_revoked"
        assert found.bot_token != TOKEN  # only the fingerprint is stored

        assert db.call(installations.installation_for_token, "xoxb-someone-else-000000") is None
    finally:
        db.close()
