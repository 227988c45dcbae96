"""Public pages, the health check and the readiness check."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, current_app, jsonify, render_template
from flask_login import current_user

from portal import dashboards
from portal.caching import public_page
from portal.db import utcnow
from portal.extensions import db
from portal.insights import services as insight_services
from portal.interviews.services import get_policy
from portal.pages import services
from portal.readiness import readiness

bp = Blueprint("pages", __name__)


def _public(slugs: tuple[str, ...], render, also: tuple[str, ...] = ()):
    """A public page made of these content pages (and `also`, versions of anything else it shows); `render` is
    called only when the page must be sent in full."""
    if not current_user.is_authenticated:
        services.use_public_revisions()
    parts, changed_at = services.made_of(*slugs)
    return public_page((*parts, *also), changed_at, render)


@bp.route("/")
def home():
    if current_user.is_authenticated:
        return workspace()

    def render() -> str:
        mentors, mentor_count = services.home_mentors()
        return render_template(
            "pages/home.html",
            offer=services.page("offer"),
            meta=services.page_meta()["home"],
            mentors=mentors,
            mentor_count=mentor_count,
        )

    return _public(("offer",), render, also=(services.mentors_version(),))


def workspace():
    """A signed-in person's home: their own dashboard."""
    now = utcnow()
    if current_user.is_admin:
        return render_template("pages/admin_home.html", home=dashboards.admin_home(current_user, now), now=now)
    if current_user.is_mentor:
        return render_template("pages/mentor_home.html", home=dashboards.mentor_home(current_user, now), now=now)
    return render_template(
        "pages/candidate_home.html",
        home=dashboards.candidate_home(current_user, now),
        policy=get_policy(),
        new_articles=insight_services.new_articles_for(current_user, now),
        now=now,
    )


@bp.route("/guide")
def guide():
    return _public(
        ("guide",),
        lambda: render_template(
            "pages/article.html", page=services.page("guide"), show_reading_time=True, show_contents=True
        ),
    )


@bp.route("/faq")
def faq():
    return _public(
        ("faq",),
        lambda: render_template(
            "pages/faq.html",
            sections=services.faq_sections(services.faq_items()),
            meta=services.faq_meta(),
            structured_data=services.faq_structured_data(),
        ),
    )


@bp.route("/privacy")
def privacy():
    return _public(("privacy",), lambda: render_template("pages/article.html", page=services.page("privacy")))


@bp.route("/accessibility")
def accessibility():
    return _public(
        ("accessibility",), lambda: render_template("pages/article.html", page=services.page("accessibility"))
    )


@bp.route("/healthz")
def healthz():
    try:
        db.session.execute(sa.select(1))
    except sa.exc.SQLAlchemyError:
        db.session.rollback()
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", database="ok")


@bp.route("/readyz")
def readyz():
    """Readiness for a load balancer (`/healthz` is liveness): 200 when every dependency answers, else 503."""
    results = readiness(current_app._get_current_object())
    failed = [name for name, result in results.items() if result != "ok"]
    response = jsonify(status="unavailable" if failed else "ok", failed=failed, **results)
    response.status_code = 503 if failed else 200
    response.headers["Cache-Control"] = "no-store"
    return response
