"""Pictures as plain data: what a chart or a body map shows, never how it is drawn.

The core decides what goes in a picture (`bot.core.progress`: which days, which areas, how
sore, which days had a workout, a roll or a massage, the words on it) and puts it in a
`Reply` as `Reply.picture`. Drawing it is not the core's job: every adapter hands the
picture to `bot.pictures`, which draws it with matplotlib in a worker thread and sends the
PNG as the reply's `Image`. So the core stays pure, a slow drawing never holds the event
loop, and start-up never imports matplotlib.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True, slots=True)
class Series:
    """One area's soreness, one value (0-10, decayed as the recommender counts it) a day."""

    name: str  # the area's name, as the legend shows it
    values: tuple[float, ...]  # one a day; NaN before the user joined (nothing known)


@dataclass(frozen=True, slots=True)
class ChartWords:
    """The words on a history chart (from bot/content/messages.yaml)."""

    axis: str  # the soreness axis
    workouts: str
    rolled: str
    massages: str
    nothing_sore: str  # shown across the plot when no area was sore


@dataclass(frozen=True, slots=True)
class HistoryChart:
    """Soreness per area over the last weeks, with the days of workouts, rolling sessions
    and massages marked. `workouts`, `rolled` and `massages` index into `days`."""

    title: str
    days: tuple[date, ...]  # local days, oldest first
    series: tuple[Series, ...]  # at most `progress.MAX_CHART_AREAS`, sorest first
    workouts: tuple[int, ...]
    rolled: tuple[int, ...]
    massages: tuple[int, ...]
    words: ChartWords
    filename: str = "history.png"


@dataclass(frozen=True, slots=True)
class Shade:
    """One body area on the map: its id (the drawing's shapes are keyed by it), its name,
    its soreness now (0-10, decayed) and whether a warning sign was reported for it."""

    area: str
    name: str
    soreness: float
    red_flag: bool = False


@dataclass(frozen=True, slots=True)
class BodyMapWords:
    """The words on a body map (from bot/content/messages.yaml)."""

    front: str
    back: str
    scale: str  # what the shading means
    red_flag: str  # what the marked areas mean


@dataclass(frozen=True, slots=True)
class BodyMap:
    """Front and back of a body with every area shaded by its soreness now."""

    title: str
    areas: tuple[Shade, ...]  # every area of the library, in its order
    words: BodyMapWords
    filename: str = "body-map.png"


Picture = HistoryChart | BodyMap
"""Every kind of picture the core can ask for."""
