"""The coach: a message or a button press in, replies out. No platform, no network.

Adapters (console, Telegram, Discord) call `Coach.handle_message` and
`Coach.handle_button` and render the `Reply` objects they get back. Each command and each
button prefix maps to one small function in a module named after the idea it serves
(`soreness`, `routine`, `massage`, `training_schedule`, `onboarding`, `account`, `faq`).

A typed message goes, in this order, to: a command; a warning sign (always first); the
pending question and the buttons last shown (`dialog`: "yes", "Save", "6" at a severity
prompt); then what the message says (a question about rolling, a correction, a roll
question, soreness, a massage, a setting in plain words). A question left open by a side
remark is asked again in one line.

Any exception inside a handler is logged and answered with a plain-words apology: one
bad message never takes the bot down, and state is only saved when the turn succeeded.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from operator import attrgetter

from bot.core import (
    account,
    commands,
    dialog,
    faq,
    massage,
    nudges,
    onboarding,
    routine,
    soreness,
    training_schedule,
)
from bot.core.clock import Clock, system_clock
from bot.core.commands import Command, OptionValue
from bot.core.content import ContentError, Library, default_library
from bot.core.parsing import Parsed, parse_message
from bot.core.ports import Store
from bot.core.records import User
from bot.core.replies import Button, Reply
from bot.core.safety import red_flag_reply
from bot.core.timeplan import parse_timezone
from bot.core.turn import Sender, Turn, buttons

log = logging.getLogger(__name__)

MAX_MESSAGE = 10_000
GREETINGS = frozenset({"hi", "hello", "hey", "hiya", "yo", "morning", "howdy", "sup", "hallo"})
THANKS = frozenset({"thanks", "thank", "thx", "ty", "cheers", "merci", "gracias", "danke", "ta"})
ACKS = frozenset(
    {
        "ok",
        "okay",
        "k",
        "kk",
        "yes",
        "yep",
        "yeah",
        "cool",
        "nice",
        "great",
        "got",
        "it",
        "alright",
        "sounds",
        "good",
        "perfect",
        "awesome",
        "sweet",
        "noted",
        "understood",
        "right",
        "fine",
        "👍",
        "👌",
    }
)
"""A message made only of these ("ok", "got it", "cool") acknowledges: a short answer, not
"Sorry, I didn't catch that"."""
FAREWELLS = frozenset(
    {"bye", "goodbye", "cya", "see", "ya", "you", "later", "night", "goodnight", "gn", "ttyl"}
)
_NOT_ON = frozenset(
    {"no", "not", "don't", "dont", "stop", "without", "skip", "off", "never", "cancel", "except"}
)
"""Words that make "remind ... on fridays" a request for fewer reminders."""
_EVERYWHERE = re.compile(
    r"\b(?:everywhere|all over|whole body|every muscle|full body|everything)\b"
)
_WORDS = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")

OUTCOMES = (
    "red_flag",
    "routine",
    "guided",
    "rolling_logged",
    "soreness",
    "correction",
    "massage_logged",
    "massage_planned",
    "faq",
    "schedule_readback",
    "schedule_saved",
    "timezone_set",
    "control",
    "snoozed",
    "skipped",
    "forgotten",
    "cancelled",
    "command",
    "not_understood",
    "non_english",
    "other",
)
"""What a message was handled as: `Outcome.handled_as`, for logs and the dialog set."""

Handler = Callable[[Turn, str], Reply]  # a button: its data after the prefix
CommandHandler = Callable[[Turn, Command], Reply]


@dataclass(frozen=True, slots=True)
class Outcome:
    """The replies to one message or tap, and what it was handled as (one of `OUTCOMES`)."""

    replies: list[Reply]
    handled_as: str
    answered_question: bool = False  # a typed message answered the question the bot asked


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
        self.commands: dict[str, CommandHandler] = {
            "start": lambda turn, _: onboarding.start(turn),
            "help": lambda turn, _: self._help(turn),
            "roll": self._roll_command,
            "sore": self._sore_command,
            "schedule": lambda turn, command: training_schedule.command(turn, command.text),
            "massage": self._massage_command,
            "history": lambda turn, _: account.history(turn),
            "settings": lambda turn, command: account.settings(turn, command.text),
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
            "ge": routine.guided_end,  # a guided routine stopped early
            "m": lambda turn, _: massage.log_massage(turn),
            "mu": lambda turn, arg: massage.undo(turn, _int(arg)),
            "f": self._forget_button,
            "o": self._onboarding_button,
            "tz": onboarding.set_zone,
            "sc": self._schedule_button,
            "st": self._settings_button,
            "p": lambda turn, arg: account.pause(turn) if arg == "pause" else account.resume(turn),
            "h": lambda turn, _: self._help(turn),
            "q": faq.answer_by_id,
            "ra": self._routine_for_area_button,  # a routine asked for one area
            "ms": lambda turn, _: massage.status(turn),
            "ns": nudges.start,  # a nudge's Start: its routine, guided
            "nz": nudges.snooze,  # Snooze 10 min
            "nk": nudges.skip,  # Skip (the nudge is marked skipped)
        }
        self._check_commands()

    def _check_commands(self) -> None:
        """The commands in messages.yaml are exactly the ones the coach answers: a menu entry
        without a handler (or a handler missing from every menu) stops the bot at start."""
        listed, handled = set(self.library.commands), set(self.commands)
        for name in sorted(listed - handled):
            raise ContentError(f"bot/content/messages.yaml: commands: no handler for /{name}")
        for name in sorted(handled - listed):
            raise ContentError(f"bot/content/messages.yaml: commands: /{name} is missing")

    # --- entry points -------------------------------------------------------------------

    def handle_message(self, sender: Sender, text: str) -> list[Reply]:
        """Answer one message (a command or free text). Never raises."""
        return self.respond(sender, text).replies

    def handle_button(self, sender: Sender, data: str) -> list[Reply]:
        """Answer a button press; unknown or stale data gets a friendly "expired" reply."""
        return self.press(sender, data).replies

    def respond(self, sender: Sender, text: str) -> Outcome:
        """`handle_message`, with what the message was handled as."""
        cleaned = _clean(text)
        side_remark = not cleaned.startswith("/")  # a command asks for what it names
        return self._run(sender, lambda turn: self._route_text(turn, cleaned), side_remark)

    def handle_command(
        self, sender: Sender, name: str, options: Mapping[str, OptionValue] | None = None
    ) -> list[Reply]:
        """Answer a command given as a name and typed options (a Discord slash command);
        "/roll 10 run" typed in a chat arrives here the same way. Never raises."""
        return self.command(sender, Command(name.lower(), dict(options or {}))).replies

    def command(self, sender: Sender, command: Command) -> Outcome:
        """`handle_command`, with what it was handled as."""
        return self._run(sender, lambda turn: self._route_command(turn, command), False)

    def press(self, sender: Sender, data: str) -> Outcome:
        """`handle_button`, with what the press was handled as."""
        return self._run(sender, lambda turn: self._route_button(turn, _clean(data)), False)

    def user(self, sender: Sender) -> User:
        return self.store.user_for(sender.platform, sender.user_id, self.default_tz)

    # --- plumbing -----------------------------------------------------------------------

    def _run(self, sender: Sender, route: Callable[[Turn], Reply], reask: bool) -> Outcome:
        """One turn in one transaction. With `reask`, a question the message left open is
        asked again after the answer."""
        try:
            with self.store.transaction():  # one commit per turn; a failed turn leaves no trace
                turn, stored = self._turn(sender)
                planned_for, quiet_for = _plan_inputs(turn.user), _quiet_inputs(turn.user)
                turn.user.unreachable = False  # they wrote to us: they unblocked the bot
                asked_before = turn.user.dialog.get("question")
                reply = route(turn)
                replies = [*turn.replies, reply]  # what the turn said on the way comes first
                if not turn.forgotten:
                    if turn.schedule_changed or _plan_inputs(turn.user) != planned_for:
                        nudges.replan(turn)  # the one place: any change that moves a nudge
                    if turn.schedule_changed or _quiet_inputs(turn.user) != quiet_for:
                        replies[-1] = _with_quiet_hours_clash(turn, replies[-1])
                    still_open = self._still_open(turn, asked_before) if reask else None
                    if still_open is not None:
                        replies.append(still_open)
                    dialog.remember_offer(turn, replies)
                    if _state(turn.user) != stored:
                        self.store.save_user(turn.user)  # only when the turn changed the user
        except Exception:
            log.exception("handler failed for a %s user", sender.platform)
            return Outcome([Reply(text=self.library.messages["error"])], "error")
        return Outcome(replies, turn.outcome, turn.answered_question)

    def _turn(self, sender: Sender) -> tuple[Turn, tuple[object, ...]]:
        """The turn, and the user as stored (to tell later whether to save)."""
        user = self.user(sender)
        stored = _state(user)
        if sender.private and sender.chat_id and user.chat_id != sender.chat_id:
            user.chat_id = sender.chat_id
        return Turn(self.store, self.library, self.clock(), user), stored

    def _still_open(self, turn: Turn, asked_before: object) -> Reply | None:
        """The pending question again in one line, when this turn went elsewhere."""
        if turn.repeated_question or asked_before is None:
            return None
        if turn.user.dialog.get("question") is not asked_before:
            return None  # answered, replaced by a new question, or expired
        question = dialog.pending(turn)
        if question is None or not question.reask or question.reasked >= dialog.MAX_REASKS:
            return None
        dialog.asked_again(turn, question)
        return dialog.reask(turn, question, lead=turn.say("reask_lead"))

    # --- routing ------------------------------------------------------------------------

    def _route_text(self, turn: Turn, text: str) -> Reply:
        if not text.strip():  # a sticker, a picture or a voice note: nothing to read
            return Reply(text=turn.say("text_only"))
        if text.startswith("/"):
            return self._route_command(turn, commands.from_text(text))
        parsed = parse_message(text, turn.library)
        if parsed.red_flag:
            return self._red_flag(turn, parsed, text)
        answer = self._typed_answer(turn, text, parsed)
        if answer is not None:
            return answer
        return self._free_text(turn, parsed, text)

    def _route_command(self, turn: Turn, command: Command) -> Reply:
        handler = self.commands.get(command.name)
        if handler is None:
            return self._unknown_command(turn, command.name)
        if command.text:
            parsed = parse_message(command.text, turn.library)
            if parsed.red_flag:  # "/roll 10, my calf went numb": safety first, always
                return self._red_flag(turn, parsed, command.text)
        turn.outcome = "command"
        return handler(turn, command)

    def _route_button(self, turn: Turn, data: str) -> Reply:
        question = dialog.pending(turn)
        if question is not None and question.owns(data):
            dialog.close(turn)  # answered; a handler that asks again sets a new question
        dialog.used_undo(turn, data)
        prefix, _, argument = data.partition(":")
        handler = self.buttons.get(prefix)
        if handler is None:
            return soreness.expired(turn)
        try:
            return handler(turn, argument)
        except _ExpiredButtonError:
            return soreness.expired(turn)

    def _red_flag(self, turn: Turn, parsed: Parsed, text: str) -> Reply:
        turn.outcome = "red_flag"
        return red_flag_reply(turn, parsed, text)

    # --- typed answers to the bot's own questions -----------------------------------------

    def _typed_answer(self, turn: Turn, text: str, parsed: Parsed) -> Reply | None:
        """A typed message as the answer to the pending question or a button on screen."""
        question = dialog.pending(turn)
        role = dialog.role_of(turn, text)
        if question is not None:
            button = dialog.chosen_button(turn, question.choices, text)
            if button is not None:
                turn.answered_question = True
                return self._route_button(turn, button.data)
            if role in ("no", "skip", "later"):
                dialog.close(turn)  # "cancel" at a question without a Cancel button
                turn.answered_question = True
                return Reply(text=turn.say("question_dropped"))
            if not self._says_something_else(turn, question, parsed, text):
                answer = self._read_answer(turn, question, text, parsed)
                if answer is not None:
                    turn.answered_question = True
                    return answer
        button = self._button_on_screen(turn, text)
        if button is not None:
            turn.answered_question = True  # a typed label of the buttons on screen
            return self._route_button(turn, button.data)
        snoozed = nudges.snooze_said(turn, text)
        if snoozed is not None:
            turn.answered_question = True
            return self._route_button(turn, snoozed)
        if role == "undo":
            return self._undo_latest(turn)
        if role in ("skip", "no", "later") and onboarding.step(turn) is not None:
            return onboarding.skip(turn)  # the setup's question was dropped, the setup is not
        return None

    def _undo_latest(self, turn: Turn) -> Reply:
        """A typed "undo" with no Undo on screen: the latest one shown, or why not."""
        data = dialog.latest_undo(turn)
        if data is None:
            return Reply(text=turn.say("nothing_to_undo"))
        return self._route_button(turn, data)

    def _says_something_else(
        self, turn: Turn, question: dialog.Question, parsed: Parsed, text: str
    ) -> bool:
        """A soreness report, a roll question, a massage or a question about rolling is
        answered as what it is, not read as the answer to an unrelated question."""
        if faq.match(turn, text) is not None or parsed.intent == "which_area":
            return True
        if question.expects != "number" and soreness.severity_follow_up(turn, text) is not None:
            return True
        if account.said_a_setting(text):
            return True
        if question.expects != "schedule" and training_schedule.looks_like_schedule(turn, text):
            return True
        if parsed.intent == "massage":
            return question.expects != "massage_date"
        if parsed.intent == "soreness":
            return question.expects != "soreness"
        return False

    def _read_answer(
        self, turn: Turn, question: dialog.Question, text: str, parsed: Parsed
    ) -> Reply | None:
        """The question's own kind of typed answer: a value, a schedule, soreness, a date."""
        if question.expects in ("number", "timezone", "area"):
            data = dialog.typed_value(turn, question, text)
            return None if data is None else self._route_button(turn, data)
        if question.expects == "schedule":
            return training_schedule.propose(turn, text)
        if question.expects == "soreness" and parsed.soreness:
            dialog.close(turn)
            return self._soreness(turn, parsed, text)
        if question.expects == "massage_date" and len(text.split()) <= 8:
            when = massage.date_said(turn, text)
            if when is not None:
                dialog.close(turn)
                return massage.log_massage(turn, when, note=text)
        return None

    def _button_on_screen(self, turn: Turn, text: str) -> Button | None:
        """A typed label or answer word for the latest buttons shown: the last reply's, or
        a nudge that arrived after it ("skip", "snooze", "start")."""
        shown = dialog.offer(turn)
        delivered = nudges.latest_delivered(turn)
        candidates = [offer for offer in (shown, delivered) if offer is not None]
        candidates.sort(key=lambda offer: offer.at, reverse=True)
        for choices in (offer.choices for offer in candidates):
            button = dialog.chosen_button(turn, choices, text)
            if button is not None:
                return button
        return None

    # --- free text ----------------------------------------------------------------------

    def _free_text(self, turn: Turn, parsed: Parsed, text: str) -> Reply:
        answer = faq.match(turn, text)
        if answer is not None:
            self._record_rated_soreness(turn, parsed, text)
            return faq.answer(turn, answer)
        corrected = soreness.correct(turn, parsed, text)
        if corrected is not None:
            return corrected
        if parsed.intent == "which_area" or (parsed.intent == "soreness" and parsed.minutes):
            return self._which_area(turn, parsed, text)  # "calves are wrecked, got 10 min"
        if parsed.intent == "soreness":
            return self._soreness(turn, parsed, text)
        if parsed.intent == "massage" and account.said_a_setting(text):
            return self._other(turn, parsed, text)  # "massage day sunday 9am": a setting
        if parsed.intent == "massage":
            self._record_rated_soreness(turn, parsed, text)  # "had a massage, back's fine now"
            return massage.from_message(turn, parsed, text)
        return self._other(turn, parsed, text)

    def _which_area(self, turn: Turn, parsed: Parsed, text: str) -> Reply:
        """A routine; soreness said with a severity on the way is recorded too. An area only
        named ("what should I roll for my calves?") shapes the routine but is not a report.
        A sport without a routine of its own gets the closest one, said as such."""
        self._record_rated_soreness(turn, parsed, text)
        if parsed.workout is None:
            parsed = replace(parsed, workout=routine.say_closest_workout(turn, text))
        rec = routine.plan(
            turn, minutes=parsed.minutes, workout=parsed.workout, asked_areas=tuple(parsed.soreness)
        )
        return routine.routine_reply(turn, rec, asked_minutes=parsed.minutes)

    def _record_rated_soreness(self, turn: Turn, parsed: Parsed, text: str) -> None:
        rated = Parsed(
            parsed.intent,
            {area: level for area, level in parsed.soreness.items() if area not in parsed.unrated},
        )
        recorded = soreness.record_from_message(turn, rated, text)
        if recorded:
            summary = ", ".join(soreness.describe(turn, r) for r in recorded)
            turn.replies.append(Reply(text=turn.say("soreness_recorded", summary=summary)))

    def _soreness(self, turn: Turn, parsed: Parsed, text: str) -> Reply:
        if not parsed.soreness and _EVERYWHERE.search(text.lower()):
            return soreness.sore_everywhere(turn)
        if not parsed.soreness:
            return soreness.ask_for_soreness(turn, "soreness_nothing")
        return soreness.confirm(turn, soreness.record_from_message(turn, parsed, text))

    def _other(self, turn: Turn, parsed: Parsed, text: str) -> Reply:
        control = account.control_from_text(turn, text)
        if control is not None:
            return control
        rolled = routine.rolled_said(turn, text, parsed.minutes, tuple(parsed.soreness))
        if rolled is not None:
            return rolled
        shortcut = self._shortcut(text)
        lowered = set(re.findall(r"[a-z']+", text.lower()))
        # "no reminders on fridays", not "remind me before leg day on mondays 6pm" (a session)
        by_day = shortcut == "pause" or ("remind" in text.lower() and bool(lowered & _NOT_ON))
        if by_day and training_schedule.days_or_weekends_said(text):
            return training_schedule.reminders_follow_sessions(turn)  # not everything paused
        if shortcut is not None:
            turn.outcome = "command"
            return self.commands[shortcut](turn, Command(shortcut))
        said = text.lower().replace("!", " ").replace(",", " ").split()
        words, opening = set(said), said[:2]
        if len(words) <= 4 and (set(opening[:1]) & GREETINGS or opening == ["good", "morning"]):
            return self._greeting(turn)  # "hi", "morning!", not "sunday morning"
        if words & THANKS:
            return Reply(text=turn.say("thanks_reply"))
        if words and words <= FAREWELLS and len(words) <= 3:
            return Reply(text=turn.say("farewell_reply"))
        if words and words <= ACKS and len(words) <= 3:
            return Reply(text=turn.say("ack_reply"))
        removed = training_schedule.removal_said(turn, text)
        if removed is not None:
            return removed
        schedule = training_schedule.schedule_talk(turn, text)
        if schedule is not None:
            return schedule
        why = nudges.why_no_reminder(turn, text)
        if why is not None:
            return why
        day_off = nudges.day_off_said(turn, text, parsed.workout)
        if day_off is not None:
            return day_off
        if parsed.minutes or (parsed.workout is not None and len(words) <= 6):
            return self._which_area(turn, parsed, text)  # "7 min before leg day", "leg day"
        if routine.similar_sport(turn, text) is not None:
            return self._which_area(turn, parsed, text)  # "football tonight"
        zone = _zone_mentioned(text)
        if zone is not None and zone != turn.user.tz:
            return self._offer_zone(turn, zone)
        if _foreign(turn, text):
            turn.outcome = "non_english"
            return Reply(text=turn.say("english_only"))
        if massage.talked_about(turn, text):
            return massage.status(turn, lead=massage.called_off_line(turn, text))
        return self._not_understood(turn, text)

    def _offer_zone(self, turn: Turn, zone: str) -> Reply:
        reply = Reply(
            text=turn.say("timezone_offer", tz=zone),
            buttons=buttons(
                [
                    Button(f"Yes, use {zone}", f"tz:{zone}", role="yes"),
                    Button(f"No, keep {turn.user.tz}", f"tz:{onboarding.KEEP_ZONE}", role="no"),
                ]
            ),
        )
        return dialog.ask(
            turn, reply, "timezone_offer", prompt=turn.say("ask_timezone_offer", tz=zone)
        )

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

    def _not_understood(self, turn: Turn, text: str) -> Reply:
        """Sorry, with examples; while a question is open, that question again instead."""
        turn.outcome = "not_understood"
        question = dialog.pending(turn)
        if question is not None and question.missed < dialog.MAX_MISSES:
            dialog.asked_again(turn, question, missed=True)
            return dialog.reask(turn, question, lead=self._miss(turn, question, text))
        if question is not None:
            dialog.close(turn)  # two misses in a row: the question gives way, nothing traps
        return Reply(
            text=turn.say("not_understood"),
            buttons=buttons([Button("What should I roll?", "r:10:-"), Button("Help", "h")]),
        )

    def _miss(self, turn: Turn, question: dialog.Question, text: str) -> str:
        """What to say before asking again, when a message did not answer the question."""
        looks_like_a_try = len(text) <= 40 and "?" not in text and len(text.split()) <= 3
        if question.expects == "timezone" and looks_like_a_try:
            return turn.say("timezone_unknown", text=text[:60])
        if question.expects == "schedule":
            return turn.say("schedule_examples")
        return turn.say("not_an_answer")

    def _unknown_command(self, turn: Turn, name: str) -> Reply:
        turn.outcome = "not_understood"
        listed = "\n".join(
            f"/{command} - {about}" for command, about in self.library.commands.items()
        )
        return Reply(
            text=turn.say("unknown_command", command=name[:30]) + "\n" + listed,
            buttons=buttons([Button("Help", "h")]),
        )

    def _help(self, turn: Turn) -> Reply:
        extra = [] if turn.user.onboarded else [Button("Set up reminders", "o:start", role="yes")]
        return Reply(text=turn.say("help"), buttons=buttons(extra))

    # --- commands -----------------------------------------------------------------------

    def _roll_command(self, turn: Turn, command: Command) -> Reply:
        parsed = parse_message(f"/roll {command.text}", turn.library)
        minutes = command.integer("minutes")
        workout = command.choice("workout") or parsed.workout or _short_workout(turn, command.text)
        chosen = workout if workout in self.library.workouts else None
        if chosen is None and command.text:
            chosen = routine.say_closest_workout(turn, command.text)  # "/roll 10 football"
        rec = routine.plan(
            turn, minutes=minutes, workout=chosen, asked_areas=tuple(parsed.soreness)
        )
        return routine.routine_reply(turn, rec, asked_minutes=minutes)

    def _sore_command(self, turn: Turn, command: Command) -> Reply:
        if not command.text:
            return soreness.ask_for_soreness(turn, "sore_prompt")
        return self._soreness(turn, parse_message(command.text, turn.library), command.text)

    def _massage_command(self, turn: Turn, command: Command) -> Reply:
        said = command.text
        if not said:
            return massage.status(turn)
        when = massage.date_said(turn, said)
        if when is not None or said.lower().split()[0] in massage.LOG_WORDS:
            return massage.log_massage(turn, when or turn.now, note=said)
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

    def _routine_for_area_button(self, turn: Turn, argument: str) -> Reply:
        if argument not in self.library.areas:
            raise _ExpiredButtonError
        return routine.routine_reply(turn, routine.plan(turn, asked_areas=(argument,)))

    def _forget_button(self, turn: Turn, argument: str) -> Reply:
        if argument != "yes":
            return account.keep_data(turn)
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
        if key == "massage":
            return account.set_massage_target(turn, value)
        if key == "tz":
            return account.settings(turn, "tz")
        if key in account.TOGGLES:
            return account.set_toggle(turn, key, value)
        raise _ExpiredButtonError


class _ExpiredButtonError(Exception):
    """Button data that parses but points at nothing: answered as an expired button."""


_USER_FIELDS = attrgetter(*(f.name for f in fields(User) if f.name != "dialog"))
_plan_inputs = attrgetter(
    "tz",
    "lead_minutes",
    "quiet_start",
    "quiet_end",
    "paused",
    "unreachable",
    "onboarded",
    "massage_day",
    "massage_time",
    "weekly_summary",
)
"""The user's fields that decide their nudges: a turn that changes one re-plans them."""
_quiet_inputs = attrgetter("lead_minutes", "quiet_start", "quiet_end")
"""With the sessions, what decides whether quiet hours swallow a reminder."""


def _with_quiet_hours_clash(turn: Turn, reply: Reply) -> Reply:
    """`reply` with a heads-up when the turn's change leaves some sessions' reminders inside
    quiet hours (a schedule, the lead time or quiet hours, in any words or button)."""
    clash = nudges.quiet_hours_clash(turn)
    return replace(reply, text=f"{reply.text}\n{clash}") if clash else reply


def _state(user: User) -> tuple[object, ...]:
    """Everything about a user that a save would write, cheaply comparable."""
    return (_USER_FIELDS(user), json.dumps(user.dialog, sort_keys=True, default=str))


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise _ExpiredButtonError from None


def _clean(text: str) -> str:
    """Text as the coach reads it: trimmed, bounded, and valid Unicode (a lone surrogate
    from a broken client would otherwise fail in the database, not here)."""
    cleaned = (text or "").strip()[:MAX_MESSAGE]
    return cleaned.encode("utf-8", "replace").decode("utf-8")


def _short_workout(turn: Turn, text: str) -> str | None:
    """A workout named by one short word in /roll's arguments ("/roll 15 upper", "/roll
    legs"): the schedule words for workouts, which a free message would not read alone."""
    short = turn.library.language.schedules.workout_words
    return next((short[word] for word in text.lower().split() if word in short), None)


def _zone_mentioned(text: str) -> str | None:
    """A place or zone named where a time zone is talked about ("I'm in Tokyo now, change
    my time zone"), or None."""
    lowered = text.lower()
    whole = parse_timezone(text)
    if whole is not None and len(lowered.split()) <= 3:
        return whole  # only a place or zone: "London", "new york", "Europe/Paris"
    if "zone" not in lowered and " in " not in f" {lowered}":
        return None
    if whole is not None:
        return whole
    words = _WORDS.findall(lowered)
    shortest = 2 if "zone" in lowered else 3  # "LA", "UK" only when zones are the topic
    for size in (3, 2, 1):
        for start in range(len(words) - size + 1):
            window = words[start : start + size]
            if size == 1 and len(window[0]) < shortest:
                continue
            zone = parse_timezone(" ".join(window))
            if zone is not None:
                return zone
    return None


def _foreign(turn: Turn, text: str) -> bool:
    """Whether a message reads as another language: mostly non-Latin letters, or several
    common words of other languages."""
    letters = [ch for ch in text if ch.isalpha()]
    if letters and sum(ord(ch) > 0x24F for ch in letters) > len(letters) / 2:
        return True
    words = _WORDS.findall(text.lower())
    hits = sum(word in turn.library.language.other_languages for word in words)
    return hits >= 2 and hits * 3 >= len(words)
