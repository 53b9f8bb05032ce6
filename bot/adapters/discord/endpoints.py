"""Where discord.py connects: the one place its URLs are overridden.

discord.py has no per-client setting for its servers. It builds every REST URL from the
class attribute `discord.http.Route.BASE` (which must include the API version, e.g.
`https://discord.com/api/v10`; interaction callbacks and followups use the same `Route`),
and a plain `Client` opens its gateway at `DiscordWebSocket.DEFAULT_GATEWAY`, a `yarl.URL`
(a string there breaks `with_query`). Both are process-wide, so they are set here, when an
adapter starts, and put back when it stops.

`DISCORD_API_BASE_URL` and `DISCORD_GATEWAY_URL` (bot/settings.py) point them at another
server: the tests' fake Discord, or a local Discord-compatible one. With only the API URL
set, the gateway is the one that API names (`GET /gateway/bot`), as Discord's own does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import yarl
from discord.gateway import DiscordWebSocket
from discord.http import HTTPClient, Route

from bot.settings import Settings

DISCORD_API = "https://discord.com/api/v10"
DISCORD_GATEWAY = "wss://gateway.discord.gg/"


@dataclass(frozen=True, slots=True)
class Endpoints:
    """The REST base URL (with the API version) and the gateway (None: ask the API)."""

    api: str
    gateway: yarl.URL | None

    @classmethod
    def from_settings(cls, settings: Settings) -> Endpoints:
        api = (settings.discord_api_base_url or DISCORD_API).rstrip("/")
        if settings.discord_gateway_url:
            return cls(api, yarl.URL(settings.discord_gateway_url))
        if settings.discord_api_base_url:
            return cls(api, None)  # another API: its own gateway, asked at start-up
        return cls(api, yarl.URL(DISCORD_GATEWAY))


def point_discord_py_at(endpoints: Endpoints) -> Callable[[], None]:
    """Set discord.py's REST base and gateway; returns the undo."""
    previous = (Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY)
    Route.BASE = endpoints.api
    DiscordWebSocket.DEFAULT_GATEWAY = endpoints.gateway or yarl.URL(DISCORD_GATEWAY)

    def undo() -> None:
        Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = previous

    return undo


async def use_the_apis_gateway(http: HTTPClient) -> yarl.URL:
    """The gateway the API names (`GET /gateway/bot`), set as discord.py's default."""
    _, url, _ = await http.get_bot_gateway()
    gateway = yarl.URL(url)
    DiscordWebSocket.DEFAULT_GATEWAY = gateway
    return gateway
