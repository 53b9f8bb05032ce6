"""Buttons fitted to a platform: rows re-flowed, labels shortened, long data tokenised."""

from __future__ import annotations

from bot.adapters.buttons import ButtonTokens, fit_rows
from bot.core.ports import Capabilities
from bot.core.replies import Button

DISCORD = Capabilities(max_rows=5, max_per_row=5, max_label=80, max_data=100)


def buttons(count: int, prefix: str = "b") -> tuple[Button, ...]:
    return tuple(Button(f"{prefix}{n}", f"{prefix}:{n}") for n in range(count))


def test_rows_that_fit_are_kept_as_they_are() -> None:
    rows = (buttons(2), buttons(3, "c"))
    assert fit_rows(rows, DISCORD) == rows


def test_a_long_row_is_split() -> None:
    assert [len(row) for row in fit_rows((buttons(7),), DISCORD)] == [5, 2]


def test_too_many_rows_are_packed_densely() -> None:
    area_picker = tuple(buttons(3, f"r{n}") for n in range(6))  # 6 rows of 3, 18 buttons
    fitted = fit_rows(area_picker, DISCORD)
    assert len(fitted) <= 5 and all(len(row) <= 5 for row in fitted)
    assert [b for row in fitted for b in row] == [b for row in area_picker for b in row]


def test_what_cannot_fit_is_left_off_from_the_end() -> None:
    fitted = fit_rows((buttons(30),), DISCORD)
    assert sum(len(row) for row in fitted) == 25
    assert fitted[0][0].label == "b0"


def test_a_long_label_is_shortened_with_an_ellipsis() -> None:
    (row,) = fit_rows(((Button("x" * 100, "d"),),), DISCORD)
    assert len(row[0].label) == 80 and row[0].label.endswith("…")


def test_short_data_is_kept_and_long_data_round_trips_through_a_token() -> None:
    tokens = ButtonTokens(max_data=64)
    assert tokens.encode("sc:save") == "sc:save"
    long = "g:0:" + ",".join(f"area{n}.120" for n in range(10))
    token = tokens.encode(long)
    assert len(token.encode()) <= 64 and token != long
    assert tokens.encode(long) == token  # the same data, the same token
    assert tokens.decode(token) == long


def test_an_unknown_token_decodes_to_nothing_so_the_button_reads_as_expired() -> None:
    assert ButtonTokens(max_data=64).decode("~7") == ""


def test_the_oldest_tokens_are_forgotten_past_the_table_size() -> None:
    tokens = ButtonTokens(max_data=8, size=2)
    first, second, third = (tokens.encode(f"long-data-{n}") for n in range(3))
    assert tokens.decode(first) == ""
    assert tokens.decode(second) and tokens.decode(third)
