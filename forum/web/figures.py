"""Statistics as pages show them: each figure formatted (rates, durations, counts withheld), the
charts' geometry, and the pieces that show figures (Accountability, FiguresTable)."""

from __future__ import annotations

from typing import Any, Callable, Iterable, Sequence

from forum.services import stats
from forum.web import i18n
from forum.web.modules import Piece

# What a template passes as `translate` and `number`: its `_` and `number`.
Translate = Callable[[str], str]
Number = Callable[[Any], str]
# A group's figures as the report gives them (stats' Figures.as_dict), and a table's rows:
# (label, figures, ...) as FiguresTable takes them.
Figures = dict[str, Any]
Row = Sequence[Any]
# A table's columns (key, heading, how: count, rate or hours) and scores (score, heading), and
# how a cell is shown: show(figures, key, how).
Column = tuple[str, str, str]
Show = Callable[[Figures, str, str], str]
# A month of the line chart: (YYYY-MM, its figures).
Month = tuple[str, Figures]


def duration(hours: float | None, translate: Translate, number: Number) -> str:
    """A time to reply as people say it: hours up to two days, days beyond; — for none."""
    if hours is None:
        return "—"
    if hours <= 48:
        return translate("%(hours)s 小时") % {"hours": number(round(hours, 1))}
    return translate("%(days)s 天") % {"days": number(round(hours / 24, 1))}


def figure(figures: Figures, key: str, how: str, translate: Translate, number: Number) -> str:
    """One figure of S as the statistics tables show it: rates as percentages, except while
    every accepted case of the group is still within its time (the rate says nothing yet: —),
    hours as a duration, counts as numbers."""
    if key in figures.get("withheld", ()) and how == "count":
        return stats.WITHHELD
    if how == "rate":
        return "—" if not_yet_due(figures) else percent(figures[key])
    if how == "hours":
        return duration(figures[key], translate, number)
    return number(figures[key])


WITHHELD = stats.WITHHELD


def score(figures: Figures, key: str, number: Number) -> str:
    """How many times a group's cases were rated `key` (a score of workflow.RATINGS)."""
    if f"satisfaction.{key}" in figures.get("withheld", ()):
        return stats.WITHHELD
    return number(figures["satisfaction"].get(key, 0))


def withheld(rows: Iterable[Row]) -> bool:
    """Whether any row's figures (the second item of each) had a figure withheld."""
    return any(row[1].get("withheld") for row in rows)


def not_yet_due(figures: Figures) -> bool:
    """Whether every accepted case of a group is still within its time to reply."""
    return bool(figures["accepted"]) and figures.get("not_yet_due") == figures["accepted"]


def percent(rate: float | None) -> str:
    """A rate (0..1) as a percentage with one decimal; no rate (nothing to divide by) as —."""
    return "—" if rate is None else f"{rate * 100:.1f}%"


class Accountability(Piece):
    """This year's received, replied, 办结率 and satisfaction, linking to the statistics: on the
    home page for the case boards together, on a case board for itself."""

    def render(
        self,
        figures: stats.Summary,
        board_name: str | None = None,
        department_name: str | None = None,
    ) -> bytes:
        return self.render_string(
            "modules/accountability.html",
            figures=figures,
            board_name=board_name,
            department_name=department_name,
        )


class FiguresTable(Piece):
    """A table of statistics figures, one row per board, department, area, type or month, with
    its caption, a cue to scroll it on a phone and a link to download it as CSV. Rows are
    (label, figures), (label, figures, address the label links to) or (label, figures, address
    or None, a cell under `extra_heading`)."""

    def render(
        self,
        caption_id: str,
        caption: str,
        heading: str,
        rows: Sequence[Row],
        columns: Sequence[Column],
        scores: Sequence[tuple[str, str]],
        show: Show,
        csv_url: str | None = None,
        extra_heading: str | None = None,
    ) -> bytes:
        return self.render_string(
            "modules/figures_table.html",
            caption_id=caption_id,
            caption=caption,
            heading=heading,
            rows=rows,
            columns=columns,
            scores=scores,
            show=show,
            csv_url=csv_url,
            extra_heading=extra_heading,
            waiting=any(not_yet_due(row[1]) for row in rows),
            withheld=withheld(rows),
        )


# Charts on the statistics page: inline SVG drawn by the template from this geometry. Widths
# are percentages of the chart's width, so text keeps its size on any screen; heights are px.
BAR_ROW = 48  # one department: its name on a line, its bar below
BAR_TRACK = 80.0  # percent of the width the longest bar (100%) takes; the rest is for labels


def _pct(value: float) -> str:
    return f"{value:.2f}%"


def bar_chart(rows: Iterable[tuple[str, float | None]]) -> dict[str, Any]:
    """Horizontal bars for rates: `rows` are (label, rate 0..1 or None) pairs, in order. Each bar
    has its label above it and its value printed after its end."""
    bars: list[dict[str, Any]] = []
    for i, (label, rate) in enumerate(rows):
        share = min(max(rate or 0.0, 0.0), 1.0) * BAR_TRACK
        top = i * BAR_ROW
        bars.append(
            {
                "label": label,
                "rate": rate,
                "text": percent(rate),
                "label_y": top + 16,
                "bar_y": top + 22,
                "bar_height": 16,
                "width": _pct(share),
                "text_x": _pct(share),
                "text_y": top + 35,
            }
        )
    rated = [b for b in bars if b["rate"] is not None]
    return {
        "bars": bars,
        "height": len(bars) * BAR_ROW + 4,
        "track": _pct(BAR_TRACK),
        "best": max(rated, key=lambda b: b["rate"], default=None),
        "worst": min(rated, key=lambda b: b["rate"], default=None),
    }


def _nice_top(largest: float) -> tuple[int, int]:
    """A round axis top at or above `largest`, and its step: at most four steps of 1, 2 or 5
    times a power of ten."""
    magnitude = 1
    while True:
        for unit in (1, 2, 5):
            step = unit * magnitude
            if largest <= step * 4:
                steps = max(1, -(-int(largest) // step))
                return step * steps, step
        magnitude *= 10


LINE_LEFT, LINE_WIDTH = 9.0, 88.0  # percent: room for the axis numbers on the left
LINE_TOP, LINE_PLOT = 12, 160  # px: the plot's top and height; month names go below
LINE_VIEW = 1000  # the inner drawing's width in its own units (stretched)


def line_chart(
    given: Iterable[Month],
    keys: Sequence[str] = ("received", "closed"),
    code: str = i18n.DEFAULT_LOCALE,
) -> dict[str, Any]:
    """Lines per month: `given` are (YYYY-MM, figures dict) pairs, oldest first (months missing
    between them count as zero); one series per key of the figures. Lines are drawn in a
    stretched inner SVG (`view`, `points`); dots, axis numbers and month names in the outer one
    at percentages (`x`), so they keep their shape."""
    months = _every_month(list(given), keys)
    n = len(months)
    if n == 0:  # no cases yet: an empty chart, and the page says so
        return {"series": [], "labels": [], "ticks": [], "view": LINE_VIEW, "empty": True}
    largest = max((f[k] or 0 for _, f in months for k in keys), default=0)
    top, step = _nice_top(max(largest, 1))
    fracs = [i / (n - 1) if n > 1 else 0.5 for i in range(n)]

    def y(value: float | None) -> float:
        return round(LINE_PLOT - (value or 0) / top * LINE_PLOT, 1)

    series: list[dict[str, Any]] = []
    for key in keys:
        values = [f[key] or 0 for _, f in months]
        series.append(
            {
                "key": key,
                "points": " ".join(
                    f"{round(fr * LINE_VIEW, 1)},{y(v)}" for fr, v in zip(fracs, values)
                ),
                "dots": [
                    {
                        "x": _pct(LINE_LEFT + fr * LINE_WIDTH),
                        "y": round(LINE_TOP + y(v), 1),
                        "value": v,
                        "month": month,
                    }
                    for fr, v, (month, _) in zip(fracs, values, months)
                ],
                "least": min(values, default=0),
                "most": max(values, default=0),
                "last": values[-1] if values else 0,
            }
        )
    # Month names: about 12 fit a wide chart, 6 a phone; the newest month is always named.
    # A label carries its year where the year changes from the label before it; on a phone,
    # from the phone's label before it (`year_narrow_only`: a year only a phone needs).
    wide = -(-n // 12)
    narrow = wide * -(-n // (wide * 6))
    labels: list[dict[str, Any]] = []
    year_before: str | None = None
    year_before_major: str | None = None
    for i, (month, _) in enumerate(months):
        back = n - 1 - i
        if back % wide:
            continue
        minor = bool(back % narrow)
        year = month[:4]
        wide_year = year != year_before
        narrow_year = not minor and year != year_before_major
        text = (
            i18n.MONTHS_EN[int(month[5:]) - 1] if code.startswith("en") else f"{int(month[5:])}月"
        )
        labels.append(
            {
                "x": _pct(LINE_LEFT + fracs[i] * LINE_WIDTH),
                "text": text,
                "year": year if wide_year or narrow_year else None,
                "year_narrow_only": narrow_year and not wide_year,
                "minor": minor,
            }
        )
        year_before = year
        if not minor:
            year_before_major = year
    ticks = [{"value": v, "y": round(LINE_TOP + y(v), 1)} for v in range(0, top + 1, step)]
    return {
        "series": series,
        "labels": labels,
        "ticks": ticks,
        "top": top,
        "view": f"0 0 {LINE_VIEW} {LINE_PLOT}",
        "plot_x": _pct(LINE_LEFT),
        "plot_width": _pct(LINE_WIDTH),
        "plot_end": _pct(LINE_LEFT + LINE_WIDTH),
        "plot_top": LINE_TOP,
        "plot_height": LINE_PLOT,
        "axis_x": _pct(LINE_LEFT - 1.5),
        "label_y": LINE_TOP + LINE_PLOT + 20,
        "height": LINE_TOP + LINE_PLOT + 48,
        "first": months[0][0] if months else None,
        "last": months[-1][0] if months else None,
    }


def _every_month(months: list[Month], keys: Sequence[str]) -> list[Month]:
    """The months from the first to the last, those without cases as zeros, so that the line's
    steps are equal spans of time."""
    if not months:
        return months
    have = dict(months)
    year, month = int(months[0][0][:4]), int(months[0][0][5:7])
    filled: list[Month] = []
    while True:
        name = f"{year:04d}-{month:02d}"
        filled.append((name, have.get(name) or {key: 0 for key in keys}))
        if name >= months[-1][0]:
            return filled
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
