"""A page sends the same number of SQL statements for 5 rows as for 500."""

from __future__ import annotations

from portal.auth.models import User
from portal.extensions import db
from portal.notifications.models import Notification
from tests.factories import make_user


def add_rows(app, owner_email: str, count: int, start: int = 0) -> None:
    with app.app_context():
        owner = db.session.scalar(db.select(User).where(User.email == owner_email))
        db.session.add_all(Notification(user_id=owner.id, message=f"Message {n}") for n in range(start, count))
        db.session.add_all(
            User(email=f"bulk{owner.id}-{n}@example.org", name=f"Bulk {n}", password_hash="x", role="candidate")
            for n in range(start, count)
        )
        db.session.commit()


def statements_for(client, count_queries, url: str) -> int:
    with count_queries() as statements:
        assert client.get(url).status_code == 200
    return len(statements)


def test_pages_send_the_same_number_of_queries_for_5_and_500_rows(app, client, auth, count_queries):
    with app.app_context():
        make_user("admin", email="admin@example.org")
    auth.login("admin@example.org")
    urls = ["/notifications/", "/admin/users", "/admin/users?page=2", "/"]
    add_rows(app, "admin@example.org", 5)
    few = {url: statements_for(client, count_queries, url) for url in urls}
    add_rows(app, "admin@example.org", 500, start=5)
    many = {url: statements_for(client, count_queries, url) for url in urls}
    assert few == many
    assert max(many.values()) <= 6
