"""Every page with a table, for each role, at 360 px and at 1280 px (axe-core on each): on a phone no page and no table
box scrolls sideways, each row is a card whose cells show their column's name, and the table is still a table to a
screen reader; on a wide screen the same tables are ordinary tables. The admin's week grid becomes a list of days."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from portal.auth.models import User
from portal.extensions import db
from portal.feedback.models import SessionFeedback, SessionRating
from portal.mail import OutboxEmail
from tests.browser import assert_accessible
from tests.conftest import BROWSER_TIMEOUT_MS
from tests.factories import make_booking, make_interview_type, make_slot
from tests.test_browser import log_in
from tests.test_browser_cvs import seed_reviews

pytestmark = pytest.mark.browser

ADMIN, MENTOR, CANDIDATE = "alex@example.org", "priya@example.org", "sam@example.org"
TYPE_NAME = "Technical: Python, machine learning fundamentals and deploying a model behind an API"
NOTE = (
    "Explaining the bias-variance trade-off to a hiring manager without jargon, then a live SQL exercise with "
    "window functions over https://www.example.org/datasets/uk-rail-punctuality-2019-2024-quarterly-extract.csv"
)
LONG_ADDRESS = "samantha.jones-whitaker.career-changer.2026@students.example-bootcamp.co.uk"
ARTICLE_TABLE = (
    "## Where each skill comes up\n\n| Skill | Where it comes up | How often adverts in Manchester ask for it |\n"
    "|---|---|---|\n| Python | Everywhere, from data preprocessing and feature pipelines to model-serving APIs | "
    "Nine adverts in ten |\n| SQL and window functions | Almost every role that touches a warehouse | Seven in ten |\n"
)


def seed(app, make) -> dict:
    """A week of slots ahead, past sessions in every state, feedback and ratings, CV reviews, a waitlist, emails, page
    and article revisions, a live session and a data export: something in every table, with long names in it."""
    from portal.admin.content import save_page
    from portal.admin.services import invite
    from portal.insights import services as insights
    from portal.insights.models import ArticleViews
    from portal.live.services import register
    from portal.privacy.exports import request_export
    from portal.retention.models import Trigger
    from portal.retention.services import run_retention
    from portal.waitlist.models import WaitlistEntry
    from tests.test_live import make_session

    alex = make.user("admin", email=ADMIN, name="Alexandra Morgan-Fitzgerald")
    priya = make.user("mentor", email=MENTOR, name="Priya Shah-Ramanathan")
    sam = make.user("candidate", email=CANDIDATE, name="Samantha Jones-Whitaker")
    jo = make.user("candidate", email="jo@example.org", name="Jo Lee")
    ids = seed_reviews(app, sam, jo, priya)
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    monday = (now + timedelta(days=7 - now.weekday())).replace(hour=8)  # next week: every day of it is ahead
    with app.test_request_context():
        mentor, candidate, admin = (db.session.get(User, person.id) for person in (priya, sam, alex))
        kind = make_interview_type(TYPE_NAME)
        for day, hour in ((0, 0), (0, 3), (2, 6), (4, 1), (4, 9)):
            make_slot(mentor, monday + timedelta(days=day, hours=hour), kind)
        make_booking(make_slot(mentor, monday + timedelta(days=1, hours=2), kind), candidate, focus_note=NOTE)
        make_slot(mentor, monday + timedelta(days=3, hours=4), kind, status="cancelled")
        past = {
            status: make_booking(
                make_slot(mentor, now - timedelta(days=days), kind), candidate, status=status, focus_note=NOTE
            ).id
            for days, status in ((20, "completed"), (15, "no_show"), (10, "cancelled"), (5, "booked"))
        }
        db.session.add(
            SessionFeedback(
                booking_id=past["completed"],
                mentor_id=mentor.id,
                status="published",
                published_at=now - timedelta(days=19),
                readiness="nearly",
                strengths="- Calm and structured",
                improvements="- Check data quality first",
                next_steps="",
                score_python=3,
                score_ml=4,
                score_data=2,
                score_system_design=None,
                score_communication=4,
            )
        )
        db.session.add(SessionRating(booking_id=past["completed"], candidate_id=candidate.id, score=5))
        db.session.add(
            WaitlistEntry(
                candidate_id=candidate.id,
                interview_type_id=kind.id,
                mentor_id=mentor.id,
                first_date=monday.date(),
                last_date=monday.date() + timedelta(days=13),
            )
        )
        db.session.add(
            OutboxEmail(
                to_address=LONG_ADDRESS,
                subject="Your mock interview with Priya Shah-Ramanathan on Tuesday has moved to 10:00",
                body_text="Moved.",
                message_id="<moved-1@career-portal.example>",
                status="failed",
                attempts=5,
                last_error="SMTPRecipientsRefused: {'" + LONG_ADDRESS + "': (550, b'5.1.1 Mailbox unavailable')}",
            )
        )
        for body in ("## Booking\n\nBook from the slot browser.", "## Booking\n\nBook from the slots page."):
            save_page("faq", "Frequently asked questions about mock interviews and CV reviews", "", body, admin)
        session = make_session(capacity=30, title="Employer Q&A: hiring junior ML engineers in Edinburgh and Glasgow")
        register(session, candidate)
        make_session(starts_at=now - timedelta(days=2), title="Panel: from data analyst to machine-learning engineer")
        request_export(candidate, candidate)
        invite(admin, "oluwaseun.adebayo-richardson@mentors.example-bootcamp.co.uk", "Oluwaseun Adebayo-Richardson")
        insights.seed_tags()
        draft = insights.create_article(
            mentor,
            insights.ArticleText(
                "What a machine-learning platform team at a Manchester fintech looks for in a junior engineer",
                "Skills and projects.",
                ARTICLE_TABLE,
                (),
            ),
        )
        insights.update_article(
            draft,
            mentor,
            insights.ArticleText(draft.title, "Skills, projects and portfolios.", ARTICLE_TABLE, ()),
            draft.version,
        )
        published = insights.create_article(
            admin, insights.ArticleText("The tools adverts ask for in Manchester", "Python.", ARTICLE_TABLE, ())
        )
        insights.publish_article(published, admin)
        db.session.add(ArticleViews(article_id=published.id, day=now.date(), views=12))
        db.session.commit()
        run_retention(now, Trigger.COMMAND)  # nothing is old enough to go: the run is listed with nothing removed
        db.session.commit()
        ids |= {
            "sam": sam.id,
            "published": past["completed"],
            "draft": draft.id,
            "slug": published.slug,
            "monday": monday.date(),
        }
    return ids


def pages_of(role: str, ids: dict) -> list[tuple[str, int]]:
    """(path, number of tables on it) for every page with a table that `role` can open."""
    return {
        CANDIDATE: [
            ("/interviews/bookings", 1),
            ("/cvs/", 1),
            ("/feedback/progress", 1),
            (f"/feedback/sessions/{ids['published']}", 1),
            ("/live/mine", 1),
            ("/account/data", 1),
        ],
        MENTOR: [
            ("/mentor/schedule", 1),
            ("/mentor/availability", 1),
            ("/reviews/queue", 1),
            ("/insights/mine", 1),
            (f"/insights/{ids['draft']}/revisions", 1),
        ],
        ADMIN: [
            ("/", 1),
            (f"/admin/schedule/?week={ids['monday'].isoformat()}", 1),
            ("/admin/schedule/bookings", 1),
            ("/feedback/overview", 3),
            ("/reviews/all", 1),
            ("/admin/mail", 1),
            ("/admin/users", 2),
            (f"/admin/users/{ids['sam']}", 1),
            (f"/admin/users/{ids['sam']}/data-exports", 1),
            ("/admin/content", 1),
            ("/admin/content/faq/revisions", 1),
            ("/admin/interview-types", 1),
            ("/admin/audit", 1),
            ("/admin/retention/", 2),
            ("/admin/reports", 7),
            ("/waitlist/all", 1),
            ("/insights/tag-lists", 3),
            (f"/insights/{ids['slug']}", 1),
        ],
    }[role]


# What the browser drew: the page's width, and for each table its box, header row, body rows and cells.
LAYOUT = """() => {
  const shown = (el) => el.getClientRects().length > 0;
  const visibleText = (el) => {
    const copy = el.cloneNode(true);
    copy.querySelectorAll('.visually-hidden').forEach((hidden) => hidden.remove());
    return copy.textContent.replace(/\\s+/g, ' ').trim();
  };
  return {
    pageWidth: document.documentElement.scrollWidth,
    windowWidth: window.innerWidth,
    tables: [...document.querySelectorAll('table')].map((table) => {
      const box = table.closest('.table-responsive') || table;
      const headers = [...table.querySelectorAll('thead th')].map((th) => ({
        name: th.textContent.replace(/\\s+/g, ' ').trim(), shown: visibleText(th) !== '' }));
      const rows = [...table.querySelectorAll('tbody > tr')];
      const cells = [];
      for (const row of rows) {
        let column = 0;
        for (const cell of row.children) {
          if (cell.tagName === 'TD' && cell.colSpan === 1) {
            cells.push({ header: headers[column], display: getComputedStyle(cell).display,
                         label: getComputedStyle(cell, '::before').content, text: visibleText(cell) });
          }
          column += cell.colSpan;
        }
      }
      return {
        name: table.id || (table.caption ? table.caption.textContent.trim() : headers.map((h) => h.name).join(', ')),
        classes: table.className,
        shown: shown(table),
        display: getComputedStyle(table).display,
        rowDisplay: rows.length ? getComputedStyle(rows[0]).display : null,
        rows: rows.length,
        headRowHeight: table.tHead ? table.tHead.getBoundingClientRect().height : 0,
        boxScrollWidth: box.scrollWidth,
        boxClientWidth: box.clientWidth,
        cells,
      };
    }),
  };
}"""


def accessibility_tree(page) -> dict[str, list[str]]:
    """The names of the tables, column headers and cells in Chromium's own accessibility tree (what a screen reader
    is given), by role."""
    session = page.context.new_cdp_session(page)
    try:
        nodes = session.send("Accessibility.getFullAXTree")["nodes"]
    finally:
        session.detach()
    found: dict[str, list[str]] = {"table": [], "columnheader": [], "cell": []}
    for node in nodes:
        role = node.get("role", {}).get("value")
        if role in found and not node.get("ignored"):
            found[role].append(node.get("name", {}).get("value", ""))
    return found


def check_phone_layout(path: str, layout: dict, expected_tables: int) -> list[str]:
    """What is wrong with the page at 360 px, as sentences (empty when nothing is)."""
    problems = []
    if layout["pageWidth"] > layout["windowWidth"]:
        problems.append(f"the page is {layout['pageWidth']} px wide in a {layout['windowWidth']} px window")
    if len(layout["tables"]) != expected_tables:
        problems.append(f"{len(layout['tables'])} tables, expected {expected_tables}")
    for table in layout["tables"]:
        name = table["name"]
        if table["boxScrollWidth"] > table["boxClientWidth"]:
            problems.append(f"{name}: scrolls sideways ({table['boxScrollWidth']} > {table['boxClientWidth']} px)")
        if "week-table" in table["classes"]:
            if table["shown"]:
                problems.append(f"{name}: the week grid is shown on a phone instead of the list of days")
            continue
        if not table["rows"]:
            problems.append(f"{name}: no rows to look at (the test's data is missing)")
            continue
        if (table["display"], table["rowDisplay"]) != ("block", "block") or table["headRowHeight"] > 1:
            problems.append(f"{name}: not stacked ({table['display']}, rows {table['rowDisplay']})")
        for cell in table["cells"]:
            header = cell["header"]
            if cell["display"] != "block":
                problems.append(f"{name}: a cell under {header['name']!r} is {cell['display']}")
            elif header["shown"] and not cell["label"].startswith(f'"{header["name"]}"'):
                problems.append(f"{name}: a cell under {header['name']!r} is labelled {cell['label']}")
            elif not header["shown"] and cell["label"] != "none":
                problems.append(f"{name}: a cell of the unnamed column {header['name']!r} shows {cell['label']}")
    return [f"{path}: {problem}" for problem in problems]


def check_wide_layout(path: str, layout: dict) -> list[str]:
    problems = []
    if layout["pageWidth"] > layout["windowWidth"]:
        problems.append(f"the page is {layout['pageWidth']} px wide in a {layout['windowWidth']} px window")
    for table in layout["tables"]:
        if not table["shown"]:
            problems.append(f"{table['name']}: hidden on a wide screen")
            continue
        if (table["display"], table["rowDisplay"]) != ("table", "table-row") or table["headRowHeight"] < 10:
            problems.append(f"{table['name']}: not an ordinary table ({table['display']}, rows {table['rowDisplay']})")
        labelled = [cell for cell in table["cells"] if cell["display"] != "table-cell" or cell["label"] != "none"]
        if labelled:
            problems.append(f"{table['name']}: {len(labelled)} cells drawn as cards or with a column name")
    return [f"{path}: {problem}" for problem in problems]


def new_page(browser, live_server, width: int):
    context = browser.new_context(base_url=live_server, viewport={"width": width, "height": 800})
    context.set_default_timeout(BROWSER_TIMEOUT_MS)
    return context, context.new_page()


@pytest.mark.parametrize("role", [CANDIDATE, MENTOR, ADMIN])
def test_every_table_is_a_list_of_cards_on_a_phone_and_a_table_on_a_wide_screen(app, make, browser, live_server, role):
    ids = seed(app, make)
    context, page = new_page(browser, live_server, 360)
    problems: list[str] = []
    try:
        log_in(page, role)
        for path, expected_tables in pages_of(role, ids):
            page.set_viewport_size({"width": 360, "height": 800})
            response = page.goto(path)
            assert response.status == 200, path
            assert_accessible(page)
            problems += check_phone_layout(path, page.evaluate(LAYOUT), expected_tables)
            on_phone = accessibility_tree(page)

            page.set_viewport_size({"width": 1280, "height": 800})
            page.reload()
            assert_accessible(page)
            problems += check_wide_layout(path, page.evaluate(LAYOUT))
            on_wide_screen = accessibility_tree(page)
            # Still a table to a screen reader, cell for cell, and the column names drawn on a phone are not read
            # out again with each cell (the week grid, hidden on a phone, is the one table that is not there).
            if "/admin/schedule/?" not in path:
                if on_phone != on_wide_screen:
                    problems.append(f"{path}: a screen reader is given {on_phone} at 360 px, {on_wide_screen} wide")
                if len(on_phone["table"]) != expected_tables or not on_phone["cell"]:
                    problems.append(f"{path}: tables and cells in the accessibility tree: {on_phone}")
    finally:
        context.close()
    assert problems == [], "\n".join(problems)


def test_the_admin_week_is_a_list_of_days_on_a_phone(app, make, browser, live_server):
    ids = seed(app, make)
    monday: date = ids["monday"]
    path = f"/admin/schedule/?week={monday.isoformat()}"
    context, page = new_page(browser, live_server, 360)
    try:
        log_in(page, ADMIN)
        page.goto(path)
        week = page.locator("section.mentor-week").filter(has=page.get_by_role("heading", name="Priya Shah-Ramanathan"))
        days = week.locator(".week-days")
        assert days.is_visible() and not week.get_by_role("region").is_visible()
        headings = days.get_by_role("heading", level=3).all_inner_texts()
        expected = [monday + timedelta(days=n) for n in (0, 1, 2, 3, 4)]  # Saturday and Sunday have no slots
        assert headings == [f"{day:%A} {day.day} {day:%B}" for day in expected]
        friday = days.get_by_role("list").nth(4).get_by_role("listitem")
        assert friday.count() == 2
        assert [item.locator(".badge").inner_text() for item in friday.all()] == ["Open", "Open"]
        tuesday = days.get_by_role("list").nth(1)
        assert "Booked" in tuesday.inner_text() and "Samantha Jones-Whitaker" in tuesday.inner_text()
        assert "Cancelled" in days.get_by_role("list").nth(3).inner_text()
        # Each open slot can be edited or cancelled from the list, named for a screen reader.
        assert days.get_by_role("link", name="Edit Priya Shah-Ramanathan's slot").count() == 5
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        assert_accessible(page)

        page.set_viewport_size({"width": 1280, "height": 800})
        page.reload()
        assert not days.is_visible()
        grid = week.get_by_role("region", name="Priya Shah-Ramanathan's week")
        assert grid.is_visible() and grid.get_by_role("columnheader").count() == 8
        assert grid.locator(".week-slot").count() == 7
        assert_accessible(page)
    finally:
        context.close()
