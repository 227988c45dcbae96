"""Demo CVs for `flask seed-demo`: two versions of one candidate's CV, one reviewed and one waiting."""

from __future__ import annotations

import io
from datetime import timedelta

import sqlalchemy as sa
from docx import Document

from portal.auth.models import User
from portal.cvs import services
from portal.cvs.models import CVDocument, CVReview
from portal.db import utcnow
from portal.extensions import db
from portal.statuses import ReviewStatus

FIRST_VERSION = [
    "Sam Taylor",
    "sam.taylor@demo.example · 07700 900123 · London",
    "Summary",
    "Data analyst moving into machine learning engineering. Comfortable with Python and SQL.",
    "Experience",
    "Data Analyst, Retail Insights Ltd, 2022–2025: built weekly sales dashboards and forecasting notebooks.",
    "Projects",
    "Customer churn model in a Jupyter notebook using scikit-learn.",
    "Skills",
    "Python, pandas, SQL, Tableau, scikit-learn.",
]

SECOND_VERSION = [
    "Sam Taylor",
    "sam.taylor@demo.example · 07700 900123 · London · github.com/samtaylor-ml · linkedin.com/in/samtaylor",
    "Summary",
    "Data analyst turned ML engineer who ships models to production with Python, SQL and AWS.",
    "Experience",
    "Data Analyst, Retail Insights Ltd, 2022–2025: automated the weekly forecast as an Airflow pipeline, "
    "cutting report preparation time by 60%.",
    "Projects",
    "Churn prediction service: scikit-learn model served with FastAPI in Docker on AWS, with drift monitoring; "
    "handles 50,000 requests a day at 80 ms median latency.",
    "Skills",
    "Python, SQL (PostgreSQL, BigQuery), pandas, scikit-learn, FastAPI, Airflow, Docker, AWS, Git.",
]


def _docx(lines: list[str]) -> bytes:
    document = Document()
    for line in lines:
        document.add_paragraph(line)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def seed_cvs(candidate: User, reviewer: User) -> int:
    """Two CV versions for the candidate: the first reviewed, the second waiting in the queue (once)."""
    if db.session.scalar(sa.select(sa.func.count(CVDocument.id)).where(CVDocument.candidate_id == candidate.id)):
        return 0
    first = services.upload_cv(
        candidate, "ML engineer CV, October", "sam-taylor-cv-october.docx", io.BytesIO(_docx(FIRST_VERSION))
    )
    first.created_at = utcnow() - timedelta(days=20)
    review = CVReview(
        candidate_id=candidate.id,
        cv_document_id=first.id,
        document_name=first.name,
        target_role="Junior ML engineer in London",
        questions="Does my analyst background read as relevant for ML engineering roles?",
        status=ReviewStatus.COMPLETED,
        reviewer_id=reviewer.id,
        claimed_at=utcnow() - timedelta(days=18),
        completed_at=utcnow() - timedelta(days=17),
        verdict="changes_required",
        comment_summary="Lead with the engineering you have done, not the analysis.",
        comment_experience="Say what your work changed, with numbers.",
        comment_skills="Good core list. Add the tools you use to deploy and monitor.",
        comment_projects="A notebook alone does not show production skills: serve the model.",
        comment_presentation="Clean and readable. Add links to your GitHub and LinkedIn.",
        strengths="Strong Python and SQL, and a real business problem in the churn project.",
        improvement_1="Deploy the churn model behind an API and describe it.",
        improvement_2="Quantify the impact of your analyst work.",
        improvement_3="Add GitHub and LinkedIn links to the header.",
        created_at=utcnow() - timedelta(days=19),
    )
    db.session.add(review)
    db.session.flush()
    second = services.upload_cv(
        candidate, "ML engineer CV, November", "sam-taylor-cv-november.docx", io.BytesIO(_docx(SECOND_VERSION))
    )
    services.request_review(
        candidate,
        second,
        "Junior ML engineer in London",
        "I deployed the churn model as you suggested. Is the projects section clearer now?",
    )
    return 2
