"""Workspaces the bot is installed in, OAuth state, and the stores Bolt's OAuth flow uses."""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import datetime, timedelta

from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from sqlalchemy import delete
from sqlmodel import Field, Session, SQLModel, col, select

from bot.clock import Clock
from bot.logs import redactor
from storage.db import Database
from storage.types import AwareDateTime

log = logging.getLogger(__name__)


class InstallationRow(SQLModel, table=True):
    """One workspace's bot installation (OAuth) or the single workspace of a token-mode bot."""

    __tablename__ = "installations"

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(index=True, unique=True, max_length=32)
    enterprise_id: str | None = Field(default=None, max_length=32)
    workspace_name: str | None = None
    app_id: str | None = Field(default=None, max_length=32)
    bot_token: str
    bot_id: str | None = Field(default=None, max_length=32)
    bot_user_id: str | None = Field(default=None, max_length=32)
    bot_scopes: str = ""
    installer_user_id: str | None = Field(default=None, max_length=32)
    source: str = Field(default="oauth", max_length=16)  # "oauth" or "token"
    installed_at: datetime = Field(sa_type=AwareDateTime)
    active: bool = True
    deactivated_at: datetime | None = Field(default=None, sa_type=AwareDateTime)
    deactivated_reason: str | None = None


class OAuthStateRow(SQLModel, table=True):
    __tablename__ = "oauth_states"

    state: str = Field(primary_key=True, max_length=64)
    expires_at: datetime = Field(sa_type=AwareDateTime)


# --- repository functions (each takes a session) -------------------------------------------------


def save_installation(session: Session, row: InstallationRow) -> InstallationRow:
    """Insert or refresh a workspace's installation; a reinstall reactivates it."""
    existing = session.exec(
        select(InstallationRow).where(InstallationRow.workspace_id == row.workspace_id)
    ).first()
    if existing is None:
        session.add(row)
        session.flush()
        return row
    for field in (
        "enterprise_id",
        "workspace_name",
        "app_id",
        "bot_token",
        "bot_id",
        "bot_user_id",
        "bot_scopes",
        "installer_user_id",
        "source",
        "installed_at",
    ):
        setattr(existing, field, getattr(row, field))
    existing.active, existing.deactivated_at, existing.deactivated_reason = True, None, None
    session.add(existing)
    return existing


def find_installation(
    session: Session, workspace_id: str, *, active_only: bool = True
) -> InstallationRow | None:
    query = select(InstallationRow).where(InstallationRow.workspace_id == workspace_id)
    if active_only:
        query = query.where(InstallationRow.active == True)  # noqa: E712 (SQL expression)
    return session.exec(query).first()


def active_workspaces(session: Session) -> list[InstallationRow]:
    return list(session.exec(select(InstallationRow).where(InstallationRow.active == True)))  # noqa: E712


def inactive_workspaces(session: Session) -> list[str]:
    query = select(InstallationRow.workspace_id).where(InstallationRow.active == False)  # noqa: E712
    return sorted(session.exec(query))


def forget_token(session: Session, workspace_id: str) -> None:
    """Keep no usable token for an uninstalled or revoked workspace: only its fingerprint, by which a
    restart with the same revoked token in single-workspace modes still knows it is revoked."""
    row = find_installation(session, workspace_id, active_only=False)
    if row is not None and not row.bot_token.startswith(FINGERPRINT):
        row.bot_token = token_fingerprint(row.bot_token)
        session.add(row)


FINGERPRINT = "sha256:"


def token_fingerprint(token: str) -> str:
    return FINGERPRINT + hashlib.sha256(token.encode()).hexdigest()


def deactivate(session: Session, workspace_id: str, reason: str, when: datetime) -> bool:
    """Mark a workspace inactive; returns whether this call changed anything (idempotent)."""
    row = find_installation(session, workspace_id, active_only=False)
    if row is None or not row.active:
        return False
    row.active, row.deactivated_at, row.deactivated_reason = False, when, reason
    session.add(row)
    return True


def issue_state(session: Session, now: datetime, ttl: timedelta) -> str:
    """A new state; states that expired unused (an install page left open) are swept on the way."""
    session.execute(delete(OAuthStateRow).where(col(OAuthStateRow.expires_at) <= now))
    state = secrets.token_urlsafe(24)
    session.add(OAuthStateRow(state=state, expires_at=now + ttl))
    return state


def consume_state(session: Session, state: str, now: datetime) -> bool:
    """A state works once and only before it expires."""
    row = session.get(OAuthStateRow, state)
    if row is None:
        return False
    session.delete(row)
    return row.expires_at > now


# --- Bolt adapters ---------------------------------------------------------------------------------


def _to_bot(row: InstallationRow) -> Bot:
    return Bot(
        app_id=row.app_id,
        enterprise_id=row.enterprise_id,
        team_id=row.workspace_id,
        team_name=row.workspace_name,
        bot_token=row.bot_token,
        bot_id=row.bot_id or "",
        bot_user_id=row.bot_user_id or "",
        bot_scopes=row.bot_scopes,
        installed_at=row.installed_at.timestamp(),
    )


class DatabaseInstallationStore(AsyncInstallationStore):
    """Bolt's installation store on our table; an inactive workspace has no bot to act as."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db, self.clock = db, clock
        self._logger = log

    @property
    def logger(self) -> logging.Logger:
        return self._logger

    async def async_save(self, installation: Installation) -> None:
        if not installation.team_id or not installation.bot_token:
            raise ValueError("only bot installations into a workspace are supported")
        redactor.add(installation.bot_token)
        row = InstallationRow(
            workspace_id=installation.team_id,
            enterprise_id=installation.enterprise_id,
            workspace_name=installation.team_name,
            app_id=installation.app_id,
            bot_token=installation.bot_token,
            bot_id=installation.bot_id,
            bot_user_id=installation.bot_user_id,
            bot_scopes=",".join(installation.bot_scopes or []),
            installer_user_id=installation.user_id,
            source="oauth",
            installed_at=self.clock.now(),
        )
        await self.db.run(save_installation, row)
        log.info("installed into workspace", extra={"workspace": installation.team_id})

    async def async_save_bot(self, bot: Bot) -> None:  # covered by async_save
        return None

    async def async_find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        if not team_id:
            return None
        row = await self.db.run(find_installation, team_id)
        if row is None:
            return None
        redactor.add(row.bot_token)
        return _to_bot(row)

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        bot = await self.async_find_bot(enterprise_id=enterprise_id, team_id=team_id)
        if bot is None:
            return None
        return Installation(
            app_id=bot.app_id,
            enterprise_id=bot.enterprise_id,
            team_id=bot.team_id,
            team_name=bot.team_name,
            bot_token=bot.bot_token,
            bot_id=bot.bot_id,
            bot_user_id=bot.bot_user_id,
            bot_scopes=bot.bot_scopes,
            user_id=user_id or "",
            installed_at=bot.installed_at,
        )


class DatabaseStateStore(AsyncOAuthStateStore):
    """OAuth `state` values: random, single use, expiring. Bolt binds them to the browser by cookie."""

    def __init__(self, db: Database, clock: Clock, expiration_seconds: int = 600) -> None:
        self.db, self.clock = db, clock
        self.ttl = timedelta(seconds=expiration_seconds)

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_issue(self, *args: object, **kwargs: object) -> str:
        return await self.db.run(issue_state, self.clock.now(), self.ttl)

    async def async_consume(self, state: str) -> bool:
        return await self.db.run(consume_state, state, self.clock.now())
