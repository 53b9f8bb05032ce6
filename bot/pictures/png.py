"""A drawn figure as a small PNG: Agg's pixels, quantised to a 256-colour palette.

Flat charts have few colours; a palette PNG of one is a third of the size of matplotlib's
RGBA PNG (40 KB instead of 135 KB for a busy history chart) and encodes in a quarter of
the time, with no visible difference (Pillow's fast octree quantiser).
"""

from __future__ import annotations

import io
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image as PillowImage

COLOURS = 256


def figure_png(figure: Figure) -> bytes:
    """Draw `figure` on its Agg canvas and encode it as a palette PNG."""
    canvas: Any = figure.canvas  # Agg's methods are untyped in matplotlib's annotations
    if not isinstance(canvas, FigureCanvasAgg):
        canvas = FigureCanvasAgg(figure)
    canvas.draw()
    width, height = canvas.get_width_height()
    pixels = PillowImage.frombuffer("RGBA", (width, height), canvas.buffer_rgba(), "raw")
    palette = pixels.convert("RGB").quantize(COLOURS, method=PillowImage.Quantize.FASTOCTREE)
    out = io.BytesIO()
    palette.save(out, format="PNG")
    return out.getvalue()
