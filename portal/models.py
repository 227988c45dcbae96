"""Every model, imported in one place so that metadata and migrations see them all."""

from portal.auth.models import Invitation, PasswordReset, User
from portal.mail import OutboxEmail
from portal.notifications.models import Notification
from portal.notifications.preferences import NotificationPreference

__all__ = ["Invitation", "Notification", "NotificationPreference", "OutboxEmail", "PasswordReset", "User"]
from portal.interviews.models import Booking, BookingPolicy, InterviewType, Slot, SlotSeries  # noqa: E402
from portal.interviews.reminders import Reminder  # noqa: E402

__all__ += ["Booking", "BookingPolicy", "InterviewType", "Reminder", "Slot", "SlotSeries"]
from portal.cvs.models import CVDocument, CVReview  # noqa: E402

__all__ += ["CVDocument", "CVReview"]
from portal.feedback.models import FeedbackRevision, SessionFeedback, SessionRating  # noqa: E402

__all__ += ["FeedbackRevision", "SessionFeedback", "SessionRating"]
from portal.admin.models import AuditEvent, PageRevision  # noqa: E402
from portal.waitlist.models import WaitlistEntry  # noqa: E402

__all__ += ["AuditEvent", "PageRevision", "WaitlistEntry"]
