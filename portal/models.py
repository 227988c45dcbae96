"""Every model, imported in one place so that metadata (and migrations) see them all."""

from portal.audit.models import AuditEvent
from portal.auth.models import Invitation, PasswordReset, RecoveryCode, Registration, User
from portal.cvs.models import CVDocument, CVReview
from portal.feedback.models import FeedbackRevision, SessionFeedback, SessionRating
from portal.insights.models import (
    ArticleViews,
    InsightArticle,
    InsightRevision,
    InsightTag,
    SavedArticle,
    SearchDocument,
)
from portal.interviews.models import (
    Booking,
    BookingPolicy,
    InterviewType,
    MeetingLink,
    Reminder,
    Slot,
    SlotSeries,
)
from portal.live.models import LiveRegistration, LiveReminder, LiveSession
from portal.mail import OutboxEmail
from portal.notifications.models import Notification, NotificationPreference
from portal.pages.models import PageRevision
from portal.privacy.models import DataExport, PrivacyConsent, PrivacyNoticeVersion
from portal.retention.models import RetentionRun
from portal.waitlist.models import WaitlistEntry

__all__ = [
    "ArticleViews",
    "InsightArticle",
    "InsightRevision",
    "InsightTag",
    "SavedArticle",
    "SearchDocument",
    "AuditEvent",
    "Booking",
    "DataExport",
    "BookingPolicy",
    "CVDocument",
    "CVReview",
    "FeedbackRevision",
    "Invitation",
    "InterviewType",
    "LiveRegistration",
    "LiveReminder",
    "LiveSession",
    "MeetingLink",
    "Notification",
    "NotificationPreference",
    "OutboxEmail",
    "PageRevision",
    "PrivacyConsent",
    "PrivacyNoticeVersion",
    "PasswordReset",
    "RecoveryCode",
    "Registration",
    "Reminder",
    "RetentionRun",
    "SessionFeedback",
    "SessionRating",
    "Slot",
    "SlotSeries",
    "User",
    "WaitlistEntry",
]
