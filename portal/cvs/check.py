"""An instant check of a CV's text against what UK employers look for in machine-learning engineers.

Advice only: nothing here stops a CV from being uploaded or reviewed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

MIN_PAGES, MAX_PAGES = 1, 2
MIN_WORDS, MAX_WORDS = 300, 1000
MIN_PRODUCTION_SIGNS = 2
MIN_MEASURED_RESULTS = 2

# Fewer words than this per page is not a CV's text but a scan's leftovers ("Scanned with CamScanner", a page number).
MIN_WORDS_PER_PAGE = 20

NO_TEXT = (
    "We could not read the text of this file: it is most likely a scan (a picture of the pages). Employers' "
    "applicant tracking systems cannot read it either, so we skipped the length and content checks. Export your CV "
    "from a word processor as PDF or .docx and upload that."
)

WHY = {
    "text": (
        "Most employers put CVs through an applicant tracking system before a person reads them. "
        "If the text cannot be read, your CV may never reach a recruiter."
    ),
    "length": (
        "Recruiters spend a minute or two on a first read. One or two pages is enough to show your strongest "
        "projects and experience without burying them."
    ),
    "contact": (
        "An employer who likes your CV needs to reach you quickly. Most UK roles are tied to a city or region, "
        "such as London, Manchester or Edinburgh, so say where you are based."
    ),
    "links": (
        "UK employers want a portfolio that shows you can build and deploy models, not just experiment in a "
        "notebook. A GitHub or portfolio link lets them see your code; LinkedIn helps recruiters find you."
    ),
    "python": (
        "Python is by far the most common language in machine learning engineering, and UK employers want to see "
        "demonstrable Python skill, from data preparation to model training and APIs."
    ),
    "sql": (
        "SQL is almost universally required for working with structured data. Name it, and the databases you have "
        "used, even if it feels too basic to mention."
    ),
    "production": (
        "Machine learning engineers make models work reliably in production: pipelines, APIs, monitoring and "
        "deployment. Tools such as Spark and Terraform come up more in senior roles."
    ),
    "numbers": (
        "Numbers show the effect of your work at a glance. “Cut inference latency by 40%” says more than "
        "“improved performance”."
    ),
}

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# UK numbers (07…, +44 7…, 020 …) and other international ones: 10 to 15 digits with spaces, dots, dashes, brackets.
PHONE = re.compile(r"(?<![\w.])(?:\+|00)?\(?\d[\d ().-]{8,18}\d(?![\w.])")
UK_POSTCODE = re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b")
PLACES = (
    "London",
    "Manchester",
    "Birmingham",
    "Leeds",
    "Liverpool",
    "Sheffield",
    "Bristol",
    "Newcastle",
    "Nottingham",
    "Leicester",
    "Coventry",
    "Bradford",
    "Cambridge",
    "Oxford",
    "Reading",
    "Brighton",
    "Southampton",
    "Portsmouth",
    "Plymouth",
    "Exeter",
    "Bath",
    "York",
    "Hull",
    "Derby",
    "Stoke",
    "Norwich",
    "Milton Keynes",
    "Luton",
    "Sunderland",
    "Middlesbrough",
    "Guildford",
    "Cardiff",
    "Swansea",
    "Newport",
    "Edinburgh",
    "Glasgow",
    "Aberdeen",
    "Dundee",
    "Stirling",
    "Inverness",
    "Belfast",
    "Derry",
    "United Kingdom",
    "England",
    "Scotland",
    "Wales",
    "Northern Ireland",
)
PLACE = re.compile(r"\b(?:" + "|".join(re.escape(place) for place in PLACES) + r")\b|\bUK\b")

KNOWN_PROFILES = {"github.com": "GitHub", "gitlab.com": "GitLab", "linkedin.com": "LinkedIn"}
URL = re.compile(r"\bhttps?://[^\s<>()\"']+", re.IGNORECASE)
DOMAIN = re.compile(
    r"(?<![\w@.-])((?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+"
    r"(?:com|io|dev|ai|app|me|net|org|co\.uk|org\.uk|uk|page|site|tech|xyz|blog|info|codes|cloud|so))"
    r"(?![\w-])(/[^\s<>()\"']*)?",
    re.IGNORECASE,
)
NOT_PORTFOLIOS = {"asp.net", "ado.net", "vb.net", "socket.io"}  # technologies, not sites

PYTHON = re.compile(r"\bpython(?:\d(?:\.\d+)?)?\b", re.IGNORECASE)
SQL_NAMES = {
    "sql": "SQL",
    "postgresql": "PostgreSQL",
    "postgres": "PostgreSQL",
    "mysql": "MySQL",
    "bigquery": "BigQuery",
    "snowflake": "Snowflake",
    "sqlite": "SQLite",
    "sql server": "SQL Server",
    "redshift": "Redshift",
}
SQL = re.compile(
    r"\b(?:" + "|".join(re.escape(name) for name in sorted(SQL_NAMES, key=len, reverse=True)) + r")\b", re.IGNORECASE
)

PRODUCTION_SIGNS: dict[str, re.Pattern[str]] = {
    "APIs": re.compile(r"\b(?:APIs?|FastAPI|Flask)\b|\bREST(?:ful)?\b", re.IGNORECASE),
    "data pipelines": re.compile(r"\b(?:pipelines?|Airflow|Dagster|Prefect|Kubeflow)\b", re.IGNORECASE),
    "monitoring": re.compile(r"\b(?:monitoring|monitored|drift|observability|Prometheus|Grafana)\b", re.IGNORECASE),
    "cloud": re.compile(r"\b(?:cloud|AWS|GCP|Azure|SageMaker|Vertex AI)\b", re.IGNORECASE),
    "Spark": re.compile(r"\b(?:Spark|PySpark|Databricks)\b", re.IGNORECASE),
    "Terraform": re.compile(r"\bTerraform\b", re.IGNORECASE),
    "containers": re.compile(r"\b(?:Docker|Kubernetes|k8s|containers?)\b", re.IGNORECASE),
    "deployment": re.compile(
        r"\b(?:deploy(?:ed|ing|ment|s)?|production|CI/CD|MLOps|GitHub Actions|continuous (?:integration|delivery))\b",
        re.IGNORECASE,
    ),
}

_NUMBER = r"\d[\d,]*(?:\.\d+)?"
MEASURED_RESULT = re.compile(
    r"(?:[£$€]\s?" + _NUMBER + r"(?:\s?(?:k|m|bn|million|billion)\b)?)"  # £40k, $1.2m
    r"|(?:" + _NUMBER + r"\s?(?:%|per\s?cent\b))"  # 35%, 12 per cent
    r"|(?:\b" + _NUMBER + r"\s?[x×](?![\w]))"  # 3x, 10×
    r"|(?:\b" + _NUMBER + r"\s?(?:thousand|million|billion|k|m|bn)\b)"  # 2 million, 10k
    r"|(?:\b" + _NUMBER + r"\s?(?:ms|milliseconds?|seconds?|secs?|minutes?|mins?|hours?|hrs?)\b)",  # 120 ms
    re.IGNORECASE,
)


@dataclass(frozen=True)
class CheckItem:
    key: str
    title: str
    passed: bool | None
    detail: str
    why: str


def check_cv(text: str, page_count: int | None, links: Iterable[str] = ()) -> list[CheckItem]:
    """Advice on a CV's text for ML-engineering roles; `links` are hyperlink targets found beside the text.

    With no readable text (none at all, or a few stray words per page, as scans have) it says only that: judging
    the length or the content of text it cannot read would pass or fail the CV for the wrong reason.
    """
    if is_unreadable(text, page_count):
        return [CheckItem("text", "Readable text", None, NO_TEXT, WHY["text"])]
    return [
        _length(text, page_count),
        _contact(text),
        _links(text, links),
        _python(text),
        _sql(text),
        _production(text),
        _numbers(text),
    ]


def is_unreadable(text: str, page_count: int | None) -> bool:
    """No text, or (for a file with pages) fewer than MIN_WORDS_PER_PAGE words a page: most likely a scan."""
    words = len(re.findall(r"\w+", text))
    return words == 0 or (page_count is not None and words < MIN_WORDS_PER_PAGE * max(page_count, 1))


def _plural(count: int, singular: str, plural: str | None = None) -> str:
    return f"{count:,} {singular if count == 1 else (plural or singular + 's')}"


def _listing(names: list[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def _pages_ok(page_count: int | None) -> bool:
    return page_count is None or MIN_PAGES <= page_count <= MAX_PAGES


def _length(text: str, page_count: int | None) -> CheckItem:
    words = len(re.findall(r"\w+", text))
    passed = _pages_ok(page_count) and MIN_WORDS <= words <= MAX_WORDS
    found = f"{_plural(words, 'word')}."
    if page_count is not None:
        found = f"{_plural(page_count, 'page')}, {found}"
    if not passed:
        found += f" Aim for {MIN_PAGES} or {MAX_PAGES} pages and {MIN_WORDS:,} to {MAX_WORDS:,} words."
    return CheckItem("length", "Length", passed, found, WHY["length"])


def _has_phone(text: str) -> bool:
    for match in PHONE.finditer(text):
        digits = re.sub(r"\D", "", match.group())
        if 10 <= len(digits) <= 15:
            return True
    return False


def _contact(text: str) -> CheckItem:
    has_email = bool(EMAIL.search(text))
    has_phone = _has_phone(text)
    has_place = bool(PLACE.search(text) or UK_POSTCODE.search(text))
    passed = has_email and (has_phone or has_place)
    found = [
        name
        for name, present in (("email", has_email), ("phone number", has_phone), ("location", has_place))
        if present
    ]
    missing = []
    if not has_email:
        missing.append("No email address found.")
    if not (has_phone or has_place):
        missing.append("No phone number or town or city found.")
    detail = " ".join(([f"Found: {_listing(found)}."] if found else []) + missing)
    return CheckItem("contact", "Contact details", passed, detail, WHY["contact"])


def _profile_links(text: str, links: Iterable[str]) -> list[str]:
    """Names of the profiles and portfolio addresses mentioned, in order of first appearance."""
    found: dict[str, None] = {}
    without_emails = EMAIL.sub(" ", text)
    candidates = [match.group() for match in URL.finditer(without_emails)]
    candidates += [match.group() for match in DOMAIN.finditer(URL.sub(" ", without_emails))]
    candidates += [link for link in links if link.lower().startswith(("http://", "https://"))]
    for candidate in candidates:
        lowered = candidate.lower()
        host = re.sub(r"^https?://", "", lowered).split("/")[0].removeprefix("www.")
        if host in NOT_PORTFOLIOS:
            continue
        name = next(
            (label for domain, label in KNOWN_PROFILES.items() if host == domain or host.endswith("." + domain)), None
        )
        found[name or host] = None
    return list(found)


def _links(text: str, links: Iterable[str]) -> CheckItem:
    found = _profile_links(text, links)
    if found:
        detail = f"Found: {_listing(found)}."
        if not {"GitHub", "GitLab"} & set(found):
            detail += " Consider adding your GitHub too, so employers can read your code."
        return CheckItem("links", "GitHub, portfolio or LinkedIn", True, detail, WHY["links"])
    return CheckItem(
        "links", "GitHub, portfolio or LinkedIn", False, "No GitHub, portfolio or LinkedIn link found.", WHY["links"]
    )


def _python(text: str) -> CheckItem:
    if PYTHON.search(text):
        return CheckItem("python", "Python", True, "Python is mentioned.", WHY["python"])
    return CheckItem("python", "Python", False, "Python is not mentioned anywhere.", WHY["python"])


def _sql(text: str) -> CheckItem:
    names = list(dict.fromkeys(SQL_NAMES[match.group().lower()] for match in SQL.finditer(text)))
    if names:
        return CheckItem("sql", "SQL", True, f"Found: {_listing(names)}.", WHY["sql"])
    return CheckItem("sql", "SQL", False, "SQL is not mentioned, nor any SQL database.", WHY["sql"])


def _production_signs(text: str) -> list[str]:
    signs = []
    for label, pattern in PRODUCTION_SIGNS.items():
        matches = [match.group() for match in pattern.finditer(text)]
        if label == "APIs":  # "REST" only in capitals: "the rest of the team" is not an API
            matches = [found for found in matches if found.lower() != "rest" or found == "REST"]
        if matches:
            signs.append(label)
    return signs


def _production(text: str) -> CheckItem:
    signs = _production_signs(text)
    title = "Deployed, production work"
    if len(signs) >= MIN_PRODUCTION_SIGNS:
        return CheckItem("production", title, True, f"Found: {_listing(signs)}.", WHY["production"])
    if signs:
        detail = (
            f"Found only: {signs[0]}. Show more of how your models were deployed and run, "
            "for example APIs, pipelines, monitoring, cloud or Docker."
        )
    else:
        detail = (
            "No sign of deployed work found: no APIs, pipelines, monitoring, cloud, Docker or deployment mentioned."
        )
    return CheckItem("production", title, False, detail, WHY["production"])


def _measured_results(text: str) -> list[str]:
    return list(dict.fromkeys(" ".join(match.group().split()) for match in MEASURED_RESULT.finditer(text)))


def _numbers(text: str) -> CheckItem:
    results = _measured_results(text)
    title = "Measurable results"
    if len(results) >= MIN_MEASURED_RESULTS:
        examples = _listing(results[:3])
        return CheckItem(
            "numbers", title, True, f"Found {len(results)} measurable results, such as {examples}.", WHY["numbers"]
        )
    if results:
        detail = f"Found only one measurable result ({results[0]}). Add numbers to more of your achievements."
    else:
        detail = "No measurable results found, such as “cut latency by 40%” or “3x faster training”."
    return CheckItem("numbers", title, False, detail, WHY["numbers"])
