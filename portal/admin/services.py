"""Admin operations on people, invitations, the booking policy and interview types; each one audited."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import joinedload

from portal import events
from portal.audit.services import record
from portal.auth import services as auth_services
from portal.auth.models import ROLES, Invitation, User
from portal.auth.services import invite_user
from portal.cvs.models import CVDocument, CVReview
from portal.db import lock, utcnow
from portal.errors import DomainError
from portal.extensions import db
from portal.feedback.models import SessionFeedback
from portal.interviews.availability import cancel_slot, remove_slot
from portal.interviews.meeting import announce_changes, meeting_of, sessions_to_come, type_meeting
from portal.interviews.models import Booking, BookingPolicy, InterviewType, Slot
from portal.interviews.services import cancel_booking, get_policy
from portal.privacy import notice
from portal.security import new_token
from portal.statuses import BookingStatus, FeedbackStatus, Role, SlotStatus

USER_SORTS = {"name": User.name, "email": User.email, "joined": User.created_at, "role": User.role}
USER_STATUSES = ("active", "deactivated")
DEACTIVATION = "deactivation"  # cancellations made while closing an account are in its own audit entry


def users_query(
    search: str = "", role: str | None = None, status: str | None = None, sort: str = "name", descending: bool = False
) -> sa.Select:
    """Users matching a name or email fragment, a role and a status, in a stable order."""
    statement = sa.select(User)
    if search.strip():
        statement = statement.where(User.matching(search))
    if role in ROLES:
        statement = statement.where(User.role == role)
    if status in USER_STATUSES:
        statement = statement.where(User.active.is_(status == "active"))
    column = USER_SORTS.get(sort, User.name)
    return statement.order_by(column.desc() if descending else column.asc(), User.id)


def recent_invitations_query(limit: int = 20) -> sa.Select:
    return sa.select(Invitation).order_by(Invitation.created_at.desc(), Invitation.id.desc()).limit(limit)


def user_activity(user: User) -> dict:
    """What the user page shows: bookings (as candidate or as mentor), CVs, reviews, feedback, reliability."""
    bookings = (
        db.session.scalars(
            sa.select(Booking)
            .join(Booking.slot)
            .options(
                joinedload(Booking.slot).joinedload(Slot.mentor),
                joinedload(Booking.slot).joinedload(Slot.interview_type),
                joinedload(Booking.candidate),
            )
            .where(sa.or_(Booking.candidate_id == user.id, Slot.mentor_id == user.id))
            .order_by(Slot.starts_at.desc())
            .limit(100)
        )
        .unique()
        .all()
    )
    documents = db.session.scalars(
        sa.select(CVDocument).where(CVDocument.candidate_id == user.id).order_by(CVDocument.created_at.desc())
    ).all()
    reviews = (
        db.session.scalars(
            sa.select(CVReview)
            .options(joinedload(CVReview.candidate), joinedload(CVReview.reviewer))
            .where(sa.or_(CVReview.candidate_id == user.id, CVReview.reviewer_id == user.id))
            .order_by(CVReview.created_at.desc())
            .limit(100)
        )
        .unique()
        .all()
    )
    feedback = db.session.scalars(
        sa.select(SessionFeedback)
        .join(SessionFeedback.booking)
        .where(
            sa.or_(Booking.candidate_id == user.id, SessionFeedback.mentor_id == user.id),
            SessionFeedback.status == FeedbackStatus.PUBLISHED,
        )
        .order_by(SessionFeedback.published_at.desc())
        .limit(100)
    ).all()
    counts = db.session.execute(
        sa.select(
            sa.func.count(Booking.id).filter(Booking.status == BookingStatus.NO_SHOW),
            sa.func.count(Booking.id).filter(Booking.late_cancellation.is_(True)),
        ).where(Booking.candidate_id == user.id)
    ).one()
    return {
        "bookings": bookings,
        "documents": documents,
        "reviews": reviews,
        "feedback": feedback,
        "no_shows": counts[0],
        "late_cancellations": counts[1],
    }


# Roles and status -----------------------------------------------------------------------------------------


def _lock_admins() -> int:
    """Lock the active admins' rows (PostgreSQL; SQLite runs BEGIN IMMEDIATE) and count them."""
    statement = sa.select(User.id).where(User.role == Role.ADMIN, User.active.is_(True))
    if db.session.get_bind().dialect.name == "postgresql":
        statement = statement.with_for_update()
    return len(db.session.scalars(statement).all())


def is_last_active_admin(user: User) -> bool:
    """Whether the user is the only active admin (the admins' rows stay locked to the end of the transaction)."""
    return user.is_admin and user.active and _lock_admins() <= 1


def _guard_last_admin(user: User, becomes_admin: bool, stays_active: bool) -> None:
    if not (becomes_admin and stays_active) and is_last_active_admin(user):
        raise DomainError("This is the only active admin. Make someone else an admin first.", field="role")


def change_role(user: User, role: str, by: User) -> None:
    if role not in ROLES:
        raise DomainError("Choose a role from the list.", field="role")
    lock(user)  # serialise with the user's own actions that depend on their role (publishing a CV review)
    if user.erased_at is not None:
        raise DomainError("This account has been erased: its role cannot change.", field="role")
    if role == user.role:
        raise DomainError(f"{user.name} is already a {role}.", field="role")
    _guard_last_admin(user, becomes_admin=role == Role.ADMIN, stays_active=True)
    if user.is_mentor and role != Role.MENTOR:
        busy = db.session.scalar(
            sa.select(sa.func.count(Slot.id)).where(
                Slot.mentor_id == user.id, Slot.status == SlotStatus.OPEN, Slot.starts_at > utcnow()
            )
        )
        if busy:
            raise DomainError(
                f"{user.name} still has {busy} open future slot{'s' if busy != 1 else ''}. Cancel them "
                "first (Schedule, then Cancel a date range), so that booked candidates are told.",
                field="role",
            )
    before = user.role
    user.role = role
    user.end_all_sessions()  # the new role's pages and menus apply from the next login
    record(
        by,
        "user.role_changed",
        "user",
        user.id,
        f"{user.name}: role {before} → {role}",
        {"role": before},
        {"role": role},
    )
    events.role_changed.send(user, before=before, by=by)


def future_bookings(user: User) -> list[Booking]:
    """Live future bookings the user is part of, as candidate or as mentor."""
    return list(
        db.session.scalars(
            sa.select(Booking)
            .join(Booking.slot)
            .options(
                joinedload(Booking.slot).joinedload(Slot.mentor),
                joinedload(Booking.slot).joinedload(Slot.interview_type),
                joinedload(Booking.candidate),
            )
            .where(
                Booking.status == BookingStatus.BOOKED,
                Slot.starts_at > utcnow(),
                sa.or_(Booking.candidate_id == user.id, Slot.mentor_id == user.id),
            )
            .order_by(Slot.starts_at)
        ).unique()
    )


def withdraw_from_future_sessions(user: User, by: User, reason: str, within: str) -> list[Booking]:
    """Cancel the user's future bookings (the other side is told, with `reason`) and, for a mentor, withdraw their
    open future slots; returns the cancelled bookings. The caller (`within`) records its own audit entry; the
    cancellation cutoff does not hold an account that leaves."""
    bookings = future_bookings(user)
    for booking in bookings:
        if booking.candidate_id == user.id:
            cancel_booking(booking, by, reason, within=within)
        else:
            cancel_slot(booking.slot, reason, by, within=within)
    if user.is_mentor:
        for slot in db.session.scalars(
            sa.select(Slot).where(Slot.mentor_id == user.id, Slot.status == SlotStatus.OPEN, Slot.starts_at > utcnow())
        ).all():
            remove_slot(slot, by, within=within)
    return bookings


def deactivate(user: User, by: User) -> int:
    """End every session of the user at once and cancel their future bookings (with notices) and, for a mentor,
    withdraw their open slots (waitlist offers on them go back in line); returns how many bookings were cancelled.
    """
    lock(user)
    if not user.active:
        raise DomainError(f"{user.name} is already deactivated.")
    _guard_last_admin(user, becomes_admin=user.is_admin, stays_active=False)
    bookings = withdraw_from_future_sessions(
        user, by, "The account of a participant was closed by the career services team.", within=DEACTIVATION
    )
    user.active = False
    user.end_all_sessions()
    record(
        by,
        "user.deactivated",
        "user",
        user.id,
        f"{user.name} deactivated; {len(bookings)} future booking(s) cancelled",
        {"active": True},
        {"active": False, "cancelled_bookings": [b.id for b in bookings]},
    )
    events.account_deactivated.send(user, by=by)
    return len(bookings)


def reactivate(user: User, by: User) -> None:
    lock(user)  # an erasure or a closing at the same moment is seen here, not overwritten
    if user.active:
        raise DomainError(f"{user.name} is already active.")
    if user.closed_at is not None:  # erasure closes the account first
        raise DomainError("This account was closed by its owner: reopen it instead (erased accounts stay closed).")
    user.active = True
    notice.ask_again_if_behind(user)
    record(by, "user.reactivated", "user", user.id, f"{user.name} reactivated", {"active": False}, {"active": True})


def reset_second_factor(user: User, by: User) -> None:
    """Clear someone's two-factor sign-in (a lost phone); they are logged out everywhere and emailed."""
    auth_services.reset_second_factor(user, by)
    record(
        by,
        "user.second_factor_reset",
        "user",
        user.id,
        f"{user.name}: two-factor sign-in reset",
        {"second_factor": True},
        {"second_factor": False},
    )


# Invitations ---------------------------------------------------------------------------------------------


def invite(by: User, email: str, name: str, role: str = Role.MENTOR) -> Invitation:
    invitation = invite_user(by, email, name, role)
    record(
        by,
        "invitation.sent",
        "invitation",
        invitation.id,
        f"Invited {invitation.name} ({invitation.email}) as {role}",
        None,
        {"email": invitation.email, "role": role},
    )
    return invitation


def resend_invitation(invitation: Invitation, by: User) -> Invitation:
    """A new link (the old one stops working) valid for another INVITATION_DAYS."""
    if invitation.accepted_at is not None:
        raise DomainError("This invitation has already been accepted.")
    token, digest = new_token()
    days = current_app.config["INVITATION_DAYS"]
    before = {"expires_at": invitation.expires_at, "revoked_at": invitation.revoked_at}
    invitation.token_digest = digest
    invitation.revoked_at = None
    invitation.expires_at = utcnow() + timedelta(days=days)
    events.invitation_sent.send(invitation, token=token, days=days, by=by)
    record(
        by,
        "invitation.resent",
        "invitation",
        invitation.id,
        f"Invitation to {invitation.email} sent again",
        before,
        {"expires_at": invitation.expires_at, "revoked_at": None},
    )
    return invitation


def revoke_invitation(invitation: Invitation, by: User) -> None:
    if invitation.accepted_at is not None:
        raise DomainError("This invitation has already been accepted.")
    if invitation.revoked_at is not None:
        raise DomainError("This invitation has already been revoked.")
    invitation.revoked_at = utcnow()
    record(
        by,
        "invitation.revoked",
        "invitation",
        invitation.id,
        f"Invitation to {invitation.email} revoked",
        {"revoked_at": None},
        {"revoked_at": invitation.revoked_at},
    )


# Booking policy and interview types -------------------------------------------------------------------------

POLICY_LIMITS = {
    "min_notice_hours": (0, 168),
    "horizon_days": (1, 365),
    "max_upcoming": (1, 20),
    "cancel_cutoff_hours": (0, 168),
    "max_reschedules": (0, 10),
}


def update_policy(values: dict[str, int], by: User) -> BookingPolicy:
    """Change the booking rules for new actions; every value is checked against its range."""
    for name, (low, high) in POLICY_LIMITS.items():
        value = values.get(name)
        if not isinstance(value, int) or not low <= value <= high:
            raise DomainError(f"Enter a whole number from {low} to {high}.", field=name)
    policy = db.session.get(BookingPolicy, 1)
    if policy is None:
        policy = BookingPolicy.with_defaults()
        db.session.add(policy)
    before = {name: getattr(policy, name) for name in POLICY_LIMITS}
    after = {name: values[name] for name in POLICY_LIMITS}
    for name, value in after.items():
        setattr(policy, name, value)
    changed = {name: after[name] for name in after if before[name] != after[name]}
    record(
        by,
        "policy.changed",
        "booking_policy",
        1,
        "Booking policy: " + (", ".join(f"{k} {before[k]} → {v}" for k, v in changed.items()) or "no change"),
        before,
        after,
    )
    db.session.flush()
    return policy


def save_interview_type(
    interview_type: InterviewType | None, values: dict, by: User
) -> tuple[InterviewType, list[Booking]]:
    """Create or change an interview type. Booked sessions still to come that follow its way of meeting or its
    place and now happen differently are returned, and their candidates told (`meeting_changed`)."""
    name = (values.get("name") or "").strip()
    duration = values.get("duration_minutes")
    if not name:
        raise DomainError("Enter a name.", field="name")
    if not isinstance(duration, int) or not 15 <= duration <= 240:
        raise DomainError("The duration must be from 15 to 240 minutes.", field="duration_minutes")
    clash = db.session.scalar(sa.select(InterviewType.id).where(sa.func.lower(InterviewType.name) == name.lower()))
    if clash is not None and (interview_type is None or clash != interview_type.id):
        raise DomainError("Another interview type already has this name.", field="name")
    fields = {
        "name": name,
        "duration_minutes": duration,
        "description": (values.get("description") or "").strip(),
        "active": bool(values.get("active")),
        **type_meeting(values.get("meeting_mode"), values.get("place"), values.get("preparation")),
    }
    if interview_type is None:
        interview_type = InterviewType(**fields)
        db.session.add(interview_type)
        db.session.flush()
        record(
            by,
            "interview_type.created",
            "interview_type",
            interview_type.id,
            f"Interview type “{name}” created",
            None,
            fields,
        )
        return interview_type, []
    lock(interview_type)
    sessions = sessions_to_come(Slot.interview_type_id == interview_type.id)
    meetings_before = {booking.id: meeting_of(booking) for booking in sessions}
    before = {key: getattr(interview_type, key) for key in fields}
    for key, value in fields.items():
        setattr(interview_type, key, value)
    record(
        by,
        "interview_type.changed",
        "interview_type",
        interview_type.id,
        f"Interview type “{name}” changed",
        before,
        fields,
    )
    return interview_type, announce_changes(interview_type, sessions, meetings_before, by)


def policy_values() -> dict[str, int]:
    policy = get_policy()
    return {name: getattr(policy, name) for name in POLICY_LIMITS}
