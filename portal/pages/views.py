"""Public pages and the health check."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, jsonify, render_template

from portal.extensions import db
from portal.pages import services

bp = Blueprint("pages", __name__)


@bp.route("/")
def home():
    return render_template("pages/home.html", offer=services.page("offer"), meta=services.page_meta()["home"])


@bp.route("/guide")
def guide():
    return render_template("pages/article.html", page=services.page("guide"), show_reading_time=True)


@bp.route("/faq")
def faq():
    return render_template(
        "pages/faq.html",
        items=services.faq_items(),
        meta=services.faq_meta(),
        structured_data=services.faq_structured_data(),
    )


@bp.route("/privacy")
def privacy():
    return render_template("pages/article.html", page=services.page("privacy"))


@bp.route("/accessibility")
def accessibility():
    return render_template("pages/article.html", page=services.page("accessibility"))


@bp.route("/healthz")
def healthz():
    try:
        db.session.execute(sa.select(1))
    except sa.exc.SQLAlchemyError:
        db.session.rollback()
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", database="ok")
