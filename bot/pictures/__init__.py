"""Drawing the core's pictures: a `Reply.picture` (plain data) becomes a PNG `Reply.image`.

- `render(picture)` draws one picture with matplotlib's Agg canvas (no display, no pyplot
  state) and returns the PNG as an `Image`: the history chart (`chart`) or the body map
  (`bodymap`). matplotlib is imported on the first drawing, never at start-up.
- `draw(picture)` runs `render` in this package's one worker thread, so a drawing never
  holds the event loop: other users' replies go out while it runs. One thread, because
  matplotlib's shared state (fonts, caches) is not safe across threads and the drawings are
  CPU-bound anyway.
- `draw_reply` and `draw_replies` are what every adapter calls before it sends: each
  picture is drawn into the reply's image. A drawing that fails is logged and the reply
  goes without it (its text still says everything). `draw_replies` takes the platform's
  "working on it" signal (Telegram's "sending a photo…", Discord's typing indicator) as a
  context manager to hold while drawing.

Readable on a phone: 1000 px wide, large type, Okabe-Ito colours (told apart with colour
blindness) and a marker and line style per area, a lightness scale for soreness, hatching
for warning signs; every PNG stays under `MAX_BYTES`.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager
from dataclasses import replace

from bot.core.picture import BodyMap, HistoryChart, Picture
from bot.core.replies import Image, Reply

log = logging.getLogger(__name__)

MAX_BYTES = 200_000
"""Every PNG stays under this (phones on slow networks; Telegram recompresses bigger ones)."""

_pool: ThreadPoolExecutor | None = None
_settled = False


def _settle_matplotlib() -> None:
    """Import matplotlib (the first drawing's cost, ~1 s) and move what it loaded out of the
    garbage collector's sight, as the adapters do with start-up objects: it lives as long
    as the process, and full collections walking its thousands of objects were the slow
    tail of the drawings (bench/charts.py)."""
    import matplotlib.backends.backend_agg
    import matplotlib.figure  # noqa: F401

    gc.freeze()


def render(picture: Picture) -> Image:
    """Draw one picture into a PNG (synchronously: call `draw` from the event loop)."""
    global _settled  # noqa: PLW0603 - once per process
    if not _settled:
        _settled = True
        _settle_matplotlib()
    if isinstance(picture, HistoryChart):
        from bot.pictures import chart

        png = chart.draw(picture)
    elif isinstance(picture, BodyMap):
        from bot.pictures import bodymap

        png = bodymap.draw(picture)
    else:  # pragma: no cover - the union is closed
        raise TypeError(f"cannot draw {type(picture).__name__}")
    if len(png) > MAX_BYTES:
        log.warning("pictures: %s is %d bytes, over %d", picture.filename, len(png), MAX_BYTES)
    return Image(png, picture.filename)


def _executor() -> ThreadPoolExecutor:
    global _pool  # noqa: PLW0603 - one drawing thread per process, made on first use
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pictures")
    return _pool


async def draw(picture: Picture) -> Image:
    """`render` in the drawing thread: the event loop runs on meanwhile."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_executor(), render, picture)


async def draw_reply(reply: Reply) -> Reply:
    """The reply with its picture drawn into its image; without it if drawing failed."""
    if reply.picture is None:
        return reply
    try:
        image = await draw(reply.picture)
    except Exception:
        log.exception("pictures: drawing %s failed; sent without it", reply.picture.filename)
        return replace(reply, picture=None)
    return replace(reply, image=image, picture=None)


def has_pictures(replies: Sequence[Reply]) -> bool:
    return any(reply.picture is not None for reply in replies)


async def draw_replies(
    replies: Sequence[Reply],
    showing: Callable[[], AbstractAsyncContextManager[object]] | None = None,
) -> list[Reply]:
    """Every picture in `replies` drawn, in order, while `showing()` is held (when given
    and there is something to draw)."""
    if not has_pictures(replies):
        return list(replies)
    async with showing() if showing is not None else contextlib.nullcontext():
        return [await draw_reply(reply) for reply in replies]
