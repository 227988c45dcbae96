"""A line chart of rubric scores over time, drawn as SVG on the server (no JavaScript)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from xml.sax.saxutils import escape

from markupsafe import Markup

from portal.feedback.rubric import CRITERIA
from portal.timeutil import to_local


@dataclass(frozen=True)
class Layout:
    """The drawing's size in SVG units. Text keeps its size on screen when the SVG is drawn near its own width:
    the wide layout from 576 px up, the narrow one below (CSS picks one), so axis text is never under 12 px."""

    name: str
    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int
    font: int
    most_dates: int  # date labels on the x axis; the table under the chart has every date


WIDE = Layout("wide", 680, 300, 44, 36, 16, 44, 12, 12)
NARROW = Layout("narrow", 320, 260, 30, 18, 14, 40, 13, 4)
# Colours distinguishable with common colour-vision deficiencies, and a marker shape for each line.
STYLES = {
    "python": ("#0b5cad", "circle"),
    "ml": ("#b35c00", "square"),
    "data": ("#1b7f3b", "triangle"),
    "system_design": ("#7a2a8c", "diamond"),
    "communication": ("#333333", "cross"),
}


def _marker(shape: str, x: float, y: float, colour: str, label: str) -> str:
    title = f"<title>{escape(label)}</title>"
    if shape == "circle":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4.5" fill="{colour}">{title}</circle>'
    if shape == "square":
        return f'<rect x="{x - 4:.1f}" y="{y - 4:.1f}" width="8" height="8" fill="{colour}">{title}</rect>'
    if shape == "triangle":
        points = f"{x:.1f},{y - 5:.1f} {x - 5:.1f},{y + 4:.1f} {x + 5:.1f},{y + 4:.1f}"
        return f'<polygon points="{points}" fill="{colour}">{title}</polygon>'
    if shape == "diamond":
        points = f"{x:.1f},{y - 5:.1f} {x + 5:.1f},{y:.1f} {x:.1f},{y + 5:.1f} {x - 5:.1f},{y:.1f}"
        return f'<polygon points="{points}" fill="{colour}">{title}</polygon>'
    return (
        f'<path d="M{x - 4:.1f},{y - 4:.1f} L{x + 4:.1f},{y + 4:.1f} M{x - 4:.1f},{y + 4:.1f} '
        f'L{x + 4:.1f},{y - 4:.1f}" stroke="{colour}" stroke-width="2.5">{title}</path>'
    )


def score_y(score: float, layout: Layout = WIDE) -> float:
    return layout.top + (5 - score) / 4 * (layout.height - layout.top - layout.bottom)


def labelled_dates(dates: list[datetime], most: int) -> list[datetime]:
    """At most `most` dates spread evenly from the first to the last, so that labels never overlap."""
    if len(dates) <= most:
        return dates
    step = (len(dates) - 1) / (most - 1)
    return [dates[round(index * step)] for index in range(most)]


def progress_chart(
    series: dict[str, list[tuple[datetime, int]]], zone_name: str, chart_id: str = "progress-chart"
) -> Markup:
    """The chart twice, wide and narrow (CSS shows the one that fits the screen)."""
    return _drawing(series, zone_name, chart_id, WIDE) + _drawing(series, zone_name, f"{chart_id}-narrow", NARROW)


def _drawing(series: dict[str, list[tuple[datetime, int]]], zone_name: str, chart_id: str, layout: Layout) -> Markup:
    """An SVG line per criterion: x is the session date (in order), y the score from 1 to 5."""
    dates = sorted({when for points in series.values() for when, _ in points})
    if not dates:
        return Markup("")
    width, left, right, font = layout.width, layout.left, layout.right, layout.font
    plot_width = width - left - right
    step = plot_width / max(len(dates) - 1, 1)
    x_of = {when: left + (index * step if len(dates) > 1 else plot_width / 2) for index, when in enumerate(dates)}
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {layout.height}" '
        f'class="progress-chart progress-chart-{layout.name}" '
        f'role="img" aria-labelledby="{chart_id}-title {chart_id}-desc" id="{chart_id}">',
        f'<title id="{chart_id}-title">Interview scores over time</title>',
        f'<desc id="{chart_id}-desc">Scores from 1 to 5 for each rubric criterion at each session; '
        "the table below gives the same numbers.</desc>",
    ]
    for score in range(1, 6):
        y = score_y(score, layout)
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" class="grid" '
            'stroke="#d0d5da" stroke-width="1"/>'
        )
        parts.append(
            f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end" font-size="{font}" fill="#333333">{score}</text>'
        )
    for when in labelled_dates(dates, layout.most_dates):
        local = to_local(when, zone_name)
        anchor = "middle"
        if len(dates) > 1 and when == dates[0]:
            anchor = "start"
        elif len(dates) > 1 and when == dates[-1]:
            anchor = "end"
        parts.append(
            f'<text x="{x_of[when]:.1f}" y="{layout.height - layout.bottom + 20}" text-anchor="{anchor}" '
            f'font-size="{font}" fill="#333333">{local.day} {local:%b}</text>'
        )
    for criterion in CRITERIA:
        points = series.get(criterion.key) or []
        if not points:
            continue
        colour, shape = STYLES[criterion.key]
        coordinates = [(x_of[when], score_y(score, layout), score, when) for when, score in points]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _, _ in coordinates)
        parts.append(f'<g class="series" data-criterion="{criterion.key}">')
        if len(coordinates) > 1:
            parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2.5"/>')
        for x, y, score, when in coordinates:
            local = to_local(when, zone_name)
            label = f"{criterion.name}, {local.day} {local:%b %Y}: {score}"
            parts.append(_marker(shape, x, y, colour, label))
        parts.append("</g>")
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text inside is escaped above


def legend() -> list[tuple[str, str, str]]:
    """(criterion name, colour, shape) for the legend under the chart."""
    return [(criterion.name, *STYLES[criterion.key]) for criterion in CRITERIA]
