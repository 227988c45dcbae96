"""What happened, for whoever has to react to it.

A service makes a change, then sends one of these signals (blinker, synchronous): the receivers run inside the same
transaction, so the change and everything it causes (reminders, waitlist offers, notices, emails, the audit log)
commit or roll back together. Packages low in the layers send; packages that react subscribe in their `events.py`,
connected once by the application factory. The sender is the changed object; keyword arguments say the rest.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

# Accounts ------------------------------------------------------------------------------------------------
registration_started = _signals.signal("registration-started")  # Registration; token, hours
registration_for_existing_account = _signals.signal("registration-for-existing-account")  # User
account_registered = _signals.signal("account-registered")  # User
password_reset_requested = _signals.signal("password-reset-requested")  # User; token, hours
password_reset_without_account = _signals.signal("password-reset-without-account")  # str (address); deactivated
invitation_sent = _signals.signal("invitation-sent")  # Invitation; token, days, by
second_factor_reset = _signals.signal("second-factor-reset")  # User; by (the admin)
login_failures_piled_up = _signals.signal("login-failures-piled-up")  # User; attempts, seconds (once per window)
# An admin changed someone's role or closed their account: work they held in their old role goes back to others.
role_changed = _signals.signal("role-changed")  # User (role already changed); before (the old role), by
account_deactivated = _signals.signal("account-deactivated")  # User (already inactive); by

# Availability ------------------------------------------------------------------------------------------------
slots_published = _signals.signal("slots-published")  # list[Slot]; mentor, by
slot_changed = _signals.signal("slot-changed")  # Slot; by, before (dict of the old values)
slot_withdrawn = _signals.signal("slot-withdrawn")  # Slot; by, reason, booking (the one it cancelled, or None)
slot_freed = _signals.signal("slot-freed")  # Slot: open again for anyone (a booking cancelled or moved, a hold ended)

# Bookings ------------------------------------------------------------------------------------------------------
booking_made = _signals.signal("booking-made")  # Booking; by, from_waitlist
booking_moved = _signals.signal("booking-moved")  # Booking; by, old_slot, overridden
booking_cancelled = _signals.signal("booking-cancelled")  # Booking; by, overridden, slot_withdrawn
outcome_recorded = _signals.signal("outcome-recorded")  # Booking; by
# Where sessions still to come happen changed: a mentor's own meeting link (sender: the mentor) or an interview type's
# way of meeting or place (sender: the type). `bookings`: the booked sessions whose link, number or place changed.
meeting_changed = _signals.signal("meeting-changed")  # User or InterviewType; bookings, by

# Waitlist ------------------------------------------------------------------------------------------------------
hold_offered = _signals.signal("hold-offered")  # Booking (a hold); entry, minutes
hold_ended = _signals.signal("hold-ended")  # Booking (a hold); entry, why ("expired", "declined", "left", "withdrawn")

# Feedback and CV reviews ------------------------------------------------------------------------------------------
feedback_published = _signals.signal("feedback-published")  # SessionFeedback; booking, mentor, edited
review_assigned = _signals.signal("review-assigned")  # CVReview; mentor, by
review_published = _signals.signal("review-published")  # CVReview; by
