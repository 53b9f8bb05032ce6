"""The history chart: soreness per area over four weeks, with the days of workouts, rolling
sessions and massages marked in a strip under it.

Drawn on matplotlib's Agg canvas without pyplot (no global figure state, no display), at
1000 x 750 px with large type for a phone screen. Areas are told apart by colour
(Okabe-Ito, safe with colour blindness), marker and line style, so the chart also reads
in greyscale.
"""

from __future__ import annotations

import math

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from bot.core.picture import HistoryChart
from bot.pictures.png import figure_png

WIDTH, HEIGHT, DPI = 10.0, 7.5, 100  # 1000 x 750 px
COLOURS = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7")  # Okabe-Ito
MARKERS = ("o", "s", "^", "D", "v")
LINES = ("-", "--", "-.", ":", (0, (5, 1.5, 1, 1.5)))
INK = "#222222"
GRID = "#DDDDDD"
STRIP = (  # row of the strip, marker, colour
    ("workouts", "^", "#000000"),
    ("rolled", "o", "#009E73"),
    ("massages", "*", "#CC79A7"),
)
TITLE_SIZE, LABEL_SIZE, TICK_SIZE, LEGEND_SIZE = 26, 18, 16, 17


def draw(chart: HistoryChart) -> bytes:
    """The chart as PNG bytes."""
    figure = Figure(figsize=(WIDTH, HEIGHT), dpi=DPI, facecolor="white")
    FigureCanvasAgg(figure)
    grid = figure.add_gridspec(
        2, 1, height_ratios=(4.2, 1.3), hspace=0.08, left=0.16, right=0.97, top=0.80, bottom=0.09
    )
    plot = figure.add_subplot(grid[0])
    strip = figure.add_subplot(grid[1], sharex=plot)
    days = range(len(chart.days))

    for n, series in enumerate(chart.series):
        plot.plot(
            days,
            series.values,
            color=COLOURS[n % len(COLOURS)],
            marker=MARKERS[n % len(MARKERS)],
            linestyle=LINES[n % len(LINES)],
            linewidth=3,
            markersize=7,
            markevery=_marked_days(series.values),
            label=series.name,
        )
    plot.set_ylim(-0.3, 10.5)
    plot.set_yticks((0, 2, 4, 6, 8, 10))
    plot.set_ylabel(chart.words.axis, fontsize=LABEL_SIZE, color=INK)
    plot.grid(axis="y", color=GRID, linewidth=1)
    plot.tick_params(axis="y", labelsize=TICK_SIZE, colors=INK)
    plot.tick_params(axis="x", labelbottom=False, length=0)
    for side in ("top", "right"):
        plot.spines[side].set_visible(False)
    if chart.series:
        plot.legend(
            loc="lower left",
            bbox_to_anchor=(-0.14, 1.01),
            ncol=min(3, len(chart.series)),
            fontsize=LEGEND_SIZE,
            frameon=False,
            handlelength=2.4,
            columnspacing=1.2,
        )
    else:
        plot.text(
            0.5,
            0.5,
            chart.words.nothing_sore,
            transform=plot.transAxes,
            ha="center",
            va="center",
            fontsize=LABEL_SIZE + 2,
            color=INK,
        )

    rows = len(STRIP)
    for row, (name, marker, colour) in enumerate(STRIP):
        marked = getattr(chart, name)
        y = rows - 1 - row
        strip.axhline(y, color=GRID, linewidth=1, zorder=0)
        if marked:
            strip.scatter(marked, [y] * len(marked), marker=marker, s=170, color=colour, zorder=2)
    strip.set_ylim(-0.6, rows - 0.4)
    strip.set_yticks(range(rows))
    strip.set_yticklabels(
        [getattr(chart.words, name) for name, _, _ in reversed(STRIP)], fontsize=TICK_SIZE
    )
    strip.tick_params(axis="y", length=0, colors=INK)
    ticks = [n for n in days if (len(chart.days) - 1 - n) % 7 == 0]
    strip.set_xticks(ticks)
    strip.set_xticklabels(
        [f"{chart.days[n].day} {chart.days[n]:%b}" for n in ticks], fontsize=TICK_SIZE, color=INK
    )
    strip.set_xlim(-0.7, len(chart.days) - 0.3)
    for side in ("top", "right", "left"):
        strip.spines[side].set_visible(False)

    figure.suptitle(chart.title, fontsize=TITLE_SIZE, color=INK, x=0.03, y=0.975, ha="left")
    return figure_png(figure)


def _marked_days(values: tuple[float, ...]) -> list[int]:
    """A marker every few days counted back from today, and on the first day known: enough
    to tell the lines apart, few enough to stay clean, and a lone first point still shows."""
    step = max(1, len(values) // 10)
    known = [n for n, value in enumerate(values) if not math.isnan(value)]
    if not known:
        return []
    marked = set(range(known[-1], known[0] - 1, -step)) | {known[0]}
    return sorted(marked)
