"""Accounts: users, recovery codes, password-reset tokens, registrations waiting for confirmation, invitations."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db import UTCDateTime, sql_in, utcnow
from portal.extensions import db
from portal.statuses import ROLE_LABELS, Role
from portal.timeutil import DEFAULT_TIMEZONE

ROLES = tuple(role.value for role in Role)
# The domain of the placeholder address an erased account keeps (portal.privacy.erasure); reserved, never delivered.
ERASED_EMAIL_DOMAIN = "invalid.example"


class User(db.Model):
    __tablename__ = "users"
    __table_args__ = (
        sa.CheckConstraint(sql_in("role", Role), name="role_known"),
        sa.CheckConstraint("email = lower(email)", name="email_lower_case"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    role: Mapped[str] = mapped_column(sa.String(20), default="candidate", index=True)
    timezone: Mapped[str] = mapped_column(sa.String(64), default=DEFAULT_TIMEZONE)
    active: Mapped[bool] = mapped_column(default=True)
    session_version: Mapped[int] = mapped_column(default=1)
    calendar_token: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    privacy_accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The privacy-notice version accepted last, and whether a newer one waits to be acknowledged (privacy.notice).
    privacy_notice_version: Mapped[str | None] = mapped_column(sa.String(40))
    privacy_ack_due: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    focus_areas: Mapped[str] = mapped_column(sa.String(200), default="", server_default="")  # mentors only
    # A mentor who may approve and publish insight articles (admins always may); set by admins.
    is_editor: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # Two-factor sign-in (TOTP): the secret encrypted (portal.auth.totp), when it was turned on, and the time-step
    # of the last code accepted, so that no code works twice.
    totp_secret: Mapped[str | None] = mapped_column(sa.String(255))
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    totp_last_step: Mapped[int | None] = mapped_column(sa.BigInteger)
    # Closing and erasure (portal.privacy.erasure): when the account was closed, when it is due to be erased, and when
    # its personal data was removed (set only once every erasure step has run).
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    erase_after: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, index=True)

    # Flask-Login protocol -------------------------------------------------
    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    @classmethod
    def active_mentor_clause(cls) -> sa.ColumnElement[bool]:
        """SQL: the row is an active mentor's."""
        return sa.and_(cls.role == Role.MENTOR, cls.active.is_(True))

    @classmethod
    def active_mentors(cls) -> sa.Select:
        """Every active mentor, by name (a statement: narrow its columns, count or page it as needed)."""
        return sa.select(cls).where(cls.active_mentor_clause()).order_by(cls.name, cls.id)

    def get_id(self) -> str:
        """Session identity: the id and the session version, so old cookies stop working."""
        return f"{self.id}:{self.session_version}"

    # Roles ----------------------------------------------------------------
    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def is_mentor(self) -> bool:
        return self.role == Role.MENTOR

    @property
    def is_candidate(self) -> bool:
        return self.role == Role.CANDIDATE

    @property
    def may_publish_articles(self) -> bool:
        """Admins, and mentors an admin made editors, approve and publish insight articles."""
        return self.is_admin or (self.is_mentor and self.is_editor)

    @property
    def may_write_articles(self) -> bool:
        return self.is_admin or self.is_mentor

    @property
    def has_second_factor(self) -> bool:
        return self.totp_secret is not None

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)

    @property
    def initials(self) -> str:
        """Up to two letters for an avatar: the first letters of the first and last names ("Priya Shah" → "PS")."""
        words = [word for word in self.name.split() if word[:1].isalnum()]
        if not words:
            return "?"
        letters = words[0][0] + (words[-1][0] if len(words) > 1 else "")
        return letters.upper()

    @classmethod
    def matching(cls, search: str) -> sa.ColumnElement[bool]:
        """A filter for users whose name or email contains `search` (case-insensitive, wildcards taken literally)."""
        pattern = "%" + search.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        return sa.or_(sa.func.lower(cls.name).like(pattern, escape="\\"), cls.email.like(pattern, escape="\\"))

    def end_all_sessions(self) -> None:
        """Every cookie issued so far (session and remember-me) stops working."""
        self.session_version += 1

    def forget_second_factor(self) -> None:
        """Two-factor sign-in is off (its recovery codes are deleted by the service that calls this)."""
        self.totp_secret = None
        self.totp_enabled_at = None
        self.totp_last_step = None

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email} {self.role}>"


class PasswordReset(db.Model):
    """A one-time password-reset link: only its digest is stored."""

    __tablename__ = "password_resets"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_digest: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class RecoveryCode(db.Model):
    """One of a user's single-use codes for logging in without the authenticator app; only a hash is stored."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_digest: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Registration(db.Model):
    """A self-registration waiting for its email address to be confirmed. The account is made when the emailed link
    is used, so the form never has to say whether an address already has an account."""

    __tablename__ = "registrations"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), index=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    timezone: Mapped[str] = mapped_column(sa.String(64), default=DEFAULT_TIMEZONE)
    privacy_notice_version: Mapped[str | None] = mapped_column(sa.String(40))  # the version shown on the form
    token_digest: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Invitation(db.Model):
    """An admin's invitation for a mentor to join; accepted once through a one-time link."""

    __tablename__ = "invitations"
    __table_args__ = (sa.CheckConstraint(sql_in("role", Role), name="role_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), index=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    role: Mapped[str] = mapped_column(sa.String(20), default="mentor")
    token_digest: Mapped[str] = mapped_column(sa.String(64), unique=True)
    invited_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))

    invited_by: Mapped[User | None] = relationship(foreign_keys=[invited_by_id])

    def status(self, now: datetime) -> str:
        if self.accepted_at:
            return "accepted"
        if self.revoked_at:
            return "revoked"
        if self.expires_at <= now:
            return "expired"
        return "pending"
