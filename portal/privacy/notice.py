"""Versions of the privacy notice, and who accepted which.

The notice shipped with the code carries the version in `portal/pages/content/meta.toml`; an admin who saves a
material change marks it as a new version (its label is the day it was published). Everyone who registers records
the version they accepted; when a newer version is published, every account is flagged (`privacy_ack_due`) and asked
once, on every page until they do, to read what changed and acknowledge it. The flag lives on the user row, which
every signed-in request loads anyway, so asking costs no query.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from portal.audit.services import record
from portal.auth.models import User
from portal.db import lock, utcnow
from portal.errors import DomainError
from portal.extensions import db
from portal.pages.services import page_meta
from portal.privacy.models import PrivacyConsent, PrivacyNoticeVersion
from portal.text import one_line
from portal.timeutil import DEFAULT_TIMEZONE, to_local


def shipped_version() -> str:
    return page_meta()["privacy"]["notice_version"]


def current_version() -> str:
    """The version people accept now: the newest one an admin published, else the one shipped with the code."""
    newest = sa.select(PrivacyNoticeVersion.label).order_by(PrivacyNoticeVersion.id.desc()).limit(1)
    return db.session.scalar(newest) or shipped_version()


def versions_after(label: str | None) -> list[PrivacyNoticeVersion]:
    """The published versions newer than `label` (all of them when the person accepted the shipped or no version),
    newest first: what changed since they last read the notice."""
    known = sa.select(PrivacyNoticeVersion.id).where(PrivacyNoticeVersion.label == label)
    newer = sa.or_(PrivacyNoticeVersion.id > known.scalar_subquery(), ~known.exists())
    return list(
        db.session.scalars(
            sa.select(PrivacyNoticeVersion).where(newer).order_by(PrivacyNoticeVersion.id.desc()).limit(10)
        )
    )


def record_acceptance(user: User, how: str, version: str | None = None, at: datetime | None = None) -> None:
    """`user` accepted `version` (the current one unless given) at `at` (now unless given)."""
    current = current_version()
    version = version or current
    at = at or utcnow()
    if user.privacy_accepted_at is None:
        user.privacy_accepted_at = at
    user.privacy_notice_version = version
    user.privacy_ack_due = version != current
    db.session.add(PrivacyConsent(user_id=user.id, notice_version=version, how=how, created_at=at))


def ask_again_if_behind(user: User) -> None:
    """For an account coming back (reopened, reactivated): versions published while it was inactive flagged nobody
    there, so ask now if the version it accepted is not the current one."""
    user.privacy_ack_due = user.privacy_notice_version != current_version()


def acknowledge(user: User, version: str) -> None:
    """`user` has read `version`, the one they were shown.

    The user's row is locked first: a version being published at the same moment either waits for this to commit
    and then asks again, or has already flagged the row, and the newest version, read after the lock, is not
    `version` any more, so the acknowledgement is refused and the page shows the newer one."""
    lock(user)
    if version != current_version():
        raise DomainError("The privacy notice has changed again since this page was opened. Read the newest version.")
    user.privacy_notice_version = version
    user.privacy_ack_due = False
    db.session.add(PrivacyConsent(user_id=user.id, notice_version=version, how="acknowledged"))


def publish_version(summary: str, by: User, page_revision_id: int | None) -> PrivacyNoticeVersion:
    """Make the notice as just saved a new version that everyone is asked to acknowledge. Two admins publishing at
    the same moment may pick the same label: the unique label lets one through and tells the other."""
    summary = one_line(summary or "")
    if not summary:
        raise DomainError("Say in a sentence what changed: people see it when they next sign in.", field="summary")
    base = to_local(utcnow(), DEFAULT_TIMEZONE).date().isoformat()
    taken = set(
        db.session.scalars(sa.select(PrivacyNoticeVersion.label).where(PrivacyNoticeVersion.label.like(f"{base}%")))
    )
    label, number = base, 2
    while label in taken or label == shipped_version():
        label, number = f"{base}.{number}", number + 1
    version = PrivacyNoticeVersion(
        label=label, summary=summary, page_revision_id=page_revision_id, published_by_id=by.id
    )
    try:
        with db.session.begin_nested():
            db.session.add(version)
    except sa.exc.IntegrityError as error:
        raise DomainError(
            "Another admin published a version of the notice at the same moment. Reload the page to see it.",
            field="summary",
        ) from error
    asked = db.session.execute(
        sa.update(User)
        .where(User.active.is_(True))
        .values(privacy_ack_due=True)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.expire(by, ["privacy_ack_due"])
    record(
        by,
        "privacy.notice_published",
        "privacy_notice",
        label,
        f"Privacy notice version {label} published; {asked} active account(s) asked to acknowledge it",
        None,
        {"label": label, "summary": version.summary},
    )
    return version
