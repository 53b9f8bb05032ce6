"""Slash commands: one `app_commands.Command` per command the coach answers, with typed
options read from `bot.core.commands.OPTIONS`.

Descriptions come from bot/content/messages.yaml (`commands`, the same menu Telegram shows),
options from `OPTIONS`: an "int" option is an integer (`minutes` limited to the 5-20
minutes a routine takes), a "choice" a string with Discord choices (the workouts, by
name), a "text" a string. All options are optional, as they are when typed: the coach
asks for what it needs. The callback's signature is built from the options, which is how
discord.py reads a command's parameters, and a run arrives at `on_command(interaction,
name, options)` with the typed values, never turned back into text.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Optional

import discord
from discord import app_commands

from bot.core.commands import OPTIONS, Option, OptionValue
from bot.core.content import Library
from bot.core.recommend import MAX_MINUTES, MIN_MINUTES

MAX_DESCRIPTION = 100  # Discord's limit for command and option descriptions
INT_RANGES = {"minutes": (MIN_MINUTES, MAX_MINUTES)}

OnCommand = Callable[[discord.Interaction[Any], str, dict[str, OptionValue]], Awaitable[None]]


def build_tree(
    client: discord.Client,
    library: Library,
    on_command: OnCommand,
    guild: discord.abc.Snowflake | None = None,
) -> app_commands.CommandTree[Any]:
    """The client's command tree: every command in the menu, global, and copied to `guild`
    when commands are synced to one guild (development)."""
    tree: app_commands.CommandTree[Any] = app_commands.CommandTree(client)
    for name, description in library.commands.items():
        tree.add_command(
            slash_command(name, description, OPTIONS.get(name, ()), library, on_command)
        )
    if guild is not None:
        tree.copy_global_to(guild=guild)
    return tree


def slash_command(
    name: str,
    description: str,
    options: tuple[Option, ...],
    library: Library,
    on_command: OnCommand,
) -> app_commands.Command[Any, ..., None]:
    async def callback(interaction: discord.Interaction[Any], **values: Any) -> None:
        given = {key: _value(value) for key, value in values.items() if value is not None}
        await on_command(interaction, name, given)

    parameters = [
        inspect.Parameter(
            "interaction", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=discord.Interaction
        )
    ]
    for option in options:
        parameters.append(
            inspect.Parameter(
                option.name,
                inspect.Parameter.KEYWORD_ONLY,
                default=None,
                annotation=Optional[_annotation(option)],  # noqa: UP045 - discord.py reads it
            )
        )
    callback.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    callback.__discord_app_commands_param_description__ = {  # type: ignore[attr-defined]
        option.name: option.description[:MAX_DESCRIPTION] for option in options
    }
    choices = {
        option.name: [_choice(value, library) for value in option.choices]
        for option in options
        if option.kind == "choice"
    }
    if choices:
        callback.__discord_app_commands_param_choices__ = choices  # type: ignore[attr-defined]
    return app_commands.Command(
        name=name, description=description[:MAX_DESCRIPTION], callback=callback
    )


def _annotation(option: Option) -> Any:
    if option.kind == "int":
        bounds = INT_RANGES.get(option.name)
        return int if bounds is None else app_commands.Range[int, bounds[0], bounds[1]]
    return str


def _choice(value: str, library: Library) -> app_commands.Choice[str]:
    workout = library.workouts.get(value)
    return app_commands.Choice(name=workout.name if workout else value, value=value)


def _value(value: Any) -> OptionValue:
    if isinstance(value, app_commands.Choice):
        return str(value.value)
    return value if isinstance(value, int | str) else str(value)


def command_names(tree: app_commands.CommandTree[Any]) -> set[str]:
    """The names of the tree's global commands."""
    return {command.name for command in tree.get_commands()}


def options_of(command: app_commands.Command[Any, ..., Any]) -> Mapping[str, str]:
    """Option name -> Discord option type name, for checks."""
    return {p.name: p.type.name for p in command.parameters}
