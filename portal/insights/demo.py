"""Demo insight articles for `flask seed-demo`: published pieces by the demo mentors, written from the facts of the
ML engineer guide (no figures beyond the guide's), and one waiting for an editor."""

from __future__ import annotations

import sqlalchemy as sa

from portal.auth.models import User
from portal.extensions import db
from portal.insights import services
from portal.insights.models import InsightArticle, InsightTag

ARTICLES = (
    (
        "What London banks ask ML engineers in interviews",
        "Model risk, latency and explaining a model to a regulator come up more than algorithms.",
        "## Model risk first\n\nExpect questions on validation, monitoring and who signs a model off.\n\n"
        "## Bring a story\n\nOne project told end to end, with numbers, beats several half-remembered ones.",
        ("london", "financial-services", "interviews"),
        True,
        0,
    ),
    (
        "Edinburgh's health-data teams are hiring",
        "NHS data, trusted research environments and the skills they look for.",
        "## Where the work is\n\nResearch platforms need engineers who can ship models inside secure environments.\n\n"
        "- Python and SQL\n- Reproducible pipelines\n- Clear documentation",
        ("edinburgh", "healthtech", "hiring-trends"),
        True,
        1,
    ),
    (
        "A portfolio project that gets you to the second round",
        "Small, finished and deployed beats large and abandoned.",
        "## Finish it\n\nA deployed model with a README, tests and a monitoring chart says more than a notebook.",
        ("remote", "portfolio"),
        True,
        0,
    ),
    (
        "Salaries for junior ML engineers in Manchester",
        "What offers looked like this year.",
        "## Ranges\n\nWe are collecting this year's figures from recent graduates.",
        ("manchester", "salaries"),
        False,
        1,
    ),
    (
        "From software developer to ML engineer: a realistic timeline",
        "How long the move takes depends on where you start, and what UK employers check when you arrive.",
        "## Where you start matters\n\n"
        "There is no single qualification that makes someone a machine learning engineer. Many people in the role "
        "studied computer science, mathematics or a related subject, but a growing number came in through a bootcamp "
        "or self-study after working as software developers or data analysts.\n\n"
        "If you already write production software, the move usually takes 6 to 12 months of focused learning. "
        "Starting from scratch, people typically need 12 to 18 months. A bootcamp shortens either path because the "
        "structure, the mentoring and the project work are already there, instead of being pieced together alone.\n\n"
        "## What to learn, in order\n\n"
        "1. **Python, properly.** It is the language of the job, from cleaning data to training models and serving "
        "them behind an API.\n"
        "2. **SQL.** Almost every role asks for it, because most of the data you will touch lives in tables.\n"
        "3. **Core ML concepts.** Know why a model overfits, how to split data honestly and how to choose a metric.\n"
        "4. **Enough maths to reason.** Probability, linear algebra and statistics, to the point where you can "
        "explain why a model behaves as it does. You do not need to derive everything from first principles.\n"
        "5. **Deployment.** Pipelines, an API, monitoring: the part that turns an experiment into a product.\n\n"
        "## What employers check\n\n"
        "UK employers look for three things: Python you can show, a sound grasp of the core ideas, and a portfolio of "
        "projects that were built *and deployed*, not left in a notebook. A developer moving across already has the "
        "engineering habits; the gap is usually the ML concepts and the maths intuition. An analyst moving across "
        "often knows the data and the statistics; the gap is usually software engineering and deployment.\n\n"
        "## Plan your months\n\n"
        "Write down where you start, pick the gap that is widest, and aim every project at closing it. Book a mock "
        "interview with a mentor once you have one deployed project: the questions you cannot yet answer tell you "
        "what to learn next.",
        ("remote", "hiring-trends", "portfolio"),
        True,
        1,
    ),
    (
        "Data scientist or ML engineer? How UK teams split the work",
        "The two roles overlap at small companies and separate at large ones. Knowing which one you are applying "
        "for changes how you prepare.",
        "## Two jobs, one model\n\n"
        "Data scientists explore data, run experiments and build model prototypes. Machine learning engineers take "
        "those models and make them work reliably at scale in production: they write the pipelines, build the APIs, "
        "set up monitoring and look after the deployment infrastructure.\n\n"
        "At a start-up in Manchester or a small team in Bristol, one person may do both. At a large bank in London "
        "or a big public-sector organisation, the roles are usually distinct, with separate interviews and separate "
        "career paths.\n\n"
        "## Read the advert for verbs\n\n"
        "Adverts give the role away through what they ask you to do. *Explore, analyse, experiment, present* point to "
        "data science. *Deploy, serve, monitor, automate, scale* point to ML engineering. Many adverts mix the two; "
        "the balance tells you which stories to bring to the interview.\n\n"
        "## Prepare for the right interview\n\n"
        "For an ML engineering role in financial services, expect to talk about what happens after training:\n\n"
        "- how a model gets from a notebook into a pipeline that runs every day;\n"
        "- how you would know that it has started to behave differently;\n"
        "- how you would roll it back;\n"
        "- how another engineer would understand and maintain what you built.\n\n"
        "A data science interview spends longer on the experiment itself: the question, the data, the choice of "
        "model and how you judged it.\n\n"
        "## If you are not sure which you want\n\n"
        "Build one project that does both. Explore a public data set, train a model, then deploy it behind a small "
        "API with monitoring. You will find out which half you enjoy, and you will have a portfolio piece that works "
        "for either kind of advert. Ask a mentor to review your CV for the role you choose, so that the projects you "
        "lead with match the job.",
        ("london", "financial-services", "interviews"),
        True,
        0,
    ),
    (
        "The tools UK ML engineering adverts keep asking for",
        "Python and SQL nearly everywhere; Scala, Java, cloud tools and Terraform in some roles. What to learn first "
        "and what can wait.",
        "## The two you cannot skip\n\n"
        "Python is by far the most common language in machine learning engineering. It is used for everything from "
        "data preprocessing to model training and API development, so your Python needs to read like production "
        "code: tested, packaged and documented.\n\n"
        "SQL is almost universally required. Structured data sits in databases and warehouses, and an engineer who "
        "can write a clear query saves the whole team time. Practise joins, window functions and reading a query "
        "plan.\n\n"
        "## The ones that depend on the employer\n\n"
        "Some roles also use Scala or Java, particularly where Spark is heavily used for large data pipelines. If an "
        "e-commerce company in Leeds or a retailer in Manchester lists Spark, read their advert closely: the "
        "language of their pipelines may not be Python.\n\n"
        "Cloud platform command-line tools and infrastructure-as-code tools such as Terraform come up regularly in "
        "more senior positions. For a first role they are a bonus rather than a requirement, but being able to say "
        "how your project was deployed, and to show the configuration, helps.\n\n"
        "## What this means for your portfolio\n\n"
        "Choose one project and make the tooling visible:\n\n"
        "- a Python package with tests, not only a notebook;\n"
        "- the SQL that feeds the model, in the repository;\n"
        "- a small API serving predictions;\n"
        "- monitoring that shows how the model behaves once it is live;\n"
        "- if you are aiming higher, the infrastructure described as code.\n\n"
        "Employers across the UK care less about how many tools you list than about evidence that you have used them "
        "to build and deploy something that works. A reviewer reading your CV should be able to follow a link and see "
        "each of those pieces in one place.",
        ("manchester", "e-commerce", "tools"),
        True,
        1,
    ),
)


def seed_insights(authors: list[User], editor: User) -> int:
    """The demo articles not there yet (matched by title), each by one of the demo mentors; returns how many were
    added."""
    services.seed_tags()
    existing = set(db.session.scalars(sa.select(InsightArticle.title)))
    added = 0
    for title, summary, body, slugs, publish, author_index in ARTICLES:
        author = authors[author_index % len(authors)]
        if title in existing:
            continue
        tag_ids = tuple(db.session.scalars(sa.select(InsightTag.id).where(InsightTag.slug.in_(slugs))))
        article = services.create_article(author, services.ArticleText(title, summary, body, tag_ids))
        services.submit_article(article, author)
        if publish:
            services.publish_article(article, editor)
        added += 1
    return added
