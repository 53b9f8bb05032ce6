"""Buttons as discord.ui components that keep working across restarts.

Every button the bot sends is a `CoachButton`: a `discord.ui.DynamicItem` whose template
matches any custom_id. It is registered once at start-up (`Client.add_dynamic_items`), so
a tap on any message, however old, reaches the adapter, also after a restart; the
custom_id is the button's data itself (or a `ButtonTokens` token for data over 100
characters), and data the coach no longer knows is answered as an expired button.

The views the bot sends are stopped before they are sent. discord.py then does not track
them per message, which matters twice: it would keep every sent view in memory, and a
view sent ephemerally gets a 15-minute timeout whose expiry *unregisters the dynamic item
the view contains* (`ViewStore.remove_view` drops the view's dynamic templates), after
which no button anywhere would answer.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import discord

from bot.core.replies import Button

ANY_CUSTOM_ID = re.compile(r"(?s).+")
STYLES = {"yes": discord.ButtonStyle.primary}  # by `Button.role`; the rest are grey


class ButtonHandler(Protocol):
    """What a tap goes to: the client the interaction came through has it."""

    on_coach_button: Callable[[discord.Interaction[Any], str], Awaitable[None]]


class CoachButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]], template=ANY_CUSTOM_ID
):
    """A button whose custom_id carries the coach's data; taps go to the client's
    `on_coach_button(interaction, custom_id)`."""

    def __init__(
        self,
        custom_id: str,
        label: str = "…",
        style: discord.ButtonStyle = discord.ButtonStyle.secondary,
        row: int | None = None,
    ) -> None:
        super().__init__(discord.ui.Button(label=label, custom_id=custom_id, style=style), row=row)

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> CoachButton:
        return cls(match.group(0), getattr(item, "label", None) or "…")

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        handler = getattr(interaction.client, "on_coach_button", None)
        if handler is not None:
            await handler(interaction, self.custom_id)


def view_for(rows: tuple[tuple[Button, ...], ...]) -> discord.ui.View | None:
    """The rows (already fitted, data already ≤ 100 characters) as a stopped view; a
    custom_id repeated in one message (Discord refuses those) keeps its first button."""
    if not rows:
        return None
    view = discord.ui.View(timeout=None)
    seen: set[str] = set()
    for index, row in enumerate(rows):
        for button in row:
            if button.data in seen:
                continue
            seen.add(button.data)
            style = STYLES.get(button.main_role or "", discord.ButtonStyle.secondary)
            view.add_item(CoachButton(button.data, button.label, style, row=index))
    view.stop()  # sent, never tracked (see the module's docstring)
    return view
