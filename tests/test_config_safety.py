"""The one public address and the production refusals: unknown Host headers get 400, links come from PUBLIC_URL,
and a production configuration that is unsafe does not start."""

from __future__ import annotations

import secrets

import pytest

from portal import create_app
from portal.config import ConfigError, estimated_key_bits, trusted_hosts

PUBLIC_URL = "https://careers.example.org"


@pytest.fixture
def settings() -> dict:
    return {"PUBLIC_URL": PUBLIC_URL, "TRUSTED_HOSTS": ["portal.internal"]}


# Host headers ------------------------------------------------------------------------------------


def test_a_forged_host_header_gets_400_and_no_email(app, make, client, outbox):
    make.user(email="sam@example.org")
    response = client.post("/password/forgot", data={"email": "sam@example.org"}, base_url="http://evil.example")
    assert response.status_code == 400
    assert outbox() == []


def test_the_reset_link_starts_with_public_url_whichever_trusted_host_was_asked(app, make, client, outbox):
    make.user(email="sam@example.org")
    for base_url in ("http://portal.internal", "http://localhost", "https://careers.example.org"):
        response = client.post("/password/forgot", data={"email": "sam@example.org"}, base_url=base_url)
        assert response.status_code in (200, 302)
    emails = outbox("sam@example.org")
    assert len(emails) == 3
    for email in emails:
        assert f"{PUBLIC_URL}/password/reset/" in email.body_text
        assert "portal.internal" not in email.body_text and "localhost" not in email.body_text


def test_pages_answer_on_the_public_host_and_the_extra_names_only(app, client):
    assert client.get("/", base_url="http://portal.internal").status_code == 200
    assert client.get("/", base_url="https://careers.example.org:443").status_code == 200
    refused = client.get("/login", base_url="http://careers.example.org.evil.example")
    assert refused.status_code == 400 and refused.get_data(as_text=True) == "Bad request: unknown host."


def test_trusted_hosts_are_public_urls_host_the_extra_names_and_loopback_outside_production():
    config = {"PUBLIC_URL": "https://Careers.Example.org/portal", "TRUSTED_HOSTS": ["www.example.org"]}
    assert trusted_hosts({**config, "PORTAL_ENV": "production"}) == ["careers.example.org", "www.example.org"]
    assert trusted_hosts({**config, "PORTAL_ENV": "development"}) == [
        "careers.example.org",
        "www.example.org",
        "localhost",
        "127.0.0.1",
    ]


def test_the_extra_names_come_from_a_comma_separated_environment_variable(monkeypatch, tmp_path):
    monkeypatch.setenv("TRUSTED_HOSTS", " www.example.org, .careers.example.org ,")
    monkeypatch.delenv("PORTAL_ENV", raising=False)
    from portal.config import settings_from_env

    assert settings_from_env(tmp_path)["TRUSTED_HOSTS"] == ["www.example.org", ".careers.example.org"]


def test_there_is_no_server_name_setting_beside_public_url(monkeypatch, tmp_path):
    monkeypatch.setenv("SERVER_NAME", "other.example.org")
    monkeypatch.delenv("PORTAL_ENV", raising=False)
    from portal.config import settings_from_env

    assert "SERVER_NAME" not in settings_from_env(tmp_path)


# Production --------------------------------------------------------------------------------------


def production_environment(monkeypatch, **overrides: str | None) -> None:
    """A production configuration that starts, changed by `overrides` (None removes a variable)."""
    values: dict[str, str | None] = {
        "PORTAL_ENV": "production",
        "SECRET_KEY": secrets.token_hex(32),
        "DATABASE_URL": "sqlite://",
        "PUBLIC_URL": PUBLIC_URL,
        "RATELIMIT_STORAGE_URI": "memory://",
        "WEB_CONCURRENCY": "1",
        "RATELIMIT_ENABLED": None,
        "FLASK_DEBUG": None,
        "TRUSTED_HOSTS": None,
        "STORAGE_URL": None,
        **overrides,
    }
    for name, value in values.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)


def test_a_safe_production_configuration_starts_with_only_its_public_host_trusted(monkeypatch):
    production_environment(monkeypatch)
    app = create_app()
    assert app.config["TRUSTED_HOSTS"] == ["careers.example.org"]
    assert app.test_client().get("/", base_url="http://localhost").status_code == 400


@pytest.mark.parametrize(
    "key",
    ["s" * 40, "abcd" * 8, "0123456789abcdef" * 2, "0123456789abcdef" * 4 + "0123", "password" * 5],
)
def test_production_refuses_a_secret_key_with_little_entropy(monkeypatch, key):
    production_environment(monkeypatch, SECRET_KEY=key)
    with pytest.raises(ConfigError, match="SECRET_KEY is guessable: about \\d+ bits of entropy"):
        create_app()


def test_production_refuses_a_short_secret_key(monkeypatch):
    production_environment(monkeypatch, SECRET_KEY=secrets.token_hex(12))
    with pytest.raises(ConfigError, match="at least 32 random characters"):
        create_app()


@pytest.mark.parametrize("make_key", [lambda: secrets.token_hex(32), lambda: secrets.token_urlsafe(32)])
def test_random_keys_pass_the_entropy_estimate(make_key):
    assert all(estimated_key_bits(make_key()) >= 128 for _ in range(200))


def test_production_refuses_rate_limits_turned_off(monkeypatch):
    production_environment(monkeypatch, RATELIMIT_ENABLED="0")
    with pytest.raises(ConfigError, match="RATELIMIT_ENABLED=0 is refused"):
        create_app()


@pytest.mark.parametrize("processes", [None, "4"])
def test_production_refuses_a_memory_rate_limit_store_unless_one_process_is_declared(monkeypatch, processes):
    production_environment(monkeypatch, RATELIMIT_STORAGE_URI=None, WEB_CONCURRENCY=processes)
    with pytest.raises(ConfigError, match="counts in each process on its own.*WEB_CONCURRENCY=1"):
        create_app()


def test_production_with_redis_rate_limits_may_run_several_processes(monkeypatch):
    production_environment(monkeypatch, RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379/0", WEB_CONCURRENCY="4")
    assert create_app().config["RATELIMIT_STORAGE_URI"].startswith("redis://")


@pytest.mark.parametrize("public_url", [None, "http://careers.example.org", "https://", "careers.example.org"])
def test_production_refuses_a_missing_or_plain_http_public_url(monkeypatch, public_url):
    production_environment(monkeypatch, PUBLIC_URL=public_url)
    with pytest.raises(ConfigError, match="PUBLIC_URL must be set to the portal's https address"):
        create_app()


def test_a_forged_host_is_refused_before_the_csrf_check_or_any_page_runs(app, client, outbox):
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post("/password/forgot", data={"email": "sam@example.org"}, base_url="http://evil.example")
    assert response.status_code == 400 and response.get_data(as_text=True) == "Bad request: unknown host."
    assert outbox() == []


# Development: links follow where `make run` serves -------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "port", "expected"),
    [
        (None, None, "http://127.0.0.1:5000"),
        ("127.0.0.1", "8123", "http://127.0.0.1:8123"),
        ("localhost", "8000", "http://localhost:8000"),
        ("0.0.0.0", "8000", "http://127.0.0.1:8000"),  # noqa: S104
        ("::1", "8000", "http://[::1]:8000"),
        ("127.0.0.1", "not-a-port", "http://127.0.0.1:5000"),
    ],
)
def test_the_development_public_url_follows_host_and_port(monkeypatch, tmp_path, host, port, expected):
    monkeypatch.delenv("PORTAL_ENV", raising=False)
    monkeypatch.delenv("PUBLIC_URL", raising=False)
    for name, value in (("HOST", host), ("PORT", port)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    from portal.config import settings_from_env

    assert settings_from_env(tmp_path)["PUBLIC_URL"] == expected


def test_an_explicit_public_url_wins_over_host_and_port(monkeypatch, tmp_path):
    monkeypatch.delenv("PORTAL_ENV", raising=False)
    monkeypatch.setenv("PUBLIC_URL", "https://careers.example.org")
    monkeypatch.setenv("PORT", "8123")
    from portal.config import settings_from_env

    assert settings_from_env(tmp_path)["PUBLIC_URL"] == "https://careers.example.org"


def test_make_run_and_make_worker_pass_their_port_to_the_portal():
    """`make run PORT=8123` (or `PORT=8123 make run`) serves there and builds email and calendar links for there."""
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    for target in ("run", "worker"):
        plan = subprocess.run(
            ["make", "-n", "-C", str(root), target, "PORT=8123", "HOST=localhost"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        flask_lines = [line for line in plan.splitlines() if "/flask " in line and "db upgrade" not in line]
        assert flask_lines and all("HOST=localhost PORT=8123 " in line for line in flask_lines), plan


# The contact address -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("address", ["", "not an address", "help@example.org\r\nBcc: x@evil.example", "a@b"])
def test_a_contact_address_that_is_not_one_plain_address_is_refused_at_start_up(monkeypatch, address):
    monkeypatch.delenv("PORTAL_ENV", raising=False)
    monkeypatch.setenv("CONTACT_EMAIL", address)
    with pytest.raises(ConfigError, match="CONTACT_EMAIL must be one plain email address"):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "TESTING": True})
