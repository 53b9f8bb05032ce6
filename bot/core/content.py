"""The coaching content library: areas, workouts, massage, safety and message templates.

The words the coach uses live in `content/*.yaml` so they can be edited without touching
code. Because a typo there would otherwise surface as a wrong reply (or a crash) deep in a
conversation, `load_library` validates everything up front and fails with a
`ContentError` naming the file and the key path, e.g.
``content/areas.yaml: areas.calves.cues: expected 2 to 4 items, got 1``.
"""

from __future__ import annotations

import functools
import string
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

AREA_IDS: tuple[str, ...] = (
    "calves",
    "shins",
    "feet",
    "hamstrings",
    "quads",
    "it_band",
    "adductors",
    "hip_flexors",
    "glutes",
    "lower_back",
    "upper_back",
    "lats",
    "chest",
    "shoulders",
    "traps",
    "neck",
    "triceps",
    "biceps",
    "forearms",
)
WORKOUT_IDS: tuple[str, ...] = ("run", "cycle", "swim", "lower_body", "upper_body", "full_body")
COMMANDS: tuple[str, ...] = (
    "start",
    "help",
    "roll",
    "sore",
    "schedule",
    "massage",
    "history",
    "settings",
    "pause",
    "resume",
    "export",
    "forget",
)
MASSAGE_FACTS: tuple[str, ...] = ("relaxation", "duration", "fascia", "specificity", "cost")
REQUIRED_MESSAGES: tuple[str, ...] = ("help", "not_understood", "welcome")
MIN_REMINDERS = 8
MAX_COMMAND_DESCRIPTION = 100  # Discord's limit for slash-command descriptions

DEFAULT_DIRECTORY = Path(__file__).resolve().parents[2] / "content"


class ContentError(ValueError):
    """A content file is missing or wrong; the message says which file and which key."""


@dataclass(frozen=True, slots=True)
class Area:
    """One body area with the how-to for rolling it (or, if not rollable, what to roll instead)."""

    id: str
    name: str
    synonyms: tuple[str, ...]
    cues: tuple[str, ...]
    seconds_per_side: int
    two_sided: bool
    cautions: tuple[str, ...]
    related: tuple[str, ...]
    rollable: bool
    instead: tuple[str, ...]

    @property
    def seconds(self) -> int:
        """Total time for the area, counting both sides of a paired muscle."""
        return self.seconds_per_side * (2 if self.two_sided else 1)


@dataclass(frozen=True, slots=True)
class Workout:
    """A kind of session; `focus` lists the areas to roll before it, most important first."""

    id: str
    name: str
    phrases: tuple[str, ...]
    focus: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RedFlagKind:
    """One kind of warning sign; `urgent` ones call for urgent care, not just a check-up."""

    id: str
    urgent: bool
    terms: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Safety:
    """Red-flag vocabulary and the replies that replace any routine when one is seen."""

    flags: tuple[RedFlagKind, ...]
    reply: str
    urgent_reply: str

    def format_reply(self, area_names: Sequence[str], *, urgent: bool = False) -> str:
        """The reply with `{areas}` filled in, so callers never render an empty gap."""
        template = self.urgent_reply if urgent else self.reply
        return template.format(areas=_join_names(area_names) if area_names else "that area")


@dataclass(frozen=True, slots=True)
class MassageReminder:
    """A nudge to book a massage; `fact` names the coaching fact it rests on."""

    fact: str
    text: str


@dataclass(frozen=True, slots=True)
class MassageContent:
    """Monthly massage cadence, reminder texts and the long-soreness escalation template."""

    min_per_month: int
    target_per_month: int
    max_per_month: int
    reminders: tuple[MassageReminder, ...]
    escalation: str


@dataclass(frozen=True, slots=True)
class Language:
    """The parser's grammar words from language.yaml: severities, negation, questions."""

    default_severity: int
    severity_words: dict[str, int]
    intensifiers: dict[str, int]
    after_intensifiers: tuple[str, ...]
    softeners: tuple[str, ...]
    negators: tuple[str, ...]
    after_negators: tuple[str, ...]
    clause_breaks: tuple[str, ...]
    not_areas: tuple[str, ...]
    not_red_flags: tuple[str, ...]
    roll_words: tuple[str, ...]
    question_cues: tuple[str, ...]
    question_targets: tuple[str, ...]
    routine_words: tuple[str, ...]
    massage_words: tuple[str, ...]
    not_massages: tuple[str, ...]
    massage_wishes: tuple[str, ...]
    massage_context: tuple[str, ...]
    number_words: dict[str, int]
    minutes_units: tuple[str, ...]
    shortcuts: dict[str, tuple[str, ...]]
    answers: dict[str, tuple[str, ...]]  # role ("yes", "no", "later", "skip") -> phrases
    answer_fillers: tuple[str, ...]
    rolled: tuple[str, ...]  # "done rolling!": a session to log
    corrections: tuple[str, ...]  # enough alone to correct the last report
    weak_corrections: tuple[str, ...]  # only with the reported area named as wrong
    other_languages: frozenset[str]


@dataclass(frozen=True, slots=True)
class Faq:
    """A short answer to a question about rolling or massage (faq.yaml)."""

    id: str
    match: tuple[tuple[str, ...], ...]  # a phrase from every group must be in the question
    answer: str
    button_label: str
    button_data: str


@dataclass(frozen=True, slots=True)
class Library:
    """Everything the coach says and knows, validated and keyed by id."""

    areas: dict[str, Area]
    groups: dict[str, tuple[str, ...]]
    workouts: dict[str, Workout]
    massage: MassageContent
    safety: Safety
    messages: dict[str, str]
    commands: dict[str, str]
    language: Language
    faqs: tuple[Faq, ...] = ()
    question_starts: tuple[str, ...] = ()
    not_faq: tuple[str, ...] = ()  # phrases of questions about the user's own data


def _join_names(names: Sequence[str]) -> str:
    """'a', 'a and b', 'a, b and c' — reads naturally inside a sentence."""
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + " and " + names[-1]


# --------------------------------------------------------------------------------------
# A tiny typed view over parsed YAML that remembers where each value came from, so every
# check can report "file: key.path: problem" without threading paths by hand.


@dataclass(frozen=True, slots=True)
class _Node:
    file: str
    path: str
    value: Any

    def fail(self, problem: str) -> ContentError:
        """An error for this value; returned so callers can `raise node.fail(...)`."""
        return ContentError(f"{self.file}: {self.path or '(top level)'}: {problem}")

    def child(self, key: str | int, value: Any) -> _Node:
        if isinstance(key, int):
            return _Node(self.file, f"{self.path}[{key}]", value)
        return _Node(self.file, f"{self.path}.{key}" if self.path else key, value)

    def mapping(self, required: Iterable[str] = (), optional: Iterable[str] = ()) -> dict[str, Any]:
        """A dict with string keys; when `required` is given, also rejects unknown keys."""
        if not isinstance(self.value, dict):
            raise self.fail(f"expected a mapping, got {_kind(self.value)}")
        for key in self.value:
            if not isinstance(key, str):
                raise self.fail(f"expected text keys, got {key!r}")
        required = tuple(required)
        if required:
            _check_keys(self, required, tuple(optional))
        return self.value

    def get(self, key: str) -> _Node:
        """The child at `key`; it must be present."""
        data = self.mapping()
        if key not in data:
            raise self.child(key, None).fail("missing")
        return self.child(key, data[key])

    def items(self) -> list[tuple[str, _Node]]:
        return [(key, self.child(key, value)) for key, value in self.mapping().items()]

    def sequence(self, low: int = 0, high: int | None = None) -> list[_Node]:
        if not isinstance(self.value, list):
            raise self.fail(f"expected a list, got {_kind(self.value)}")
        _check_count(self, len(self.value), low, high)
        return [self.child(index, value) for index, value in enumerate(self.value)]

    def text(self) -> str:
        """A non-empty string; blank strings are as bad as missing ones to a user."""
        if not isinstance(self.value, str):
            raise self.fail(f"expected text, got {_kind(self.value)}")
        if not self.value.strip():
            raise self.fail("must not be empty")
        return self.value.strip()

    def term(self) -> str:
        """Text the parser matches: lowercase and without stray spaces."""
        value = self.text()
        if value != value.lower() or value != self.value:
            raise self.fail(f"expected lowercase text without surrounding spaces, got {value!r}")
        return value

    def texts(self, low: int = 0, high: int | None = None) -> tuple[str, ...]:
        return tuple(node.text() for node in self.sequence(low, high))

    def terms(self, low: int = 1) -> tuple[str, ...]:
        values = tuple(node.term() for node in self.sequence(low))
        _check_unique(self, values)
        return values

    def integer(self, low: int, high: int) -> int:
        if isinstance(self.value, bool) or not isinstance(self.value, int):
            raise self.fail(f"expected a whole number, got {_kind(self.value)}")
        if not low <= self.value <= high:
            raise self.fail(f"expected {low} to {high}, got {self.value}")
        return self.value

    def boolean(self) -> bool:
        if not isinstance(self.value, bool):
            raise self.fail(f"expected true or false, got {_kind(self.value)}")
        return self.value

    def ids(self, known: Sequence[str], low: int = 0, high: int | None = None) -> tuple[str, ...]:
        """A list of ids that must all be in `known`, without repeats."""
        values = tuple(node.text() for node in self.sequence(low, high))
        for index, value in enumerate(values):
            if value not in known:
                raise self.child(index, value).fail(f"unknown id {value!r}")
        _check_unique(self, values)
        return values

    def template(self, required: Iterable[str] = (), allowed: Iterable[str] | None = None) -> str:
        """Text that is a valid str.format template with the fields the caller will pass."""
        value = self.text()
        fields = _template_fields(self, value)
        missing = [name for name in required if name not in fields]
        if missing:
            raise self.fail(f"missing placeholder {{{missing[0]}}}")
        if allowed is not None:
            extra = sorted(fields - set(allowed))
            if extra:
                raise self.fail(f"unknown placeholder {{{extra[0]}}}")
        return value


def _kind(value: Any) -> str:
    """A user-facing name for a YAML value's type."""
    if value is None:
        return "nothing"
    names = {bool: "true/false", int: "a number", float: "a number", str: "text"}
    names.update({list: "a list", dict: "a mapping"})
    return names.get(type(value), type(value).__name__)


def _check_keys(node: _Node, required: Sequence[str], optional: Sequence[str]) -> None:
    """Reject missing and unknown keys: a misspelt key would otherwise be silently ignored."""
    data = node.value
    for key in required:
        if key not in data:
            raise node.child(key, None).fail("missing")
    for key in data:
        if key not in required and key not in optional:
            raise node.child(key, data[key]).fail("unknown key")


def _check_count(node: _Node, count: int, low: int, high: int | None) -> None:
    if high is not None and not low <= count <= high:
        raise node.fail(f"expected {low} to {high} items, got {count}")
    if count < low:
        raise node.fail(f"expected at least {low} items, got {count}")


def _check_unique(node: _Node, values: Sequence[str]) -> None:
    seen: set[str] = set()
    for index, value in enumerate(values):
        if value in seen:
            raise node.child(index, value).fail(f"{value!r} is listed twice")
        seen.add(value)


def _template_fields(node: _Node, value: str) -> set[str]:
    """Names of the {placeholders} in a template; a malformed template is a content error."""
    try:
        parsed = list(string.Formatter().parse(value))
    except ValueError as exc:
        raise node.fail(f"bad template: {exc}") from None
    fields: set[str] = set()
    for _, field_name, _, _ in parsed:
        if field_name is not None:
            if not field_name.isidentifier():
                raise node.fail(f"placeholders must be names, got {{{field_name}}}")
            fields.add(field_name)
    return fields


def _check_ids(node: _Node, expected: Sequence[str], label: str) -> None:
    """All expected ids present and no extras: the rest of the code relies on the full set."""
    data = node.mapping()
    for item_id in expected:
        if item_id not in data:
            raise node.child(item_id, None).fail(f"missing {label}")
    for key in data:
        if key not in expected:
            raise node.child(key, data[key]).fail(f"unknown {label} id")


def _read(directory: Path, filename: str, top_keys: Sequence[str]) -> _Node:
    """Parse one YAML file and check its top-level keys."""
    label = f"{directory.name}/{filename}"
    top = _Node(label, "", None)
    path = directory / filename
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise top.fail(f"file not found at {path}") from None
    except OSError as exc:
        raise top.fail(f"cannot read file: {exc.strerror}") from None
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise top.fail(f"YAML syntax error: {_yaml_problem(exc)}") from None
    node = _Node(label, "", data)
    node.mapping(required=top_keys)
    return node


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """A one-line YAML error with its line number, rather than PyYAML's multi-line dump."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return f"{problem} (line {mark.line + 1})" if mark is not None else str(problem)


# --------------------------------------------------------------------------------------
# One loader per file.

_AREA_KEYS: tuple[str, ...] = (
    "name",
    "synonyms",
    "cues",
    "seconds_per_side",
    "two_sided",
    "cautions",
    "related",
    "rollable",
)


def _area(area_id: str, node: _Node) -> Area:
    node.mapping(required=_AREA_KEYS, optional=("instead",))
    instead_node = node.child("instead", node.value.get("instead") or [])
    area = Area(
        id=area_id,
        name=node.get("name").text(),
        synonyms=node.get("synonyms").terms(),
        cues=node.get("cues").texts(2, 4),
        seconds_per_side=node.get("seconds_per_side").integer(30, 120),
        two_sided=node.get("two_sided").boolean(),
        cautions=node.get("cautions").texts(0, 3),
        related=node.get("related").ids(AREA_IDS),
        rollable=node.get("rollable").boolean(),
        instead=instead_node.ids(AREA_IDS),
    )
    _check_area_links(node, area)
    return area


def _check_area_links(node: _Node, area: Area) -> None:
    """A non-rollable area must point somewhere else to roll; none may point at itself."""
    if area.id in area.related:
        raise node.get("related").fail("an area cannot be related to itself")
    if area.rollable and area.instead:
        raise node.get("instead").fail("only allowed when rollable is false")
    if not area.rollable and not area.instead:
        raise node.child("instead", None).fail("required when rollable is false")
    if area.id in area.instead:
        raise node.get("instead").fail("an area cannot stand in for itself")


def _areas(node: _Node) -> dict[str, Area]:
    areas_node = node.get("areas")
    _check_ids(areas_node, AREA_IDS, "area")
    areas = {area_id: _area(area_id, areas_node.get(area_id)) for area_id in AREA_IDS}
    _check_instead_rollable(areas_node, areas)
    _check_terms_unique(areas_node, {a.id: a.synonyms for a in areas.values()}, "synonyms")
    return areas


def _check_instead_rollable(node: _Node, areas: dict[str, Area]) -> None:
    """Sending the user to another non-rollable area would leave them with nothing to do."""
    for area in areas.values():
        for index, other in enumerate(area.instead):
            if not areas[other].rollable:
                path = node.get(area.id).get("instead").child(index, other)
                raise path.fail(f"{other!r} is not rollable either")


def _check_terms_unique(node: _Node, terms: dict[str, tuple[str, ...]], field: str) -> None:
    """One phrase, one meaning: the parser cannot choose between two owners of a phrase."""
    owner: dict[str, str] = {}
    for item_id, values in terms.items():
        for index, value in enumerate(values):
            if value in owner:
                where = node.get(item_id).get(field).child(index, value)
                raise where.fail(f"{value!r} is already used by {owner[value]!r}")
            owner[value] = item_id


def _groups(node: _Node, areas: dict[str, Area]) -> dict[str, tuple[str, ...]]:
    """Group words expand to several areas; they must not also be an area's synonym."""
    synonyms = {synonym: area.id for area in areas.values() for synonym in area.synonyms}
    groups: dict[str, tuple[str, ...]] = {}
    for word, members in node.get("groups").items():
        if word != word.strip().lower() or not word.strip():
            raise members.fail("group words must be lowercase text")
        if word in synonyms:
            raise members.fail(f"{word!r} is already a synonym of {synonyms[word]!r}")
        groups[word] = members.ids(AREA_IDS, low=2)
    return groups


def _workout(workout_id: str, node: _Node) -> Workout:
    node.mapping(required=("name", "phrases", "focus"))
    focus_node = node.get("focus")
    focus = focus_node.ids(AREA_IDS, 4, 6)
    if "lower_back" in focus:
        raise focus_node.fail("lower_back is never rolled; list the areas around it instead")
    return Workout(
        id=workout_id,
        name=node.get("name").text(),
        phrases=node.get("phrases").terms(),
        focus=focus,
    )


def _workouts(node: _Node) -> dict[str, Workout]:
    workouts_node = node.get("workouts")
    _check_ids(workouts_node, WORKOUT_IDS, "workout")
    workouts = {wid: _workout(wid, workouts_node.get(wid)) for wid in WORKOUT_IDS}
    _check_terms_unique(workouts_node, {w.id: w.phrases for w in workouts.values()}, "phrases")
    return workouts


def _reminder(node: _Node) -> MassageReminder:
    node.mapping(required=("fact", "text"))
    fact_node = node.get("fact")
    fact = fact_node.text()
    if fact not in MASSAGE_FACTS:
        raise fact_node.fail(f"unknown fact {fact!r}; expected one of {', '.join(MASSAGE_FACTS)}")
    return MassageReminder(fact=fact, text=node.get("text").text())


def _massage(node: _Node) -> MassageContent:
    cadence = node.get("cadence")
    cadence.mapping(required=("min_per_month", "target_per_month", "max_per_month"))
    low = cadence.get("min_per_month").integer(1, 31)
    target = cadence.get("target_per_month").integer(1, 31)
    high = cadence.get("max_per_month").integer(1, 31)
    if not low <= target <= high:
        raise cadence.fail(f"expected min <= target <= max, got {low}, {target}, {high}")
    reminders_node = node.get("reminders")
    reminders = tuple(_reminder(item) for item in reminders_node.sequence(MIN_REMINDERS))
    missing = [fact for fact in MASSAGE_FACTS if fact not in {r.fact for r in reminders}]
    if missing:
        raise reminders_node.fail(f"no reminder for fact {missing[0]!r}")
    escalation = node.get("escalation").template(("area", "days"), ("area", "days"))
    return MassageContent(low, target, high, reminders, escalation)


def _red_flag(node: _Node) -> RedFlagKind:
    node.mapping(required=("id", "urgent", "terms"))
    return RedFlagKind(
        id=node.get("id").term(),
        urgent=node.get("urgent").boolean(),
        terms=node.get("terms").terms(),
    )


def _safety(node: _Node) -> Safety:
    flags_node = node.get("red_flags")
    flags = tuple(_red_flag(item) for item in flags_node.sequence(1))
    _check_unique(flags_node, [flag.id for flag in flags])
    if not any(flag.urgent for flag in flags):
        raise flags_node.fail("at least one kind must be urgent")
    return Safety(
        flags=flags,
        reply=node.get("reply").template(("areas",), ("areas",)),
        urgent_reply=node.get("urgent_reply").template((), ("areas",)),
    )


def _messages(node: _Node) -> dict[str, str]:
    messages_node = node.get("messages")
    messages = {key: child.template() for key, child in messages_node.items()}
    for key in REQUIRED_MESSAGES:
        messages_node.get(key)
    help_node = messages_node.get("help")
    for command in COMMANDS:
        if f"/{command}" not in messages["help"]:
            raise help_node.fail(f"does not mention /{command}")
    return messages


def _commands(node: _Node) -> dict[str, str]:
    """Exactly the commands every platform registers, each with a menu-sized description."""
    commands_node = node.get("commands")
    _check_ids(commands_node, COMMANDS, "command")
    commands: dict[str, str] = {}
    for command in COMMANDS:
        child = commands_node.get(command)
        text = child.text()
        if len(text) > MAX_COMMAND_DESCRIPTION:
            raise child.fail(f"longer than {MAX_COMMAND_DESCRIPTION} characters")
        commands[command] = text
    return commands


def _scale(node: _Node, low: int, high: int) -> dict[str, int]:
    """A mapping of level -> phrases, flattened to phrase -> level; one level per phrase."""
    if not isinstance(node.value, dict):
        raise node.fail(f"expected a mapping of level to phrases, got {_kind(node.value)}")
    levels: dict[str, int] = {}
    for key, value in node.value.items():
        child = node.child(key, value)
        level = node.child(key, key).integer(low, high)
        for term in child.terms():
            if term in levels:
                raise child.fail(f"{term!r} is already at level {levels[term]}")
            levels[term] = level
    return levels


def _number_words(node: _Node) -> dict[str, int]:
    return {word: node.child(word, value).integer(0, 100) for word, value in node.mapping().items()}


LANGUAGE_KEYS = (
    "severity",
    "negators",
    "after_negators",
    "clause_breaks",
    "not_areas",
    "not_red_flags",
    "questions",
    "massage",
    "number_words",
    "minutes_units",
    "shortcuts",
    "answers",
    "corrections",
    "other_languages",
    "rolled",
)
ANSWER_ROLES = ("yes", "no", "later", "skip")


def _language(node: _Node) -> Language:
    severity = node.get("severity")
    severity.mapping(
        required=("default", "words", "intensifiers", "after_intensifiers", "softeners")
    )
    questions = node.get("questions")
    questions.mapping(required=("roll_words", "cues", "routine_words", "targets"))
    massage = node.get("massage")
    massage.mapping(required=("not_massages", "wishes", "words", "context_words"))
    return Language(
        default_severity=severity.get("default").integer(1, 10),
        severity_words=_scale(severity.get("words"), 0, 10),
        intensifiers=_scale(severity.get("intensifiers"), 0, 10),
        after_intensifiers=severity.get("after_intensifiers").terms(),
        softeners=severity.get("softeners").terms(),
        negators=node.get("negators").terms(),
        after_negators=node.get("after_negators").terms(),
        clause_breaks=node.get("clause_breaks").terms(),
        not_areas=node.get("not_areas").terms(),
        not_red_flags=node.get("not_red_flags").terms(),
        roll_words=questions.get("roll_words").terms(),
        question_cues=questions.get("cues").terms(),
        question_targets=questions.get("targets").terms(),
        routine_words=questions.get("routine_words").terms(),
        massage_words=massage.get("words").terms(),
        not_massages=massage.get("not_massages").terms(),
        massage_wishes=massage.get("wishes").terms(),
        massage_context=massage.get("context_words").terms(),
        number_words=_number_words(node.get("number_words")),
        minutes_units=node.get("minutes_units").terms(),
        shortcuts=_shortcuts(node.get("shortcuts")),
        answers=_answers(node.get("answers")),
        answer_fillers=node.get("answers").get("fillers").terms(),
        rolled=node.get("rolled").terms(),
        corrections=node.get("corrections").get("strong").terms(),
        weak_corrections=node.get("corrections").get("weak").terms(),
        other_languages=frozenset(node.get("other_languages").terms()),
    )


def _answers(node: _Node) -> dict[str, tuple[str, ...]]:
    """Answer role -> phrases; a phrase answers one role only."""
    node.mapping(required=ANSWER_ROLES, optional=("fillers",))
    answers = {role: node.get(role).terms() for role in ANSWER_ROLES}
    owner: dict[str, str] = {}
    for role, phrases in answers.items():
        for index, phrase in enumerate(phrases):
            if phrase in owner:
                where = node.get(role).child(index, phrase)
                raise where.fail(f"{phrase!r} already answers {owner[phrase]!r}")
            owner[phrase] = role
    return answers


def _shortcuts(node: _Node) -> dict[str, tuple[str, ...]]:
    """Command id -> phrases; every key must be a real command."""
    _check_known(node, COMMANDS, "command")
    return {command: child.terms() for command, child in node.items()}


def _check_known(node: _Node, known: Sequence[str], label: str) -> None:
    for key in node.mapping():
        if key not in known:
            raise node.child(key, None).fail(f"unknown {label} {key!r}")


def _faq(node: _Node) -> Faq:
    node.mapping(required=("id", "match", "answer", "button"))
    button = node.get("button")
    button.mapping(required=("label", "data"))
    data = button.get("data").text()
    if len(data.encode("utf-8")) > 64:
        raise button.get("data").fail("button data must fit in 64 bytes")
    return Faq(
        id=node.get("id").term(),
        match=tuple(group.terms() for group in node.get("match").sequence(low=1)),
        answer=node.get("answer").text(),
        button_label=button.get("label").text(),
        button_data=data,
    )


def _faqs(node: _Node) -> tuple[Faq, ...]:
    faqs = tuple(_faq(child) for child in node.get("faqs").sequence(low=1))
    _check_unique(node.get("faqs"), [faq.id for faq in faqs])
    return faqs


def load_library(directory: Path | None = None) -> Library:
    """Read and validate every content file; raises ContentError naming file and key."""
    folder = DEFAULT_DIRECTORY if directory is None else directory
    areas_file = _read(folder, "areas.yaml", ("areas", "groups"))
    workouts_file = _read(folder, "workouts.yaml", ("workouts",))
    massage_file = _read(folder, "massage.yaml", ("cadence", "reminders", "escalation"))
    safety_file = _read(folder, "safety.yaml", ("red_flags", "reply", "urgent_reply"))
    messages_file = _read(folder, "messages.yaml", ("messages", "commands"))
    faq_file = _read(folder, "faq.yaml", ("not_faq", "question_starts", "faqs"))
    language_file = _read(
        folder,
        "language.yaml",
        LANGUAGE_KEYS,
    )
    areas = _areas(areas_file)
    return Library(
        areas=areas,
        groups=_groups(areas_file, areas),
        workouts=_workouts(workouts_file),
        massage=_massage(massage_file),
        safety=_safety(safety_file),
        messages=_messages(messages_file),
        commands=_commands(messages_file),
        language=_language(language_file),
        faqs=_faqs(faq_file),
        question_starts=faq_file.get("question_starts").terms(),
        not_faq=faq_file.get("not_faq").terms(),
    )


@functools.lru_cache(maxsize=1)
def default_library() -> Library:
    """The repository's content, loaded once: it never changes while the bot runs."""
    return load_library()
