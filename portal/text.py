"""Untrusted text: the characters a form refuses, and the one cleaning every email header, subject and filename
goes through."""

from __future__ import annotations

import re

# Characters that change the direction text is shown in: "cv\u202egpj.pdf" reads as "cvfdp.jpg".
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Line and paragraph separators end a line as surely as LF does.
LINE_SEPARATORS = frozenset("\u2028\u2029")
# What a multi-line field keeps: line breaks and tabs.
MULTILINE_ALLOWED = frozenset("\r\n\t")


def is_control(character: str) -> bool:
    """C0 and C1 control characters (NUL, CR, LF, TAB, ESC, DEL, U+0080–U+009F ...)."""
    code = ord(character)
    return code < 0x20 or 0x7F <= code <= 0x9F


def is_unsafe(character: str) -> bool:
    """A control, bidi or line-separator character: none belongs on one line of text."""
    return is_control(character) or character in BIDI_CONTROLS or character in LINE_SEPARATORS


def forbidden_characters(text: str, *, multiline: bool = False) -> list[str]:
    """The distinct characters of `text` a field refuses, in order of appearance; a multi-line field keeps CR, LF
    and TAB."""
    found: list[str] = []
    for character in text:
        if is_unsafe(character) and not (multiline and character in MULTILINE_ALLOWED) and character not in found:
            found.append(character)
    return found


def describe_characters(characters: list[str]) -> str:
    """Code points people can look up, like "U+000D, U+202E"."""
    return ", ".join(f"U+{ord(character):04X}" for character in characters)


_SPACES = re.compile(r"\s+")


def one_line(text: str | None) -> str:
    """Text safe for an email header: every control, bidi or line-separator character becomes a space, runs of
    whitespace one space, and the ends are trimmed."""
    replaced = "".join(" " if is_unsafe(character) else character for character in text or "")
    return _SPACES.sub(" ", replaced).strip()


def safe_filename(name: str | None, default: str = "file") -> str:
    """A filename safe to store and to offer as a download or attachment name: the base name only (no folders from
    either kind of path), control and bidi characters removed, whitespace collapsed; `default` when nothing is left."""
    base = re.split(r"[/\\]", name or "")[-1]
    kept = "".join(character for character in base if not (is_control(character) or character in BIDI_CONTROLS))
    cleaned = one_line(kept).strip(". ")
    return cleaned or default
