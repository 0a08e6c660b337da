"""A member's progress as one PNG: activity calendar, grade trend, mastery by topic and category.

Drawn with matplotlib's object API on the Agg canvas (no pyplot, so no global state and safe in
the engine's worker threads). 1200 × 800 px, readable when a chat shrinks it to half. Colours
are colour-blind safe: the calendar uses steps of cividis (ordered by lightness), bars use the
Okabe-Ito blue, orange and vermillion for solid, partial and missing, and every bar carries its
number, so nothing depends on telling colours apart.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # matplotlib is imported on the first chart, not with the engine
    from matplotlib.axes import Axes

WIDTH_IN, HEIGHT_IN, DPI = 12.0, 8.0, 100  # 1200 × 800 px
SOLID, PARTIAL, MISSING = "#0072B2", "#E69F00", "#D55E00"  # Okabe-Ito
EMPTY = "#eeeeee"
ACTIVITY = ("#d6c35d", "#888578", "#4f576c", "#002b62")  # 1, 2, 3, 4+ answers: cividis
SOLID_AT, PARTIAL_AT = 0.75, 0.4  # the grader's bands (bot.grading.Band.of)
TOPICS_SHOWN = 10
TREND_WINDOW = 5


@dataclass(frozen=True)
class Mastery:
    label: str
    score: float  # mean grade, 0..1
    answers: int


@dataclass(frozen=True)
class ProgressData:
    name: str
    today: dt.date
    per_day: dict[dt.date, int]  # answers per local day
    streak: int
    best: int
    topics: Sequence[Mastery]
    categories: Sequence[Mastery]
    grades: Sequence[tuple[dt.date, float]]  # every graded answer, oldest first
    weeks: int = 12


def band_colour(score: float) -> str:
    return SOLID if score >= SOLID_AT else PARTIAL if score >= PARTIAL_AT else MISSING


def progress_png(data: ProgressData) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    # parse_math off: a member's name is text, never TeX (a "$" would break the chart)
    figure.suptitle(f"mlquiz progress — {data.name}, as of {data.today:%d %b %Y}",
                    fontsize=15, fontweight="bold", parse_math=False)
    grid = figure.add_gridspec(2, 2, height_ratios=(1, 1.25))
    _calendar(figure.add_subplot(grid[0, 0]), data)
    _trend(figure.add_subplot(grid[0, 1]), data.grades)
    _bars(figure.add_subplot(grid[1, 0]), "Mastery by topic (mean grade)",
          sorted(data.topics, key=lambda m: m.score)[:TOPICS_SHOWN])
    _bars(figure.add_subplot(grid[1, 1]), "Mastery by category (mean grade)",
          sorted(data.categories, key=lambda m: m.score))
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=DPI)
    return out.getvalue()


def _calendar(ax: Axes, data: ProgressData) -> None:
    """Answers per day over the last weeks: a column per week, Monday on top."""
    from matplotlib.colors import BoundaryNorm, ListedColormap
    from matplotlib.patches import Patch

    last_monday = data.today - dt.timedelta(days=data.today.weekday())
    first = last_monday - dt.timedelta(weeks=data.weeks - 1)
    grid = [[float("nan")] * data.weeks for _ in range(7)]
    for week in range(data.weeks):
        for weekday in range(7):
            day = first + dt.timedelta(weeks=week, days=weekday)
            if day <= data.today:
                grid[weekday][week] = data.per_day.get(day, 0)
    cmap = ListedColormap([EMPTY, *ACTIVITY]).with_extremes(bad="white")  # white: not yet
    norm = BoundaryNorm([-0.5, 0.5, 1.5, 2.5, 3.5, 1000], cmap.N)
    ax.imshow(grid, cmap=cmap, norm=norm, aspect="equal")
    ax.set_xticks(range(0, data.weeks, 2),
                  [f"{first + dt.timedelta(weeks=w):%d %b}" for w in range(0, data.weeks, 2)],
                  fontsize=9)
    ax.set_yticks([0, 2, 4, 6], ["Mon", "Wed", "Fri", "Sun"], fontsize=9)
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    active = sum(1 for day, n in data.per_day.items() if n and first <= day <= data.today)
    ax.set_title(f"Activity: {active} active day{'s' if active != 1 else ''} in "
                 f"{data.weeks} weeks · streak "
                 f"{data.streak} (best {data.best})", fontsize=12, loc="left")
    ax.legend(handles=[Patch(facecolor=cmap(i), label=label)
                       for i, label in enumerate(("0", "1", "2", "3", "4+"))],
              title="answers", fontsize=8, title_fontsize=9, frameon=False,
              loc="upper left", bbox_to_anchor=(1.01, 1.0))


def _trend(ax: Axes, grades: Sequence[tuple[dt.date, float]]) -> None:
    from matplotlib.lines import Line2D

    ax.set_title("Grades over time", fontsize=12, loc="left")
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("grade", fontsize=10)
    ax.axhspan(SOLID_AT, 1.05, color=SOLID, alpha=0.08)
    ax.axhline(SOLID_AT, color=SOLID, linewidth=0.8, linestyle=":")
    ax.axhline(PARTIAL_AT, color=PARTIAL, linewidth=0.8, linestyle=":")
    if not grades:
        ax.text(0.5, 0.5, "No graded answers yet", ha="center", va="center",
                transform=ax.transAxes, fontsize=12, color="#555555")
        ax.set_xticks([])
        return
    xs = list(range(1, len(grades) + 1))
    scores = [score for _day, score in grades]
    ax.scatter(xs, scores, c=[band_colour(s) for s in scores], s=28, zorder=3)
    window = [sum(scores[max(0, i - TREND_WINDOW + 1):i + 1])
              / len(scores[max(0, i - TREND_WINDOW + 1):i + 1]) for i in range(len(scores))]
    ax.plot(xs, window, color="#333333", linewidth=2)
    ax.set_xlabel("answers, oldest first", fontsize=10)
    ax.legend(handles=[
        Line2D([], [], color=colour, marker="o", linestyle="", label=label)
        for colour, label in ((SOLID, "solid"), (PARTIAL, "partial"), (MISSING, "missing"))]
        + [Line2D([], [], color="#333333", linewidth=2, label=f"mean of last {TREND_WINDOW}")],
        loc="lower right", fontsize=9, frameon=False, ncols=2)


def _bars(ax: Axes, title: str, rows: Sequence[Mastery]) -> None:
    ax.set_title(title, fontsize=12, loc="left")
    ax.set_xlim(0, 1.15)
    if not rows:
        ax.text(0.5, 0.5, "Nothing answered yet", ha="center", va="center",
                transform=ax.transAxes, fontsize=12, color="#555555")
        ax.set_xticks([])
        ax.set_yticks([])
        return
    labels = [row.label if len(row.label) <= 34 else row.label[:33] + "…" for row in rows]
    ys = range(len(rows))
    ax.barh(ys, [row.score for row in rows], color=[band_colour(row.score) for row in rows])
    ax.set_yticks(list(ys), labels, fontsize=9)
    for y, row in zip(ys, rows, strict=True):
        ax.text(row.score + 0.01, y, f"{row.score:.0%} ({row.answers})", va="center",
                fontsize=9)
    ax.axvline(SOLID_AT, color="#555555", linewidth=0.8, linestyle=":")
    ax.set_xticks([0, 0.25, 0.5, 0.75, 1.0], ["0", "25%", "50%", "75%", "100%"], fontsize=9)
