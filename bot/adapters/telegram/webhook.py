"""Telegram's webhook posts, received on aiohttp: the secret is checked before the body is read.

python-telegram-bot's own webhook server (tornado) reads a whole post, up to 100 MB, before
it looks at the secret token: eight forged 90 MB posts took the bot to 852 MB. Here a post
without Telegram's `X-Telegram-Bot-Api-Secret-Token` is refused from its headers alone, and
a body over `MAX_UPDATE_BYTES` (an update is a few KB) is refused from its length, or as
soon as it passes the cap. Accepted updates go to PTB's `Application.update_queue`, the
way PTB's custom-webhook examples feed it, so handling is the same as with polling.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from telegram import Update

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_UPDATE_BYTES = 1024 * 1024
LINGER_SECONDS = 1.0
"""After refusing a post (403, 413), how long its unsent body is still read and dropped before
the connection closes: aiohttp's default of 10 s would hold a stop that long."""


class WebhookReceiver:
    """An aiohttp server on `listen`:`port` that takes Telegram's posts at `path`."""

    def __init__(
        self,
        application: Any,
        path: str,
        secret: str,
        listen: str,
        port: int,
        *,
        on_arrival: Callable[[Update], Awaitable[None]] | None = None,
    ) -> None:
        self.application = application
        self.on_arrival = on_arrival  # several workers: recorded before the 200 (ordering)
        self.path = "/" + path.lstrip("/")
        self.secret = secret
        self.listen = listen
        self.port = port
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application(client_max_size=MAX_UPDATE_BYTES)
        app.router.add_post(self.path, self.receive)
        # access lines would hold paths; a refused post's unread body is not waited for
        self._runner = web.AppRunner(app, access_log=None, lingering_time=LINGER_SECONDS)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.listen, self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def receive(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self.secret.encode()):
            return web.Response(status=403)  # not from Telegram; the body is never read
        if (request.content_length or 0) > MAX_UPDATE_BYTES:
            return web.Response(status=413)
        try:
            data = await request.json()
            update = Update.de_json(data, self.application.bot)
        except web.HTTPRequestEntityTooLarge:
            return web.Response(status=413)
        except (ValueError, TypeError, KeyError, json.JSONDecodeError):
            log.info("webhook: a post from Telegram that is not an update was refused")
            return web.Response(status=400)
        if update is None:
            return web.Response(status=400)
        if self.on_arrival is not None:
            try:
                await self.on_arrival(update)
            except Exception:  # the database is away: Telegram posts it again later
                log.warning("webhook: could not record an update's arrival", exc_info=True)
                return web.Response(status=503)
        await self.application.update_queue.put(update)
        return web.Response(status=200)
