"""The application factory: settings, extensions, blueprints, event listeners, template helpers, error pages."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import Flask, request
from flask_login import current_user
from markupsafe import Markup
from werkzeug.exceptions import SecurityError
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from portal import (
    caching,
    memo,
    models,  # noqa: F401 - every model, so that metadata (and migrations) see them all
    rules,
)
from portal.admin.views import bp as admin_bp
from portal.audit import events as audit_events
from portal.auth.services import load_user_from_session
from portal.auth.views import bp as auth_bp
from portal.auth.views import second_factor_first
from portal.cli import register_commands
from portal.config import (
    FIXED_SETTINGS,
    check_contact_email,
    check_meeting_base_url,
    check_production_safety,
    check_retention_periods,
    settings_from_env,
    trusted_hosts,
)
from portal.cvs import events as cv_events
from portal.cvs.views import bp as cvs_bp
from portal.cvs.views import reviews_bp
from portal.db import configure_sqlite, mark_read_only_requests
from portal.errors import register_error_handlers
from portal.extensions import csrf, db, limiter, login_manager, migrate
from portal.feedback import events as feedback_events
from portal.feedback.views import bp as feedback_bp
from portal.forms import MAX_ID, EmptyForm
from portal.insights.views import bp as insights_bp
from portal.interviews import events as interview_events
from portal.interviews.admin_views import bp as schedule_bp
from portal.interviews.mentor_views import bp as mentor_bp
from portal.interviews.views import bp as interviews_bp
from portal.live.views import bp as live_bp
from portal.logs import init_request_logging, use_json_logs
from portal.notifications import events as notification_events
from portal.notifications.preference_views import bp as preferences_bp
from portal.notifications.services import unread_count
from portal.notifications.views import bp as notifications_bp
from portal.pages.views import bp as pages_bp
from portal.privacy.closing_views import bp as account_closing_bp
from portal.privacy.notice_views import bp as privacy_notice_bp
from portal.privacy.views import bp as privacy_bp
from portal.retention.views import bp as retention_bp
from portal.security import apply_security_headers
from portal.storage import init_storage
from portal.text import one_line
from portal.timeutil import DAY_HINT, countdown, format_day, format_local, parse_day, to_local
from portal.waitlist import events as waitlist_events
from portal.waitlist.views import bp as waitlist_bp

DEFAULT_RATE_LIMITS = {
    "LOGIN_RATE_LIMIT": "20 per minute",  # every attempt from one address
    "LOGIN_ACCOUNT_ADDRESS_RATE_LIMIT": "5 per minute;20 per hour",  # failed attempts on one account from one address
    "LOGIN_ACCOUNT_FAILURES": "10 per hour",  # failed attempts on one account from anywhere before it is slowed
    "LOGIN_ACCOUNT_SLOWDOWN": "1 per 10 seconds",  # then: attempts on it from browsers it never logged in from
    "LOGIN_CODE_RATE_LIMIT": "5 per minute;20 per hour",  # wrong second-factor codes per account
    "REGISTER_RATE_LIMIT": "10 per hour",
    "REGISTER_ACCOUNT_RATE_LIMIT": "3 per hour",  # emails to one address from the registration form
    "RESET_RATE_LIMIT": "10 per hour",
    "RESET_ACCOUNT_RATE_LIMIT": "3 per hour",
    "BOOKING_RATE_LIMIT": "30 per hour",
    "UPLOAD_RATE_LIMIT": "20 per hour",
}


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app: environment settings, then `config` overrides (tests pass theirs here)."""
    app = Flask("portal", template_folder="../templates", static_folder="../static", instance_relative_config=True)
    instance_path = Path(app.instance_path)
    app.config.update(FIXED_SETTINGS)
    app.config.update(DEFAULT_RATE_LIMITS)
    app.config.update(settings_from_env(instance_path))
    if config:
        app.config.update(config)
    # A request body may carry the largest CV plus the form around it; anything bigger gets the 413 page.
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite") and "pool_pre_ping" not in (config or {}).get(
        "SQLALCHEMY_ENGINE_OPTIONS", {}
    ):
        # A file on this machine cannot drop a connection: checking each one before use only costs time.
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {**app.config["SQLALCHEMY_ENGINE_OPTIONS"], "pool_pre_ping": False}
    if app.config.get("MAX_CONTENT_LENGTH") is None:
        app.config["MAX_CONTENT_LENGTH"] = int(app.config["CV_MAX_BYTES"]) + 1024 * 1024
    check_production_safety(app.config)
    check_meeting_base_url(app.config)
    check_contact_email(app.config)
    check_retention_periods(app.config)
    app.config["TRUSTED_HOSTS"] = trusted_hosts(app.config)  # a forged Host header gets 400, not poisoned links
    init_storage(app)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        instance_path.mkdir(parents=True, exist_ok=True)

    configure_logging(app)
    configure_proxy(app)
    refuse_untrusted_hosts(app)
    use_bounded_ids(app)
    register_extensions(app)
    register_blueprints(app)
    connect_event_listeners()
    register_template_helpers(app)
    register_request_hooks(app)
    register_error_handlers(app)
    register_commands(app)
    return app


def configure_logging(app: Flask) -> None:
    if app.config["LOG_FORMAT"] == "json":
        use_json_logs(app)
    elif not app.debug and not app.testing:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    app.logger.setLevel(logging.INFO)
    init_request_logging(app)


def configure_proxy(app: Flask) -> None:
    """Trust X-Forwarded-* headers only from as many proxies as configured."""
    counts = {key: int(app.config[f"PROXY_FIX_X_{key.upper()}"]) for key in ("for", "proto", "host", "prefix")}
    if any(counts.values()):
        app.wsgi_app = ProxyFix(
            app.wsgi_app,
            x_for=counts["for"],
            x_proto=counts["proto"],  # type: ignore[method-assign]
            x_host=counts["host"],
            x_prefix=counts["prefix"],
        )


def refuse_untrusted_hosts(app: Flask) -> None:
    """A request for a host not in TRUSTED_HOSTS gets a plain 400 before any extension's hook (CSRF, rate limits,
    sign-in), form or page sees it; only the request log does. No link is built from its Host, nor can one be: Flask
    has no URL adapter for that request, so the error page is plain text."""

    def host_check():
        if isinstance(request.routing_exception, SecurityError):
            raise request.routing_exception

    def unknown_host(error: SecurityError):
        app.logger.warning("request refused: %s", one_line(str(error.description)))  # the Host is the caller's text
        return "Bad request: unknown host.", 400, {"Content-Type": "text/plain; charset=utf-8"}

    app.before_request(host_check)  # registered before the extensions' hooks, so it runs before them
    app.register_error_handler(SecurityError, unknown_host)


def use_bounded_ids(app: Flask) -> None:
    """`<int:...>` in routes only matches ids a database integer column can hold; bigger ones are a 404."""

    class IdConverter(IntegerConverter):
        def __init__(self, url_map, *args, **kwargs) -> None:
            kwargs.setdefault("max", MAX_ID)
            super().__init__(url_map, *args, **kwargs)

    app.url_map.converters["int"] = IdConverter


def register_extensions(app: Flask) -> None:
    db.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            configure_sqlite(db.engine)
            mark_read_only_requests(app)
    migrate.init_app(app, db, directory=str(Path(app.root_path).parent / "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Log in to see this page."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    login_manager.user_loader(load_user_from_session)


def register_blueprints(app: Flask) -> None:
    for blueprint in (
        pages_bp,
        auth_bp,
        notifications_bp,
        admin_bp,
        interviews_bp,
        mentor_bp,
        schedule_bp,
        cvs_bp,
        reviews_bp,
        feedback_bp,
        preferences_bp,
        waitlist_bp,
        live_bp,
        insights_bp,
        privacy_notice_bp,
        privacy_bp,
        retention_bp,
        account_closing_bp,
    ):
        app.register_blueprint(blueprint)


def connect_event_listeners() -> None:
    """What reacts to what (see portal.events): reminders, waitlist offers, notices and emails, the audit log."""
    for listeners in (
        interview_events,
        waitlist_events,
        notification_events,
        audit_events,
        cv_events,
        feedback_events,
    ):
        listeners.connect()


def register_template_helpers(app: Flask) -> None:
    memo.init_app(app)

    def viewer_zone() -> str:
        return current_user.timezone if current_user.is_authenticated else app.config["PORTAL_TIMEZONE"]

    @app.template_filter("local")
    def local_time(instant, with_date: bool = True, date_only: bool = False) -> str:
        return format_local(instant, memo.remembered("viewer_zone", viewer_zone), with_date, date_only)

    @app.template_filter("local_date")
    def local_date(instant) -> str:
        """The viewer's local date of an instant, as YYYY-MM-DD."""
        return to_local(instant, memo.remembered("viewer_zone", viewer_zone)).date().isoformat()

    app.add_template_filter(countdown)

    @app.template_filter("day_text")
    def day_text(day) -> str:
        """A date as UK people write it in a form: 14/12/2026 (from a date, or an ISO date a view keeps for its
        links; "" for none)."""
        if not day:
            return ""
        return format_day(parse_day(day) if isinstance(day, str) else day)

    app.add_template_global(DAY_HINT, "day_hint")

    @app.template_filter("kilobytes")
    def kilobytes(size: int) -> str:
        """A file size as people read it in a list: whole kilobytes, rounded up ("74 KB")."""
        return f"{-(-size // 1024)} KB"

    @app.template_global()
    def time_tag(instant, with_date: bool = True, date_only: bool = False) -> Markup:
        """A <time> element: the instant for machines, the viewer's local time (and date, or the date only) for
        people."""
        if instant is None:
            return Markup("")
        shown = local_time(instant, with_date, date_only)
        return Markup('<time datetime="{}">{}</time>').format(instant.isoformat(), shown)

    def button_form() -> EmptyForm:
        """A form for the layout's buttons; it never reads the request body (an error page may be answering
        a request whose body was refused)."""
        return EmptyForm(formdata=None)

    @app.context_processor
    def layout_context() -> dict[str, Any]:
        def unread() -> int:
            return memo.remembered(
                "unread_notifications", lambda: unread_count(current_user) if current_user.is_authenticated else 0
            )

        return {
            "site_name": app.config["SITE_NAME"],
            "contact_email": app.config["CONTACT_EMAIL"],
            "unread_notifications": unread,
            "logout_form": button_form,
            "rules": rules,
        }


def register_request_hooks(app: Flask) -> None:
    caching.init_app(app)
    app.before_request(second_factor_first)  # after the memo's reset: the signed-in user loaded here stays known
    app.after_request(apply_security_headers)
