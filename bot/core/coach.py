"""The coach: a message or a button press in, replies out. No platform, no network.

Adapters (console, Telegram, Discord) call `Coach.handle_message` and
`Coach.handle_button` and render the `Reply` objects they get back. Each command and each
button prefix maps to one small function in a module named after the idea it serves
(`soreness`, `routine`, `massage`, `training_schedule`, `onboarding`, `account`).

Any exception inside a handler is logged and answered with a plain-words apology: one
bad message never takes the bot down, and state is only saved when the turn succeeded.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import fields
from operator import attrgetter

from bot.core import account, massage, nudges, onboarding, routine, soreness, training_schedule
from bot.core.clock import Clock, system_clock
from bot.core.content import Library, default_library
from bot.core.parsing import Parsed, parse_message
from bot.core.records import Store, User
from bot.core.replies import Button, Reply
from bot.core.safety import red_flag_reply
from bot.core.timeplan import parse_timezone
from bot.core.turn import Sender, Turn, buttons

log = logging.getLogger(__name__)

MAX_MESSAGE = 10_000
GREETINGS = frozenset({"hi", "hello", "hey", "hiya", "yo", "morning", "howdy", "sup", "hallo"})
THANKS = frozenset({"thanks", "thank", "thx", "ty", "cheers", "merci", "gracias", "danke", "ta"})
SCHEDULE_WORDS = ("schedule", "add", "train", "training", "workout", "session", "move", "moved")

COMMANDS_WITH_FREE_TEXT = frozenset({"roll", "sore", "massage", "schedule"})

Handler = Callable[[Turn, str], Reply]


class Coach:
    """Turns what a user says or taps into replies and state changes."""

    def __init__(
        self,
        store: Store,
        library: Library | None = None,
        clock: Clock = system_clock,
        default_tz: str = "UTC",
    ) -> None:
        self.store = store
        self.library = library or default_library()
        self.clock = clock
        self.default_tz = default_tz
        self.commands: dict[str, Handler] = {
            "start": lambda turn, _: onboarding.start(turn),
            "help": lambda turn, _: self._help(turn),
            "roll": self._roll_command,
            "sore": self._sore_command,
            "schedule": training_schedule.command,
            "massage": self._massage_command,
            "history": lambda turn, _: account.history(turn),
            "settings": account.settings,
            "pause": lambda turn, _: account.pause(turn),
            "resume": lambda turn, _: account.resume(turn),
            "export": lambda turn, _: account.export(turn),
            "forget": lambda turn, _: account.ask_to_forget(turn),
        }
        self.buttons: dict[str, Handler] = {
            "sv": self._severity_button,
            "wa": self._area_button,
            "u": self._undo_button,
            "r": self._routine_button,
            "g": routine.guided_step,
            "m": lambda turn, _: massage.log_massage(turn),
            "mu": lambda turn, arg: massage.undo(turn, _int(arg)),
            "f": self._forget_button,
            "o": self._onboarding_button,
            "tz": onboarding.set_zone,
            "sc": self._schedule_button,
            "st": self._settings_button,
            "p": lambda turn, _: account.resume(turn),
            "h": lambda turn, _: self._help(turn),
            "ns": nudges.start,  # a nudge's Start: its routine, guided
            "nz": nudges.snooze,  # Snooze 10 min
            "nk": nudges.skip,  # Skip (the nudge is marked skipped)
        }

    # --- entry points -------------------------------------------------------------------

    def handle_message(self, sender: Sender, text: str) -> list[Reply]:
        """Answer one message (a command or free text). Never raises."""
        cleaned = (text or "").strip()[:MAX_MESSAGE]
        return self._run(sender, lambda turn: self._route_text(turn, cleaned))

    def handle_button(self, sender: Sender, data: str) -> list[Reply]:
        """Answer a button press; unknown or stale data gets a friendly "expired" reply."""
        return self._run(sender, lambda turn: self._route_button(turn, data or ""))

    def user(self, sender: Sender) -> User:
        return self.store.user_for(sender.platform, sender.user_id, self.default_tz)

    # --- plumbing -----------------------------------------------------------------------

    def _run(self, sender: Sender, route: Callable[[Turn], Reply]) -> list[Reply]:
        try:
            with self.store.transaction():  # one commit per turn; a failed turn leaves no trace
                turn, stored = self._turn(sender)
                if turn.user.unreachable:
                    turn.user.unreachable = False  # they wrote to us: they unblocked the bot
                    nudges.replan(turn)  # and their reminders start again at once
                reply = route(turn)
                if not turn.forgotten and _state(turn.user) != stored:
                    self.store.save_user(turn.user)  # only when the turn changed the user
        except Exception:
            log.exception("handler failed for a %s user", sender.platform)
            return [Reply(text=self.library.messages["error"])]
        return [*turn.replies, reply]

    def _turn(self, sender: Sender) -> tuple[Turn, tuple[object, ...]]:
        """The turn, and the user as stored (to tell later whether to save)."""
        user = self.user(sender)
        stored = _state(user)
        if sender.private and sender.chat_id and user.chat_id != sender.chat_id:
            user.chat_id = sender.chat_id
        return Turn(self.store, self.library, self.clock(), user), stored

    def _route_text(self, turn: Turn, text: str) -> Reply:
        if text.startswith("/"):
            name, _, argument = text[1:].partition(" ")
            name = name.split("@", 1)[0].lower()
            handler = self.commands.get(name)
            if handler is None:
                return self._unknown_command(turn, name)
            if name != "start":
                turn.user.dialog.pop("step", None)
            argument = argument.strip()
            if argument and name in COMMANDS_WITH_FREE_TEXT:
                parsed = parse_message(argument)
                if parsed.red_flag:  # "/roll 10, my calf went numb": safety first, always
                    return red_flag_reply(turn, parsed, argument)
            return handler(turn, argument)
        parsed = parse_message(text)
        if not parsed.red_flag:
            answer = self._pending_step(turn, text, parsed)
            if answer is not None:
                return answer
        return self._free_text(turn, parsed, text)

    def _route_button(self, turn: Turn, data: str) -> Reply:
        prefix, _, argument = data.partition(":")
        handler = self.buttons.get(prefix)
        if handler is None:
            return soreness.expired(turn)
        try:
            return handler(turn, argument)
        except _ExpiredButtonError:
            return soreness.expired(turn)

    def _pending_step(self, turn: Turn, text: str, parsed: Parsed) -> Reply | None:
        step = turn.user.dialog.get("step")
        if step is None:
            return None
        if step == "sore":
            turn.user.dialog.pop("step", None)
            return self._soreness(turn, parsed, text) if parsed.soreness else None
        other = parsed.intent != "other" or self._is_small_talk(text)
        return onboarding.on_text(turn, text, looks_like_something_else=other)

    def _is_small_talk(self, text: str) -> bool:
        """Greetings, thanks and plain-words commands pass through a waiting prompt."""
        words = set(text.lower().replace("!", " ").replace(",", " ").split())
        return bool(words & (GREETINGS | THANKS)) or self._shortcut(text) is not None

    # --- free text ----------------------------------------------------------------------

    def _free_text(self, turn: Turn, parsed: Parsed, text: str) -> Reply:
        if parsed.red_flag:
            return red_flag_reply(turn, parsed, text)
        if parsed.intent == "which_area":
            return self._which_area(turn, parsed, text)
        if parsed.intent == "soreness":
            return self._soreness(turn, parsed, text)
        if parsed.intent == "massage":
            return massage.from_message(turn, parsed, text)
        return self._other(turn, text)

    def _which_area(self, turn: Turn, parsed: Parsed, text: str) -> Reply:
        """A routine; soreness said with a severity on the way is recorded too. An area only
        named ("what should I roll for my calves?") shapes the routine but is not a report."""
        rated = Parsed(
            parsed.intent,
            {area: level for area, level in parsed.soreness.items() if area not in parsed.unrated},
        )
        recorded = soreness.record_from_message(turn, rated, text)
        rec = routine.plan(
            turn, minutes=parsed.minutes, workout=parsed.workout, asked_areas=tuple(parsed.soreness)
        )
        if recorded:
            summary = ", ".join(soreness.describe(turn, r) for r in recorded)
            turn.replies.append(Reply(text=turn.say("soreness_recorded", summary=summary)))
        return routine.routine_reply(turn, rec)

    def _soreness(self, turn: Turn, parsed: Parsed, text: str) -> Reply:
        if not parsed.soreness:
            turn.user.dialog["step"] = "sore"
            return soreness.nothing_understood(turn)
        return soreness.confirm(turn, soreness.record_from_message(turn, parsed, text))

    def _other(self, turn: Turn, text: str) -> Reply:
        shortcut = self._shortcut(text)
        if shortcut is not None:
            return self.commands[shortcut](turn, "")
        words = set(text.lower().replace("!", " ").replace(",", " ").split())
        if words & GREETINGS and len(words) <= 4:
            return self._greeting(turn)
        if words & THANKS:
            return Reply(text=turn.say("thanks_reply"))
        if any(word in text.lower() for word in SCHEDULE_WORDS):
            proposal = training_schedule.propose(turn, text)
            if proposal is not None and proposal.buttons:
                return proposal
        zone = parse_timezone(text) if "zone" in text.lower() or " in " in text.lower() else None
        if zone is not None and zone != turn.user.tz:
            return Reply(
                text=turn.say("timezone_offer", tz=zone),
                buttons=buttons([Button(f"Yes, use {zone}", f"tz:{zone}"[:64])]),
            )
        return self._not_understood(turn)

    def _shortcut(self, text: str) -> str | None:
        """A command asked for in plain words ("stop reminders", "delete my data")."""
        lowered = f" {' '.join(text.lower().strip('?!. ').split())} "
        for command, phrases in self.library.language.shortcuts.items():
            if any(f" {phrase} " in lowered for phrase in phrases):
                return command
        return None

    def _greeting(self, turn: Turn) -> Reply:
        rows = [Button("What should I roll?", "r:10:-"), Button("Help", "h")]
        start = [] if turn.user.onboarded else [Button("Set up reminders", "o:start")]
        return Reply(text=turn.say("greeting"), buttons=buttons(rows, start))

    def _not_understood(self, turn: Turn) -> Reply:
        return Reply(
            text=turn.say("not_understood"),
            buttons=buttons([Button("What should I roll?", "r:10:-"), Button("Help", "h")]),
        )

    def _unknown_command(self, turn: Turn, name: str) -> Reply:
        return Reply(
            text=turn.say("unknown_command", command=name[:30]),
            buttons=buttons([Button("Help", "h")]),
        )

    def _help(self, turn: Turn) -> Reply:
        extra = [] if turn.user.onboarded else [Button("Set up reminders", "o:start")]
        return Reply(text=turn.say("help"), buttons=buttons(extra))

    # --- commands -----------------------------------------------------------------------

    def _roll_command(self, turn: Turn, argument: str) -> Reply:
        parsed = parse_message(f"/roll {argument}")
        rec = routine.plan(
            turn, minutes=parsed.minutes, workout=parsed.workout, asked_areas=tuple(parsed.soreness)
        )
        return routine.routine_reply(turn, rec)

    def _sore_command(self, turn: Turn, argument: str) -> Reply:
        if not argument:
            turn.user.dialog["step"] = "sore"
            return Reply(text=turn.say("sore_prompt"))
        return self._soreness(turn, parse_message(argument), argument)

    def _massage_command(self, turn: Turn, argument: str) -> Reply:
        if not argument:
            return massage.status(turn)
        if argument.lower().split()[0] in {"log", "had", "today", "yesterday", "done"}:
            return massage.log_massage(turn, massage.when_had(turn, argument), note=argument)
        return massage.status(turn)

    # --- buttons ------------------------------------------------------------------------

    def _severity_button(self, turn: Turn, argument: str) -> Reply:
        report_id, _, level = argument.partition(":")
        if not level:
            return soreness.choose_severity(turn, _int(report_id))
        return soreness.set_severity(turn, _int(report_id), _int(level))

    def _undo_button(self, turn: Turn, argument: str) -> Reply:
        try:
            ids = soreness.report_ids(argument)
        except ValueError:
            raise _ExpiredButtonError from None
        return soreness.undo(turn, ids)

    def _area_button(self, turn: Turn, argument: str) -> Reply:
        report_id, _, area = argument.partition(":")
        if not area:
            return soreness.choose_area(turn, _int(report_id))
        return soreness.set_area(turn, _int(report_id), area)

    def _routine_button(self, turn: Turn, argument: str) -> Reply:
        minutes, _, workout = argument.partition(":")
        chosen = workout if workout in self.library.workouts else None
        return routine.routine_reply(
            turn, routine.plan(turn, minutes=_int(minutes), workout=chosen)
        )

    def _forget_button(self, turn: Turn, argument: str) -> Reply:
        if argument != "yes":
            return Reply(text=turn.say("forget_cancelled"))
        return account.forget(turn)

    def _onboarding_button(self, turn: Turn, argument: str) -> Reply:
        if argument == "skip":
            return onboarding.skip(turn)
        if argument == "start":
            return onboarding.start(turn)
        raise _ExpiredButtonError

    def _schedule_button(self, turn: Turn, argument: str) -> Reply:
        action, _, rest = argument.partition(":")
        actions: dict[str, Callable[[], Reply]] = {
            "save": lambda: training_schedule.save_proposal(turn),
            "retry": lambda: training_schedule.retry(turn),
            "show": lambda: training_schedule.show(turn),
            "add": lambda: training_schedule.ask_to_add(turn),
            "clear": lambda: training_schedule.clear(turn),
            "x": lambda: training_schedule.remove(turn, _int(rest)),
        }
        if action not in actions:
            raise _ExpiredButtonError
        return actions[action]()

    def _settings_button(self, turn: Turn, argument: str) -> Reply:
        key, _, value = argument.partition(":")
        if key == "lead":
            return account.set_lead(turn, value)
        if key == "quiet":
            return account.set_quiet(turn, value)
        if key == "tz":
            return account.settings(turn, "tz")
        raise _ExpiredButtonError


class _ExpiredButtonError(Exception):
    """Button data that parses but points at nothing: answered as an expired button."""


_USER_FIELDS = attrgetter(*(f.name for f in fields(User) if f.name != "dialog"))


def _state(user: User) -> tuple[object, ...]:
    """Everything about a user that a save would write, cheaply comparable."""
    return (_USER_FIELDS(user), json.dumps(user.dialog, sort_keys=True, default=str))


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise _ExpiredButtonError from None
