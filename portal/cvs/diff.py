"""What changed between two versions of a CV's text, line by line, for showing side by side with a review."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from difflib import SequenceMatcher


@dataclass(frozen=True)
class DiffLine:
    kind: str  # "same", "added" or "removed"
    text: str


def _lines(text: str) -> list[str]:
    """The non-empty lines, stripped: layout changes alone do not count as changes."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def text_diff(old: str, new: str, context: int = 2) -> list[DiffLine | None]:
    """Changed lines with up to `context` unchanged lines around each; None stands for a run of skipped lines.

    Identical texts (ignoring blank lines and surrounding spaces) give []. Raises ValueError for a negative context.
    """
    if context < 0:
        raise ValueError("context must not be negative")
    old_lines, new_lines = _lines(old), _lines(new)
    if old_lines == new_lines:
        return []

    full: list[DiffLine] = []
    matcher = SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    for tag, old_start, old_end, new_start, new_end in matcher.get_opcodes():
        if tag == "equal":
            full.extend(DiffLine("same", line) for line in old_lines[old_start:old_end])
            continue
        full.extend(DiffLine("removed", line) for line in old_lines[old_start:old_end])
        full.extend(DiffLine("added", line) for line in new_lines[new_start:new_end])

    keep = [False] * len(full)
    for index, line in enumerate(full):
        if line.kind != "same":
            for near in range(max(index - context, 0), min(index + context + 1, len(full))):
                keep[near] = True

    shown: list[DiffLine | None] = []
    for index, line in enumerate(full):
        if keep[index]:
            shown.append(line)
        elif not shown or shown[-1] is not None:
            shown.append(None)
    return shown


def diff_summary(lines: Iterable[DiffLine | None]) -> tuple[int, int]:
    """How many lines were added and how many removed."""
    added = removed = 0
    for line in lines:
        if line is not None and line.kind == "added":
            added += 1
        elif line is not None and line.kind == "removed":
            removed += 1
    return added, removed
