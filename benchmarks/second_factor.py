"""Benchmark staff log in with a second factor, like every admin and mentor: the demo authenticator key
(portal.cli.DEMO_TOTP_SECRET), stored encrypted with the benchmark's SECRET_KEY (benchmarks.seed.bench_config)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pyotp
import sqlalchemy as sa

from portal.cli import DEMO_TOTP_SECRET


def staff_columns(joined: datetime) -> dict[str, Any]:
    """The user-row values of two-factor sign-in turned on with the demo key (needs an app context)."""
    from portal.auth.totp import encrypt_secret

    return {"totp_secret": encrypt_secret(DEMO_TOTP_SECRET), "totp_enabled_at": joined, "totp_last_step": None}


def fresh_code(database_url: str, email: str) -> str:
    """The code the authenticator app shows now. The benchmark logs one person in several times within 30 seconds
    (in-process, then in gunicorn), which a person with one phone would not: the account's replay guard is
    cleared first. The code itself is still checked."""
    engine = sa.create_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                sa.text("UPDATE users SET totp_last_step = NULL WHERE email = :email"), {"email": email.lower()}
            )
    finally:
        engine.dispose()
    return pyotp.TOTP(DEMO_TOTP_SECRET).now()
