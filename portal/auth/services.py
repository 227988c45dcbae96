"""Account rules: registration, login, two-factor sign-in, password reset and change, invitations."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from portal import events, rules
from portal.auth import throttle, totp
from portal.auth.models import ROLES, Invitation, PasswordReset, RecoveryCode, Registration, User
from portal.db import utcnow
from portal.errors import DomainError, PermissionDenied
from portal.extensions import db
from portal.forms import optional_id
from portal.memo import remember
from portal.notifications.models import Notification
from portal.privacy import notice
from portal.security import (
    dummy_password_hash,
    hash_password,
    new_token,
    password_problem,
    token_digest,
    verify_password,
)
from portal.statuses import Role
from portal.text import describe_characters, forbidden_characters
from portal.timeutil import DEFAULT_TIMEZONE, is_valid_timezone

INVALID_LOGIN = "Enter a correct email address and password."


class InvalidCredentials(DomainError):
    pass


class InvalidToken(DomainError):
    pass


class WrongPassword(InvalidCredentials):
    """A signed-in person gave a wrong password where it is asked again: it counts as a failed attempt."""


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == normalise_email(email)))


def _check_new_password(password: str, email: str) -> None:
    problem = password_problem(password, email=email)
    if problem:
        raise DomainError(problem, field="password")


TAKEN = "An account with this email address already exists. Log in instead."


def _check_name(name: str) -> None:
    """Forms refuse these already; the command line and stored invitations come through here too."""
    found = forbidden_characters(name)
    if found:
        raise DomainError(
            f"Remove the control characters (line breaks, tabs and invisible text-direction marks) from the name: "
            f"it holds {describe_characters(found)}.",
            field="name",
        )


def _add_user(email: str, name: str, password_hash: str, role: str, timezone: str) -> User:
    """Insert the account; raises DomainError when the address is taken, even by a request a moment ago, or when
    the name holds control characters."""
    _check_name(name)
    if find_user_by_email(email) is not None:
        raise DomainError(TAKEN, field="email")
    user = User(email=email, name=name.strip(), password_hash=password_hash, role=role, timezone=timezone)
    try:
        with db.session.begin_nested():
            db.session.add(user)
            db.session.flush()
    except sa.exc.IntegrityError as error:
        raise DomainError(TAKEN, field="email") from error
    return user


def create_user(
    email: str,
    name: str,
    password: str,
    role: str = "candidate",
    timezone: str = DEFAULT_TIMEZONE,
) -> User:
    """A new account (command line, invitations, demo data); raises DomainError when the email is taken or the
    password is refused."""
    email = normalise_email(email)
    if role not in ROLES:
        raise DomainError(f"Unknown role {role!r}.", field="role")
    if not is_valid_timezone(timezone):
        raise DomainError("Choose a time zone from the list.", field="timezone")
    _check_new_password(password, email)
    return _add_user(email, name, hash_password(password), role, timezone)


def start_registration(email: str, name: str, password: str, timezone: str) -> None:
    """Self-registration, first step: email the address a link that creates the account or, when it already has
    one, tell its owner. Either way one email is queued and the visitor sees the same page: nothing is revealed."""
    email = normalise_email(email)
    if not is_valid_timezone(timezone):
        raise DomainError("Choose a time zone from the list.", field="timezone")
    _check_new_password(password, email)
    password_hash = hash_password(password)  # on both paths, so both take as long
    existing = find_user_by_email(email)
    if existing is not None:
        current_app.logger.info("registration asked for an address that has an account: user %s", existing.id)
        events.registration_for_existing_account.send(existing)
        return
    token, digest = new_token()
    hours = current_app.config["REGISTRATION_HOURS"]
    registration = Registration(
        email=email,
        name=name.strip(),
        password_hash=password_hash,
        timezone=timezone,
        privacy_notice_version=notice.current_version(),
        token_digest=digest,
        expires_at=utcnow() + timedelta(hours=hours),
    )
    db.session.add(registration)
    db.session.flush()
    events.registration_started.send(registration, token=token, hours=hours)


def usable_registration(token: str) -> Registration:
    registration = db.session.scalar(sa.select(Registration).where(Registration.token_digest == token_digest(token)))
    if registration is None or registration.confirmed_at is not None or registration.expires_at <= utcnow():
        raise InvalidToken(
            "This link has expired or has already been used. Register again, or log in if you already have an account."
        )
    return registration


def confirm_registration(token: str) -> User:
    """Self-registration, second step: the emailed link creates the candidate account (once) with the welcome."""
    registration = usable_registration(token)
    claimed = db.session.execute(
        sa.update(Registration)
        .where(Registration.id == registration.id, Registration.confirmed_at.is_(None))
        .values(confirmed_at=utcnow())
    )
    if claimed.rowcount != 1:
        raise InvalidToken("This link has already been used. Log in with the password you chose.")
    try:
        user = _add_user(
            registration.email, registration.name, registration.password_hash, Role.CANDIDATE, registration.timezone
        )
    except DomainError as error:
        raise InvalidToken(TAKEN) from error
    notice.record_acceptance(user, "registration", registration.privacy_notice_version, registration.created_at)
    events.account_registered.send(user)
    return user


def authenticate(email: str, password: str) -> User:
    """The user with this email and password; raises InvalidCredentials with one message for every failure."""
    user = find_user_by_email(email)
    if user is None:
        verify_password(dummy_password_hash(), password)
        raise InvalidCredentials(INVALID_LOGIN)
    if not verify_password(user.password_hash, password):
        raise InvalidCredentials(INVALID_LOGIN)
    if user.closed_at is not None:  # a closed account is always inactive
        raise InvalidCredentials("This account has been closed. To reopen it, email the career services team.")
    if not user.active:
        raise InvalidCredentials("This account has been deactivated. Contact the career services team.")
    user.last_login_at = utcnow()
    return user


def note_failed_login(email: str) -> None:
    """Count a failed login on the account with this email; its owner is emailed once when failures pile up."""
    if not throttle.record_failure(email):
        return
    user = find_user_by_email(email)
    if user is not None and user.active:
        current_app.logger.warning("repeated failed logins: user %s", user.id)
        attempts, seconds = throttle.failure_threshold()
        events.login_failures_piled_up.send(user, attempts=attempts, seconds=seconds)


def request_password_reset(email: str) -> None:
    """Email a one-time reset link when an active account has this address, else an email saying why not: either
    way one email is queued, so the form's answer and the work behind it reveal nothing."""
    email = normalise_email(email)
    user = find_user_by_email(email)
    if user is None or not user.active:
        current_app.logger.info("password reset asked for an unknown or inactive address")
        events.password_reset_without_account.send(email, deactivated=user is not None)
        return
    token, digest = new_token()
    hours = current_app.config["PASSWORD_RESET_HOURS"]
    db.session.add(PasswordReset(user_id=user.id, token_digest=digest, expires_at=utcnow() + timedelta(hours=hours)))
    db.session.flush()
    events.password_reset_requested.send(user, token=token, hours=hours)


def _usable_reset(token: str) -> PasswordReset:
    reset = db.session.scalar(sa.select(PasswordReset).where(PasswordReset.token_digest == token_digest(token)))
    if reset is None or reset.used_at is not None or reset.expires_at <= utcnow() or not reset.user.active:
        raise InvalidToken("This password reset link has expired or has already been used. Ask for a new one.")
    return reset


def check_reset_token(token: str) -> User:
    return _usable_reset(token).user


def set_password(user: User, password: str) -> None:
    """Store a new password: every session and every reset link of the user not yet used stop working."""
    user.password_hash = hash_password(password)
    user.end_all_sessions()
    db.session.execute(
        sa.delete(PasswordReset).where(PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None))
    )


def reset_password(token: str, password: str) -> User:
    """Set a new password through a reset link; the link, every other link and every session end."""
    reset = _usable_reset(token)
    user = reset.user
    _check_new_password(password, user.email)
    claimed = db.session.execute(
        sa.update(PasswordReset)
        .where(PasswordReset.id == reset.id, PasswordReset.used_at.is_(None))
        .values(used_at=utcnow())
    )
    if claimed.rowcount != 1:
        raise InvalidToken("This password reset link has already been used. Ask for a new one.")
    set_password(user, password)
    return user


def change_password(user: User, current_password: str, new_password: str) -> None:
    """Change a password after checking the current one; every other session and every reset link end."""
    if not verify_password(user.password_hash, current_password):
        raise WrongPassword("Your current password is not correct.", field="current_password")
    _check_new_password(new_password, user.email)
    set_password(user, new_password)


# Two-factor sign-in ---------------------------------------------------------------------------------------------

WRONG_CODE = "Enter the 6-digit code your authenticator app shows now, or one of your recovery codes."


def _replace_recovery_codes(user: User) -> list[str]:
    """Delete the user's recovery codes and make ten new ones; returns them (shown once, stored hashed)."""
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = totp.new_recovery_codes()
    db.session.add_all(RecoveryCode(user_id=user.id, code_digest=totp.recovery_digest(user.id, code)) for code in codes)
    db.session.flush()
    return codes


def store_second_factor(user: User, secret: str, step: int | None = None) -> list[str]:
    """Turn two-factor sign-in on with this secret (kept encrypted); returns the new recovery codes."""
    user.totp_secret = totp.encrypt_secret(secret)
    user.totp_enabled_at = utcnow()
    user.totp_last_step = step
    return _replace_recovery_codes(user)


def enable_second_factor(user: User, secret: str, code: str) -> list[str]:
    """Confirm enrolment with a code from the app; returns the recovery codes. Raises DomainError (field `code`)."""
    if user.has_second_factor:
        raise DomainError("Two-factor sign-in is already on.")
    step = totp.matching_step(secret, totp.normalise_code(code))
    if step is None:
        raise DomainError(
            "Enter the 6-digit code your authenticator app shows now. If it is refused, check that the time on your "
            "phone is set automatically.",
            field="code",
        )
    current_app.logger.info("second factor turned on: user %s", user.id)
    return store_second_factor(user, secret, step)


def check_second_factor(user: User, code: str) -> str:
    """Accept a code from the app (each at most once) or an unused recovery code (used up now); returns "app" or
    "recovery". Raises DomainError (field `code`) otherwise."""
    typed = totp.normalise_code(code)
    if len(typed) == totp.DIGITS and typed.isdigit():
        try:
            step = totp.matching_step(totp.decrypt_secret(user.totp_secret or ""), typed)
        except totp.UnreadableSecret:
            current_app.logger.error("second factor secret unreadable (SECRET_KEY changed?): user %s", user.id)
            raise DomainError(
                "Your authenticator app cannot be checked at the moment. Use one of your recovery codes, or ask the "
                "career services team to reset your two-factor sign-in.",
                field="code",
            ) from None
        if step is None:
            raise DomainError(WRONG_CODE, field="code")
        claimed = db.session.execute(
            sa.update(User)
            .where(User.id == user.id, sa.or_(User.totp_last_step.is_(None), User.totp_last_step < step))
            .values(totp_last_step=step)
        )
        if claimed.rowcount != 1:
            raise DomainError("This code has already been used. Wait for the next one, then enter it.", field="code")
        return "app"
    used = db.session.execute(
        sa.update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_digest == totp.recovery_digest(user.id, typed),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=utcnow())
    )
    if used.rowcount != 1:
        raise DomainError(WRONG_CODE, field="code")
    current_app.logger.info("recovery code used: user %s", user.id)
    return "recovery"


def recovery_codes_left(user: User) -> int:
    return (
        db.session.scalar(
            sa.select(sa.func.count(RecoveryCode.id)).where(
                RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
            )
        )
        or 0
    )


def check_password_again(user: User, password: str) -> None:
    """Before a change that needs the account's owner: the password again, or WrongPassword on the password field."""
    if not verify_password(user.password_hash, password):
        raise WrongPassword("Your password is not correct.", field="password")


def regenerate_recovery_codes(user: User, password: str) -> list[str]:
    """New recovery codes after the password is given again (the old ones stop working); returns them."""
    if not user.has_second_factor:
        raise DomainError("Two-factor sign-in is off: there are no recovery codes to replace.")
    check_password_again(user, password)
    current_app.logger.info("recovery codes replaced: user %s", user.id)
    return _replace_recovery_codes(user)


def turn_off_second_factor(user: User, password: str) -> None:
    """Candidates only, after the password is given again: the secret and recovery codes are deleted."""
    if not rules.can_turn_off_second_factor(user):
        raise PermissionDenied("Your role needs two-factor sign-in: it cannot be turned off.")
    check_password_again(user, password)
    user.forget_second_factor()
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    current_app.logger.info("second factor turned off: user %s", user.id)


def reset_second_factor(user: User, by: User) -> None:
    """An admin clears someone's second factor (a lost phone): every session of theirs ends and they are emailed.
    Admins, mentors and candidates alike set it up again (staff are sent to it at their next login)."""
    if not rules.can_reset_second_factor(by, user):
        raise PermissionDenied("You cannot reset this person's two-factor sign-in.")
    user.forget_second_factor()
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    user.end_all_sessions()
    events.second_factor_reset.send(user, by=by)


def user_waiting_for_second_step(identity: str) -> User | None:
    """The user behind a login that passed the password step (`id:session_version`), if still current."""
    user_text, _, version = identity.partition(":")
    user_id = optional_id(user_text)
    if user_id is None or not (version.isascii() and version.isdigit()):
        return None
    user = db.session.get(User, user_id)
    if user is None or not user.active or not user.has_second_factor or user.session_version != int(version):
        return None
    return user


def set_timezone(user: User, timezone: str) -> None:
    """Show times to a person in another zone from now on. Raises DomainError for a name not in the list."""
    if not is_valid_timezone(timezone):
        raise DomainError("Choose a time zone from the list.", field="timezone")
    user.timezone = timezone


def update_profile(user: User, name: str, timezone: str, focus_areas: str | None = None) -> None:
    """Save a person's name and time zone, and a mentor's focus areas (None leaves them as they are)."""
    set_timezone(user, timezone)
    user.name = name.strip()
    if focus_areas is not None:
        user.focus_areas = " ".join(focus_areas.split())


def invite_user(invited_by: User, email: str, name: str, role: str = "mentor") -> Invitation:
    """Invite someone to join with a role; emails a one-time link valid for INVITATION_DAYS."""
    email = normalise_email(email)
    if role not in ROLES:
        raise DomainError("Choose a role from the list.", field="role")
    if find_user_by_email(email) is not None:
        raise DomainError("Somebody already has an account with this email address.", field="email")
    now = utcnow()
    pending = db.session.scalars(
        sa.select(Invitation).where(
            Invitation.email == email, Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None)
        )
    ).all()
    for earlier in pending:
        earlier.revoked_at = now
    token, digest = new_token()
    days = current_app.config["INVITATION_DAYS"]
    invitation = Invitation(
        email=email,
        name=name.strip(),
        role=role,
        token_digest=digest,
        invited_by_id=invited_by.id,
        expires_at=now + timedelta(days=days),
    )
    db.session.add(invitation)
    db.session.flush()
    events.invitation_sent.send(invitation, token=token, days=days, by=invited_by)
    return invitation


def usable_invitation(token: str) -> Invitation:
    invitation = db.session.scalar(sa.select(Invitation).where(Invitation.token_digest == token_digest(token)))
    if invitation is None or invitation.status(utcnow()) != "pending":
        raise InvalidToken(
            "This invitation link has expired, was withdrawn or has already been used. "
            "Ask the career services team for a new one."
        )
    return invitation


def accept_invitation(token: str, password: str, timezone: str) -> User:
    """Create the invited account with the chosen password; the link works once."""
    invitation = usable_invitation(token)
    claimed = db.session.execute(
        sa.update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.accepted_at.is_(None))
        .values(accepted_at=utcnow())
    )
    if claimed.rowcount != 1:
        raise InvalidToken("This invitation has already been used.")
    user = create_user(invitation.email, invitation.name, password, invitation.role, timezone)
    notice.record_acceptance(user, "invitation")
    invitation.user_id = user.id
    return user


# Built once: it runs on every signed-in request, and SQLAlchemy then reuses its compiled form as it is.
_USER_WITH_UNREAD = sa.select(
    User,
    sa.select(sa.func.count(Notification.id))
    .where(Notification.user_id == User.id, Notification.read_at.is_(None))
    .scalar_subquery(),
).where(User.id == sa.bindparam("user_id"))


def load_user_from_session(identity: str) -> User | None:
    """Flask-Login loader: the cookie's id and session version must match an active user.

    The same query counts the user's unread notifications, which every page's navigation shows.
    """
    user_text, _, version = identity.partition(":")
    user_id = optional_id(user_text)
    if user_id is None or not (version.isascii() and version.isdigit()):
        return None
    row = db.session.execute(_USER_WITH_UNREAD, {"user_id": user_id}).first()
    if row is None:
        return None
    user, unread_count = row
    if not user.active or user.session_version != int(version):
        return None
    remember("unread_notifications", unread_count)
    return user
