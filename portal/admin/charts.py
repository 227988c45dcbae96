"""Horizontal bar charts as server-side SVG, each shown beside a table with the same numbers."""

from __future__ import annotations

from xml.sax.saxutils import escape

from markupsafe import Markup

ROW, LABEL_WIDTH, BAR_WIDTH, PAD = 28, 250, 330, 8
LABEL_CHARACTERS = 34


def short(label: str) -> str:
    return label if len(label) <= LABEL_CHARACTERS else label[: LABEL_CHARACTERS - 1].rstrip() + "…"


def bar_chart(chart_id: str, title: str, bars: list[tuple[str, float, str]], maximum: float | None = None) -> Markup:
    """One bar per (label, value, value text); bars scale to `maximum` (default the largest value)."""
    if not bars:
        return Markup("")
    top = maximum if maximum else max((value for _, value, _ in bars), default=0) or 1
    height = PAD * 2 + ROW * len(bars)
    width = LABEL_WIDTH + BAR_WIDTH + 90
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" class="bar-chart" '
        f'role="img" aria-labelledby="{chart_id}-title" id="{chart_id}">',
        f'<title id="{chart_id}-title">{escape(title)}; the table beside it gives the same numbers.</title>',
    ]
    for index, (label, value, text) in enumerate(bars):
        y = PAD + index * ROW
        length = max(value / top * BAR_WIDTH, 0)
        parts.append(
            f'<text x="{LABEL_WIDTH - 8}" y="{y + 18}" text-anchor="end" font-size="13" '
            f'fill="#212529">{escape(short(label))}</text>'
        )
        parts.append(
            f'<rect x="{LABEL_WIDTH}" y="{y + 5}" width="{length:.1f}" height="{ROW - 10}" fill="#1d5fa0">'
            f"<title>{escape(label)}: {escape(text)}</title></rect>"
        )
        parts.append(
            f'<text x="{LABEL_WIDTH + length + 6:.1f}" y="{y + 18}" font-size="13" fill="#212529">{escape(text)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text inside is escaped above
