"""The body map: front and back silhouettes from simple shapes, each area shaded by how
sore it is now, warning-sign areas hatched and outlined apart.

Coordinates are a 100 x 200 box per view (x right, y up, feet at the bottom); `FRONT` and
`BACK` list each area's shapes (ellipses and polygons, both sides of a paired muscle).
Every area in bot/content/areas.yaml has shapes on at least one view (tests hold that).
Soreness is a lightness scale (light = fine, dark = 10/10), so it reads with any colour
vision and in greyscale; a warning sign is a hatch and a thick outline, not a colour.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Ellipse, Patch, Polygon

from bot.core.picture import BodyMap, Shade
from bot.pictures.png import figure_png

WIDTH, HEIGHT, DPI = 10.0, 8.4, 100  # 1000 x 840 px
INK = "#222222"
SKIN = "#E8E8E8"
OUTLINE = "#9A9A9A"
FLAG_EDGE = "#000000"
SCALE = LinearSegmentedColormap.from_list(
    "soreness", ("#FFF7EC", "#FDD49E", "#FC8D59", "#D7301F", "#7F0000")
)
TITLE_SIZE, LABEL_SIZE, NUMBER_SIZE, LEGEND_SIZE = 26, 20, 15, 16
MIN_NUMBER_WIDTH = 6.0
"""Areas narrower than this (IT band, adductors, lats) get no number: it would not fit;
the reply's text lists every sore area with its number."""

Shape = tuple[str, tuple[float, ...]]
"""("ellipse", (x, y, width, height)) or ("polygon", (x1, y1, x2, y2, ...))."""


def _both(kind: str, left: tuple[float, ...]) -> list[Shape]:
    """A shape on the left side of the body and its mirror image on the right."""
    if kind == "ellipse":
        x, y, w, h = left
        return [(kind, left), (kind, (100 - x, y, w, h))]
    mirrored: list[float] = []
    for n in range(0, len(left), 2):
        mirrored += [100 - left[n], left[n + 1]]
    return [(kind, left), (kind, tuple(mirrored))]


def _box(x0: float, y0: float, x1: float, y1: float) -> tuple[float, ...]:
    return (x0, y0, x1, y0, x1, y1, x0, y1)


SILHOUETTE: list[Shape] = [
    ("ellipse", (50, 183, 20, 24)),  # head
    ("polygon", _box(44, 160, 56, 173)),  # neck
    ("polygon", (27, 161, 73, 161, 68, 112, 65, 92, 35, 92, 32, 112)),  # torso
    ("polygon", (35, 93, 65, 93, 67, 76, 33, 76)),  # pelvis
    *_both("polygon", (23, 162, 30, 160, 28, 120, 19, 121)),  # upper arm
    *_both("polygon", (19, 122, 28, 121, 24, 86, 15, 87)),  # forearm
    *_both("ellipse", (19, 80, 9, 13)),  # hand
    *_both("polygon", (33, 78, 50, 78, 48.5, 46, 36, 46)),  # thigh
    *_both("polygon", (36.5, 47, 48, 47, 46.5, 12, 39, 12)),  # lower leg
    *_both("ellipse", (42.5, 7, 11, 8)),  # foot
]

FRONT: dict[str, list[Shape]] = {
    "neck": [("polygon", _box(44.5, 161, 55.5, 171))],
    "shoulders": _both("ellipse", (29, 153, 13, 14)),
    "chest": _both("polygon", (35, 157, 49, 157, 49, 137, 36, 135)),
    "biceps": _both("polygon", (22.5, 146, 29, 146, 28, 123, 20, 124)),
    "forearms": _both("polygon", (19.5, 119, 27.5, 118, 24, 90, 16, 91)),
    "hip_flexors": _both("polygon", (36, 90, 47, 86, 48, 78, 35, 80)),
    "quads": _both("polygon", (36.5, 76, 45, 76, 44.5, 52, 38, 51)),
    "adductors": _both("polygon", (45.5, 76, 49.5, 77, 48.5, 56, 45, 56)),
    "it_band": _both("polygon", (33.3, 76, 36, 76, 37.5, 50, 36, 49)),
    "shins": _both("polygon", (38.5, 43, 46, 43, 45, 16, 40, 16)),
    "feet": _both("ellipse", (42.5, 7, 10, 6.5)),
}

BACK: dict[str, list[Shape]] = {
    "neck": [("polygon", _box(44.5, 163, 55.5, 172))],
    "traps": [("polygon", (44, 166, 56, 166, 71, 157, 58, 143, 42, 143, 29, 157))],
    "shoulders": _both("ellipse", (27.5, 152, 10, 12)),
    "upper_back": [("polygon", (37, 145, 63, 145, 62, 124, 38, 124))],
    "lats": _both("polygon", (33, 141, 37, 141, 38, 112, 36, 108, 34, 113)),
    "lower_back": [("polygon", (39, 122, 61, 122, 63, 96, 37, 96))],
    "triceps": _both("polygon", (22.5, 150, 29, 149, 28, 124, 20, 125)),
    "forearms": _both("polygon", (19.5, 119, 27.5, 118, 24, 90, 16, 91)),
    "glutes": _both("ellipse", (42.3, 84, 15, 15)),
    "it_band": _both("polygon", (33.3, 76, 36, 76, 37.5, 50, 36, 49)),
    "hamstrings": _both("polygon", (36.5, 75, 48.5, 75, 47.5, 51, 38, 50)),
    "calves": _both("ellipse", (42.5, 31, 9.5, 24)),
    "feet": _both("ellipse", (42.5, 6, 8, 5.5)),
}


def draw(body: BodyMap) -> bytes:
    """The body map as PNG bytes."""
    figure = Figure(figsize=(WIDTH, HEIGHT), dpi=DPI, facecolor="white")
    FigureCanvasAgg(figure)
    shades = {shade.area: shade for shade in body.areas}
    for n, (label, shapes) in enumerate(((body.words.front, FRONT), (body.words.back, BACK))):
        left = 0.02 + 0.49 * n
        axes = figure.add_axes((left, 0.16, 0.47, 0.72))
        axes.set_xlim(5, 95)
        axes.set_ylim(0, 197)
        axes.set_aspect("equal")
        axes.set_axis_off()
        figure.text(left + 0.235, 0.89, label, ha="center", fontsize=LABEL_SIZE, color=INK)
        for shape in SILHOUETTE:
            axes.add_artist(_patch(shape, facecolor=SKIN, edgecolor=OUTLINE, linewidth=1.2))
        for area, area_shapes in shapes.items():
            shade = shades.get(area)
            if shade is not None:
                _draw_area(axes, shade, area_shapes)
    _legend(figure, body)
    figure.text(0.03, 0.975, body.title, fontsize=TITLE_SIZE, color=INK, va="top")
    return figure_png(figure)


def _draw_area(axes: Axes, shade: Shade, shapes: Sequence[Shape]) -> None:
    level = max(0.0, min(10.0, shade.soreness)) / 10
    colour = SCALE(level) if shade.soreness >= 0.5 else SKIN
    for shape in shapes:
        patch = _patch(
            shape,
            facecolor=colour,
            edgecolor=FLAG_EDGE if shade.red_flag else OUTLINE,
            linewidth=3.0 if shade.red_flag else 0.9,
            hatch="///" if shade.red_flag else None,
        )
        axes.add_artist(patch)  # limits are fixed: no need to fit them (add_patch's cost)
    if shade.soreness >= 1 and _width(shapes[0]) >= MIN_NUMBER_WIDTH:
        x, y = _centre(shapes[0])
        axes.text(
            x,
            y,
            str(round(shade.soreness)),
            ha="center",
            va="center",
            fontsize=NUMBER_SIZE,
            fontweight="bold",
            color="white" if level > 0.55 else INK,
        )


def _patch(shape: Shape, **style: Any) -> Patch:
    kind, values = shape
    if kind == "ellipse":
        x, y, w, h = values
        return Ellipse((x, y), w, h, **style)
    points = [(values[n], values[n + 1]) for n in range(0, len(values), 2)]
    return Polygon(points, closed=True, **style)


def _width(shape: Shape) -> float:
    kind, values = shape
    if kind == "ellipse":
        return values[2]
    xs = values[0::2]
    return max(xs) - min(xs)


def _centre(shape: Shape) -> tuple[float, float]:
    kind, values = shape
    if kind == "ellipse":
        return values[0], values[1]
    xs, ys = values[0::2], values[1::2]
    return sum(xs) / len(xs), sum(ys) / len(ys)


def _legend(figure: Figure, body: BodyMap) -> None:
    """The soreness scale, and what the hatching means when an area has it."""
    bar = figure.add_axes((0.08, 0.075, 0.42, 0.035))
    bar.imshow([[n / 49 for n in range(50)]], cmap=SCALE, aspect="auto", extent=(0, 10, 0, 1))
    bar.set_yticks(())
    bar.set_xticks((0, 5, 10))
    bar.set_xticklabels(("0", "5", "10"), fontsize=LEGEND_SIZE, color=INK)
    figure.text(0.08, 0.125, body.words.scale, fontsize=LEGEND_SIZE, color=INK)
    if any(shade.red_flag for shade in body.areas):
        flag = Patch(facecolor=SKIN, edgecolor=FLAG_EDGE, hatch="///", linewidth=3.0)
        figure.legend(
            handles=[flag],
            labels=[body.words.red_flag],
            loc="lower left",
            bbox_to_anchor=(0.55, 0.04),
            fontsize=LEGEND_SIZE,
            frameon=False,
            handlelength=2.2,
            handleheight=1.6,
        )
