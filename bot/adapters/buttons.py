"""Buttons within a platform's limits: the core's rows re-flowed, long data made short.

The core's `Reply` knows nothing of platforms: its rows are as long as they read best, and
its button data as long as it needs to be (a guided routine carries its own steps). Each
adapter declares its `Capabilities`; `fit_rows` re-flows the rows into them and
`ButtonTokens` maps data over the platform's byte limit to a short token and back, as
python-telegram-bot's callback-data cache does. Tokens live in memory: after a restart an
old button with long data answers "this button has expired", never something else.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict

from bot.core.ports import Capabilities
from bot.core.replies import Button

TOKEN_MARK = "~"  # token data starts with it; the core's own data never does


def fit_rows(
    rows: tuple[tuple[Button, ...], ...], capabilities: Capabilities
) -> tuple[tuple[Button, ...], ...]:
    """The rows within the platform's limits, keeping their order and grouping when they fit.

    A row longer than allowed is split; when that makes too many rows, all buttons are
    packed densely instead; what still does not fit is left off (the end of a long list).
    Labels over the limit end in "…".
    """
    labelled = tuple(tuple(_short_label(b, capabilities.max_label) for b in row) for row in rows)
    per_row, max_rows = capabilities.max_per_row, capabilities.max_rows
    split = tuple(piece for row in labelled for piece in _chunks(row, per_row))
    if max_rows is None or len(split) <= max_rows:
        return split
    flat = tuple(button for row in labelled for button in row)
    dense = _chunks(flat, per_row)
    return tuple(dense[:max_rows])


def _chunks(buttons: tuple[Button, ...], size: int | None) -> list[tuple[Button, ...]]:
    if size is None or len(buttons) <= size:
        return [buttons] if buttons else []
    return [buttons[i : i + size] for i in range(0, len(buttons), size)]


def _short_label(button: Button, limit: int | None) -> Button:
    if limit is None or len(button.label) <= limit:
        return button
    return Button(button.label[: limit - 1].rstrip() + "…", button.data, button.role)


class ButtonTokens:
    """Long button data <-> short tokens, for platforms with a byte limit on button data."""

    def __init__(self, max_data: int, size: int = 20_000) -> None:
        self.max_data = max_data
        self.size = size
        self._by_token: OrderedDict[str, str] = OrderedDict()
        self._by_data: dict[str, str] = {}
        self._ids = itertools.count(1)

    def encode(self, data: str) -> str:
        """`data` itself when it fits; otherwise a token remembered for `decode`."""
        if len(data.encode("utf-8")) <= self.max_data and not data.startswith(TOKEN_MARK):
            return data
        token = self._by_data.get(data)
        if token is None:
            token = f"{TOKEN_MARK}{next(self._ids):x}"
            self._by_data[data] = token
            self._by_token[token] = data
            if len(self._by_token) > self.size:
                _, forgotten = self._by_token.popitem(last=False)
                self._by_data.pop(forgotten, None)
        else:
            self._by_token.move_to_end(token)
        return token

    def decode(self, data: str) -> str:
        """The data a tapped button stands for; "" for a token no longer known (expired)."""
        if not data.startswith(TOKEN_MARK):
            return data
        return self._by_token.get(data, "")
