"""Second-factor primitives: TOTP secrets (RFC 6238) kept encrypted, codes checked by time-step, recovery codes,
and the QR code an authenticator app scans. Nothing here touches the database."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time

import pyotp
import segno
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from markupsafe import Markup

STEP_SECONDS = 30
DIGITS = 6
VALID_STEPS = (-1, 0, 1)  # a phone's clock a little fast or slow still works
RECOVERY_CODE_COUNT = 10
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread
RECOVERY_GROUPS = 3
RECOVERY_GROUP_LENGTH = 4  # 12 characters: about 59 bits each


class UnreadableSecret(Exception):
    """The stored secret was encrypted with a key the app no longer has (SECRET_KEY changed)."""


def new_secret() -> str:
    """A random TOTP secret: 32 base32 characters (160 bits)."""
    return pyotp.random_base32()


def grouped(secret: str) -> str:
    """The secret in groups of four, for reading out and typing into an app."""
    return " ".join(secret[index : index + 4] for index in range(0, len(secret), 4))


def _fernet() -> MultiFernet:
    """Keys derived from SECRET_KEY (and SECRET_KEY_FALLBACKS, for rotation): the first encrypts, any decrypts."""
    keys = [current_app.config["SECRET_KEY"], *(current_app.config.get("SECRET_KEY_FALLBACKS") or [])]
    return MultiFernet([Fernet(_derive(str(key))) for key in keys if key])


def _derive(key: str) -> bytes:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"portal totp secrets").derive(
        key.encode("utf-8")
    )
    return base64.urlsafe_b64encode(derived)


def encrypt_secret(secret: str) -> str:
    return _fernet().encrypt(secret.encode("ascii")).decode("ascii")


def decrypt_secret(stored: str) -> str:
    try:
        return _fernet().decrypt(stored.encode("ascii")).decode("ascii")
    except InvalidToken as error:
        raise UnreadableSecret from error


def provisioning_uri(secret: str, account: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=current_app.config["SITE_NAME"])


def qr_svg(uri: str) -> Markup:
    """The otpauth URI as an inline SVG QR code drawn on the server (no script, no inline style)."""
    svg = segno.make(uri, error="m").svg_inline(
        scale=5, border=4, dark="#000", light="#fff", title="QR code for your authenticator app", svgclass="qr-code"
    )
    return Markup(svg.replace("<svg ", '<svg role="img" ', 1))  # noqa: S704 - segno's own markup, our URI


def current_step(now: float | None = None) -> int:
    return int((time.time() if now is None else now) // STEP_SECONDS)


def matching_step(secret: str, code: str, now: float | None = None) -> int | None:
    """The time-step whose code this is (the current one or a neighbour), or None when it matches none."""
    if len(code) != DIGITS or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
    step = current_step(now)
    for offset in VALID_STEPS:
        if hmac.compare_digest(totp.generate_otp(step + offset), code):
            return step + offset
    return None


def new_recovery_codes() -> list[str]:
    """Ten single-use codes like 'k7vq-2mxe-p9ta'."""
    return [
        "-".join(
            "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_GROUP_LENGTH))
            for _ in range(RECOVERY_GROUPS)
        )
        for _ in range(RECOVERY_CODE_COUNT)
    ]


def normalise_code(code: str) -> str:
    """What the person typed, without spaces and hyphens, lower-cased."""
    return "".join(character for character in code.lower() if character.isalnum())


def recovery_digest(user_id: int, code: str) -> str:
    """What is stored of a recovery code: a hash tied to its user."""
    return hashlib.sha256(f"recovery:{user_id}:{normalise_code(code)}".encode()).hexdigest()
