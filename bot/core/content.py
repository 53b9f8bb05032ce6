"""The coaching content library: areas, workouts, massage, safety, messages and language.

The words the coach uses live in `bot/content/*.yaml` so they can be edited without touching
code. Because a typo there would otherwise surface as a wrong reply (or a crash) deep in a
conversation, `load_library` validates everything up front and fails with a
`ContentError` naming the file and the key path, e.g.
``content/areas.yaml: areas.calves.cues: expected 2 to 4 items, got 1``.

Each file's shape is a pydantic model (types, required and unknown keys, ranges, list
lengths, templates); the few rules that span entries or files (ids that must exist, a
phrase with two owners) are plain functions after it. The ids of areas, workouts and
commands come from the YAML: no list in code repeats them.
"""

from __future__ import annotations

import functools
import string
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, TypeVar

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)

MASSAGE_FACTS: tuple[str, ...] = ("relaxation", "duration", "fascia", "specificity", "cost")
REQUIRED_MESSAGES: tuple[str, ...] = ("help", "not_understood", "welcome")
ANSWER_ROLES: tuple[str, ...] = ("yes", "no", "later", "skip", "undo")
MIN_REMINDERS = 8
MAX_COMMAND_DESCRIPTION = 100  # Discord's limit for slash-command descriptions

DEFAULT_DIRECTORY = Path(str(resources.files("bot") / "content"))
"""The content shipped inside the package; BOT_CONTENT_DIR points the bot at an edited copy."""


class ContentError(ValueError):
    """A content file is missing or wrong; the message says which file and which key."""


class _RuleBrokenError(Exception):
    """A rule broken at `path` (not a ValueError, so pydantic lets it through unwrapped)."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(message)
        self.path = path
        self.message = message


# --- field types: each check once, with the words the error should use ----------------------


def _text(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value.strip()


def _term(value: str) -> str:
    """Text the parser matches: lowercase and without stray spaces."""
    if not value.strip():
        raise ValueError("must not be empty")
    if value != value.strip().lower():
        raise ValueError(f"expected lowercase text without surrounding spaces, got {value!r}")
    return value


def _unique(values: tuple[str, ...]) -> tuple[str, ...]:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise ValueError(f"{value!r} is listed twice")
        seen.add(value)
    return values


def _items(low: int, high: int | None = None) -> AfterValidator:
    def check(values: tuple[Any, ...]) -> tuple[Any, ...]:
        if high is not None and not low <= len(values) <= high:
            raise ValueError(f"expected {low} to {high} items, got {len(values)}")
        if len(values) < low:
            raise ValueError(f"expected at least {low} items, got {len(values)}")
        return values

    return AfterValidator(check)


def _range(low: int, high: int) -> AfterValidator:
    def check(value: int) -> int:
        if not low <= value <= high:
            raise ValueError(f"expected {low} to {high}, got {value}")
        return value

    return AfterValidator(check)


def _template(required: Iterable[str] = (), allowed: Iterable[str] | None = None) -> AfterValidator:
    """A valid str.format template, with the placeholders the caller will pass."""
    required, allowed = tuple(required), None if allowed is None else set(allowed)

    def check(value: str) -> str:
        fields = template_fields(value)
        missing = [name for name in required if name not in fields]
        if missing:
            raise ValueError(f"missing placeholder {{{missing[0]}}}")
        extra = sorted(fields - allowed) if allowed is not None else []
        if extra:
            raise ValueError(f"unknown placeholder {{{extra[0]}}}")
        return value

    return AfterValidator(check)


Text = Annotated[StrictStr, AfterValidator(_text)]
Term = Annotated[StrictStr, AfterValidator(_term)]
Terms = Annotated[tuple[Term, ...], _items(1), AfterValidator(_unique)]
Ids = Annotated[tuple[Text, ...], AfterValidator(_unique)]
Template = Annotated[Text, _template()]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- what the library holds ------------------------------------------------------------------


class Area(_Model):
    """One body area with the how-to for rolling it (or, if not rollable, what to roll instead)."""

    id: str = ""
    name: Text
    synonyms: Terms
    cues: Annotated[tuple[Text, ...], _items(2, 4)]
    seconds_per_side: Annotated[StrictInt, _range(30, 120)]
    two_sided: StrictBool
    cautions: Annotated[tuple[Text, ...], _items(0, 3)]
    related: Ids
    rollable: StrictBool
    instead: Ids = Field(default=(), validate_default=True)

    @field_validator("instead")
    @classmethod
    def _instead_only_when_not_rollable(cls, value: tuple[str, ...], info: ValidationInfo) -> Any:
        rollable = info.data.get("rollable")
        if rollable is False and not value:
            raise ValueError("required when rollable is false")
        if rollable and value:
            raise ValueError("only allowed when rollable is false")
        return value

    @property
    def seconds(self) -> int:
        """Total time for the area, counting both sides of a paired muscle."""
        return self.seconds_per_side * (2 if self.two_sided else 1)


class Workout(_Model):
    """A kind of session; `focus` lists the areas to roll before it, most important first."""

    id: str = ""
    name: Text
    phrases: Terms
    focus: Annotated[Ids, _items(4, 6)]
    # Sports with no routine of their own that this one suits ("football": a run's legs);
    # not read by the parser, whose workout slot keeps to the six kinds.
    like: Annotated[tuple[Term, ...], AfterValidator(_unique)] = ()

    @field_validator("focus")
    @classmethod
    def _never_the_lower_back(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if "lower_back" in value:
            raise ValueError("lower_back is never rolled; list the areas around it instead")
        return value


class RedFlagKind(_Model):
    """One kind of warning sign; `urgent` ones call for urgent care, not just a check-up."""

    id: Term
    urgent: StrictBool
    terms: Terms


class Safety(_Model):
    """Red-flag vocabulary and the replies that replace any routine when one is seen."""

    red_flags: Annotated[tuple[RedFlagKind, ...], _items(1)]
    reply: Annotated[Text, _template(("areas",), ("areas",))]
    urgent_reply: Annotated[Text, _template((), ("areas",))]

    @property
    def flags(self) -> tuple[RedFlagKind, ...]:
        return self.red_flags

    @field_validator("red_flags")
    @classmethod
    def _one_urgent(cls, value: tuple[RedFlagKind, ...]) -> tuple[RedFlagKind, ...]:
        _unique(tuple(flag.id for flag in value))
        if not any(flag.urgent for flag in value):
            raise ValueError("at least one kind must be urgent")
        return value

    def format_reply(self, area_names: Sequence[str], *, urgent: bool = False) -> str:
        """The reply with `{areas}` filled in, so callers never render an empty gap."""
        template = self.urgent_reply if urgent else self.reply
        return template.format(areas=_join_names(area_names) if area_names else "that area")


class MassageReminder(_Model):
    """A nudge to book a massage; `fact` names the coaching fact it rests on."""

    fact: Text
    text: Text

    @field_validator("fact")
    @classmethod
    def _known_fact(cls, value: str) -> str:
        if value not in MASSAGE_FACTS:
            raise ValueError(f"unknown fact {value!r}; expected one of {', '.join(MASSAGE_FACTS)}")
        return value


class Cadence(_Model):
    min_per_month: Annotated[StrictInt, _range(1, 31)]
    target_per_month: Annotated[StrictInt, _range(1, 31)]
    max_per_month: Annotated[StrictInt, _range(1, 31)]


class MassageContent(_Model):
    """Monthly massage cadence, reminder texts and the long-soreness escalation template."""

    cadence: Cadence
    reminders: Annotated[tuple[MassageReminder, ...], _items(MIN_REMINDERS)]
    escalation: Annotated[Text, _template(("area", "days"), ("area", "days"))]

    @field_validator("cadence")
    @classmethod
    def _ordered(cls, value: Cadence) -> Cadence:
        low, target, high = value.min_per_month, value.target_per_month, value.max_per_month
        if not low <= target <= high:
            raise ValueError(f"expected min <= target <= max, got {low}, {target}, {high}")
        return value

    @field_validator("reminders")
    @classmethod
    def _every_fact(cls, value: tuple[MassageReminder, ...]) -> tuple[MassageReminder, ...]:
        missing = [fact for fact in MASSAGE_FACTS if fact not in {r.fact for r in value}]
        if missing:
            raise ValueError(f"no reminder for fact {missing[0]!r}")
        return value

    @property
    def min_per_month(self) -> int:
        return self.cadence.min_per_month

    @property
    def target_per_month(self) -> int:
        return self.cadence.target_per_month

    @property
    def max_per_month(self) -> int:
        return self.cadence.max_per_month


class FaqButton(_Model):
    label: Text
    data: Text


class Faq(_Model):
    """A short answer to a question about rolling or massage (faq.yaml)."""

    id: Term
    match: Annotated[tuple[Terms, ...], _items(1)]  # a phrase from every group must be said
    answer: Text
    button: FaqButton
    # Also answers a statement that says a phrase of the first group ("I pulled my hamstring").
    statements: bool = False
    # Promises a reminder: while reminders are paused, the answer says so first.
    about_reminders: bool = False

    @property
    def button_label(self) -> str:
        return self.button.label

    @property
    def button_data(self) -> str:
        return self.button.data


@dataclass(frozen=True, slots=True)
class Language:
    """The parser's and the dialog layer's words from language.yaml, flattened for lookup
    (the grammar's word sections stay as their validated models)."""

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
    # The grammar's own words, one section of language.yaml each (the parser binds them
    # onto its Lexicon once; the schedule reader onto its vocabulary).
    tokens: TokenWords
    severity_numbers: SeverityNumberWords
    now_words: tuple[str, ...]
    state_verbs: tuple[str, ...]
    negation: NegationWords
    warning_signs: WarningSignWords
    workout_mentions: WorkoutMentionWords
    intent_words: IntentWords
    massage_reports: MassageReportWords
    time_budget: TimeBudgetWords
    schedules: ScheduleWords


@dataclass(frozen=True, slots=True)
class Library:
    """Everything the coach says and knows, validated and keyed by id (in file order)."""

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


def template_fields(value: str) -> set[str]:
    """Names of the {placeholders} in a template; ValueError for a malformed one."""
    try:
        parsed = list(string.Formatter().parse(value))
    except ValueError as exc:
        raise ValueError(f"bad template: {exc}") from None
    fields: set[str] = set()
    for _, field_name, _, _ in parsed:
        if field_name is not None:
            if not field_name.isidentifier():
                raise ValueError(f"placeholders must be names, got {{{field_name}}}")
            fields.add(field_name)
    return fields


# --- the files -------------------------------------------------------------------------------


class AreasFile(_Model):
    areas: dict[Term, Area]
    groups: dict[Term, Annotated[Ids, _items(2)]]


class WorkoutsFile(_Model):
    workouts: dict[Term, Workout]


class MessagesFile(_Model):
    messages: dict[StrictStr, Template]
    commands: dict[Term, Text]

    @field_validator("commands")
    @classmethod
    def _menu_sized(cls, value: dict[str, str]) -> dict[str, str]:
        for command, description in value.items():
            if len(description) > MAX_COMMAND_DESCRIPTION:
                raise _RuleBrokenError(
                    f"commands.{command}", f"longer than {MAX_COMMAND_DESCRIPTION} characters"
                )
        return value


class SeverityWords(_Model):
    default: Annotated[StrictInt, _range(1, 10)]
    words: dict[StrictInt, Terms]
    intensifiers: dict[StrictInt, Terms]
    after_intensifiers: Terms
    softeners: Terms


class QuestionWords(_Model):
    roll_words: Terms
    cues: Terms
    routine_words: Terms
    targets: Terms


class MassageWords(_Model):
    not_massages: Terms
    wishes: Terms
    words: Terms
    context_words: Terms


class AnswerWords(_Model):
    yes: Terms
    no: Terms
    later: Terms
    skip: Terms
    undo: Terms
    fillers: Terms


class CorrectionWords(_Model):
    strong: Terms
    weak: Terms


class TokenWords(_Model):
    fillers: Terms
    contractions: dict[Term, Term]


class SeverityNumberWords(_Model):
    prefixes: Terms
    not_units: Terms


class NegationWords(_Model):
    inability: Terms
    answers: Terms
    denial_ends: Terms


class WarningSignWords(_Model):
    subject_gap: Terms
    asleep: Terms
    modifier_gaps: Terms
    numb_triggers: Terms
    breathing: Terms


class WorkoutMentionWords(_Model):
    past_before: Terms
    past_after: Terms
    called_off: Terms
    training_verbs: Terms
    upper_body_areas: Annotated[Ids, _items(1)]


class IntentWords(_Model):
    question_starts: Terms
    yes_no_starts: Terms
    roll_question_starts: Terms
    roll_verbs: Terms
    meta_questions: Terms
    review: Terms
    rolling_done: Terms
    asking: Terms
    start_words: Terms
    settings: Terms


class MassageReportWords(_Model):
    planned: Terms
    called_off: Terms
    asking: Terms


class TimeBudgetWords(_Model):
    have: Terms
    only: Terms
    skip: Terms
    after: Terms
    until: Terms
    to: Terms
    duration_after: Terms
    openers: Terms
    not_before: Terms
    past: Terms
    not_a_budget: Terms
    fillers: Terms


class ScheduleWords(_Model):
    """Words for training days and times; `days` holds one list per weekday, Monday first."""

    days: tuple[Terms, ...]
    weekdays: Terms
    weekends: Terms
    every_day: Terms
    today: Terms
    tonight: Terms
    tomorrow: Terms
    morning: Terms
    evening: Terms
    noon: Terms
    midnight: Terms
    range_words: Terms
    at_words: Terms
    oclock: Terms
    time_fillers: Terms
    not_time_units: Terms
    workout_words: dict[Term, Term]
    changes: Terms
    additions: Terms

    @field_validator("days")
    @classmethod
    def _a_week(cls, value: tuple[tuple[str, ...], ...]) -> tuple[tuple[str, ...], ...]:
        if len(value) != 7:
            raise ValueError(f"expected 7 days, Monday first, got {len(value)}")
        seen: set[str] = set()
        for words in value:
            for word in words:
                if word in seen:
                    raise ValueError(f"{word!r} names two days")
                seen.add(word)
        return value


class LanguageFile(_Model):
    severity: SeverityWords
    negators: Terms
    after_negators: Terms
    clause_breaks: Terms
    not_areas: Terms
    not_red_flags: Terms
    questions: QuestionWords
    massage: MassageWords
    number_words: dict[Term, Annotated[StrictInt, _range(0, 100)]]
    minutes_units: Terms
    answers: AnswerWords
    rolled: Terms
    shortcuts: dict[Term, Terms]
    corrections: CorrectionWords
    other_languages: Terms
    tokens: TokenWords
    severity_numbers: SeverityNumberWords
    now_words: Terms
    state_verbs: Terms
    negation: NegationWords
    warning_signs: WarningSignWords
    workout_mentions: WorkoutMentionWords
    intent_words: IntentWords
    massage_reports: MassageReportWords
    time_budget: TimeBudgetWords
    schedules: ScheduleWords


class FaqFile(_Model):
    not_faq: Terms
    question_starts: Terms
    faqs: Annotated[tuple[Faq, ...], _items(1)]


# --- reading and checking --------------------------------------------------------------------

_File = TypeVar("_File", bound=BaseModel)


def _read(directory: Path, filename: str, model: type[_File]) -> _File:
    """Parse one YAML file into its model; any problem is a ContentError naming the key."""
    label = f"{directory.name}/{filename}"
    path = directory / filename
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ContentError(f"{label}: (top level): file not found at {path}") from None
    except OSError as exc:
        raise ContentError(f"{label}: (top level): cannot read file: {exc.strerror}") from None
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise ContentError(
            f"{label}: (top level): YAML syntax error: {_yaml_problem(exc)}"
        ) from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ContentError(f"{label}: {_first_problem(exc)}") from None
    except _RuleBrokenError as problem:
        raise ContentError(f"{label}: {problem.path}: {problem.message}") from None


def _first_problem(exc: ValidationError) -> str:
    """ "areas.calves.cues: expected 2 to 4 items, got 1" from pydantic's first error."""
    error = exc.errors(include_url=False)[0]
    path = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in error["loc"])
    path = path.lstrip(".") or "(top level)"
    kind, given = error["type"], error.get("input")
    wording = {
        "missing": "missing",
        "extra_forbidden": "unknown key",
        "bool_type": f"expected true or false, got {_kind(given)}",
        "int_type": f"expected a whole number, got {_kind(given)}",
        "string_type": f"expected text, got {_kind(given)}",
        "tuple_type": f"expected a list, got {_kind(given)}",
        "list_type": f"expected a list, got {_kind(given)}",
        "dict_type": f"expected a mapping, got {_kind(given)}",
        "model_type": f"expected a mapping, got {_kind(given)}",
        "model_attributes_type": f"expected a mapping, got {_kind(given)}",
    }
    message = wording.get(kind) or str(error["msg"]).removeprefix("Value error, ")
    return f"{path}: {message}"


def _kind(value: Any) -> str:
    """A user-facing name for a YAML value's type."""
    if value is None:
        return "nothing"
    names = {bool: "true/false", int: "a number", float: "a number", str: "text"}
    for kind, name in names.items():
        if type(value) is kind:
            return name
    return "a list" if isinstance(value, list) else "a mapping"


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """A one-line YAML error with its line number, rather than PyYAML's multi-line dump."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return f"{problem} (line {mark.line + 1})" if mark is not None else str(problem)


def _check(rule: Callable[[], None], label: str) -> None:
    try:
        rule()
    except _RuleBrokenError as problem:
        raise ContentError(f"{label}: {problem.path}: {problem.message}") from None


def _known_ids(path: str, ids: Sequence[str], known: Mapping[str, object]) -> None:
    for index, value in enumerate(ids):
        if value not in known:
            raise _RuleBrokenError(f"{path}[{index}]", f"unknown id {value!r}")


def _one_owner(
    path: str,
    owners: Mapping[str, Sequence[str]],
    field: str = "",
    taken: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """One phrase, one meaning: the parser cannot choose between two owners of a phrase
    (nor of one already `taken`). Returns every phrase with its owner."""
    owner: dict[str, str] = dict(taken or {})
    for item_id, values in owners.items():
        for index, value in enumerate(values):
            if value in owner:
                where = f"{path}.{item_id}{'.' + field if field else ''}[{index}]"
                raise _RuleBrokenError(where, f"{value!r} is already used by {owner[value]!r}")
            owner[value] = item_id
    return owner


def _check_areas(file: AreasFile) -> None:
    areas = file.areas
    for area_id, area in areas.items():
        _known_ids(f"areas.{area_id}.related", area.related, areas)
        _known_ids(f"areas.{area_id}.instead", area.instead, areas)
        if area_id in area.related:
            raise _RuleBrokenError(
                f"areas.{area_id}.related", "an area cannot be related to itself"
            )
        for index, other in enumerate(area.instead):
            if other == area_id:
                raise _RuleBrokenError(
                    f"areas.{area_id}.instead", "an area cannot stand in for itself"
                )
            if not areas[other].rollable:
                where = f"areas.{area_id}.instead[{index}]"
                raise _RuleBrokenError(where, f"{other!r} is not rollable either")
    _one_owner("areas", {a: area.synonyms for a, area in areas.items()}, "synonyms")
    synonyms = {s: area_id for area_id, area in areas.items() for s in area.synonyms}
    for word, members in file.groups.items():
        if word in synonyms:
            raise _RuleBrokenError(
                f"groups.{word}", f"{word!r} is already a synonym of {synonyms[word]!r}"
            )
        _known_ids(f"groups.{word}", members, areas)


def _check_workouts(file: WorkoutsFile, areas: Mapping[str, Area]) -> None:
    for workout_id, workout in file.workouts.items():
        _known_ids(f"workouts.{workout_id}.focus", workout.focus, areas)
    phrases = _one_owner("workouts", {w: wk.phrases for w, wk in file.workouts.items()}, "phrases")
    _one_owner("workouts", {w: wk.like for w, wk in file.workouts.items()}, "like", phrases)


def _check_messages(file: MessagesFile) -> None:
    for key in REQUIRED_MESSAGES:
        if key not in file.messages:
            raise _RuleBrokenError(f"messages.{key}", "missing")
    for command in file.commands:
        if f"/{command}" not in file.messages["help"]:
            raise _RuleBrokenError("messages.help", f"does not mention /{command}")


def _check_language(
    file: LanguageFile,
    commands: Mapping[str, str],
    areas: Mapping[str, Area],
    workouts: Mapping[str, Workout],
) -> None:
    """Words that point at commands, areas or workouts point at ones that exist."""
    for command in file.shortcuts:
        if command not in commands:
            raise _RuleBrokenError(f"shortcuts.{command}", f"unknown command {command!r}")
    owners = {role: getattr(file.answers, role) for role in ANSWER_ROLES}
    _one_owner("answers", owners)
    _known_ids("workout_mentions.upper_body_areas", file.workout_mentions.upper_body_areas, areas)
    for word, workout in file.schedules.workout_words.items():
        if workout not in workouts:
            raise _RuleBrokenError(
                f"schedules.workout_words.{word}", f"unknown workout {workout!r}"
            )


def _scale(levels: Mapping[int, tuple[str, ...]], path: str, low: int, high: int) -> dict[str, int]:
    """level -> phrases, flattened to phrase -> level; one level per phrase."""
    flat: dict[str, int] = {}
    for level, phrases in levels.items():
        if not low <= level <= high:
            raise _RuleBrokenError(f"{path}.{level}", f"expected {low} to {high}, got {level}")
        for phrase in phrases:
            if phrase in flat:
                raise _RuleBrokenError(
                    f"{path}.{level}", f"{phrase!r} is already at level {flat[phrase]}"
                )
            flat[phrase] = level
    return flat


def _language(file: LanguageFile) -> Language:
    severity, questions, massage = file.severity, file.questions, file.massage
    return Language(
        default_severity=severity.default,
        severity_words=_scale(severity.words, "severity.words", 0, 10),
        intensifiers=_scale(severity.intensifiers, "severity.intensifiers", 0, 10),
        after_intensifiers=severity.after_intensifiers,
        softeners=severity.softeners,
        negators=file.negators,
        after_negators=file.after_negators,
        clause_breaks=file.clause_breaks,
        not_areas=file.not_areas,
        not_red_flags=file.not_red_flags,
        roll_words=questions.roll_words,
        question_cues=questions.cues,
        question_targets=questions.targets,
        routine_words=questions.routine_words,
        massage_words=massage.words,
        not_massages=massage.not_massages,
        massage_wishes=massage.wishes,
        massage_context=massage.context_words,
        number_words=dict(file.number_words),
        minutes_units=file.minutes_units,
        shortcuts=dict(file.shortcuts),
        answers={role: getattr(file.answers, role) for role in ANSWER_ROLES},
        answer_fillers=file.answers.fillers,
        rolled=file.rolled,
        corrections=file.corrections.strong,
        weak_corrections=file.corrections.weak,
        other_languages=frozenset(file.other_languages),
        tokens=file.tokens,
        severity_numbers=file.severity_numbers,
        now_words=file.now_words,
        state_verbs=file.state_verbs,
        negation=file.negation,
        warning_signs=file.warning_signs,
        workout_mentions=file.workout_mentions,
        intent_words=file.intent_words,
        massage_reports=file.massage_reports,
        time_budget=file.time_budget,
        schedules=file.schedules,
    )


def load_library(directory: Path | None = None) -> Library:
    """Read and validate every content file; raises ContentError naming file and key."""
    folder = DEFAULT_DIRECTORY if directory is None else directory
    areas_file = _read(folder, "areas.yaml", AreasFile)
    workouts_file = _read(folder, "workouts.yaml", WorkoutsFile)
    massage = _read(folder, "massage.yaml", MassageContent)
    safety = _read(folder, "safety.yaml", Safety)
    messages_file = _read(folder, "messages.yaml", MessagesFile)
    faq_file = _read(folder, "faq.yaml", FaqFile)
    language_file = _read(folder, "language.yaml", LanguageFile)
    areas = {key: area.model_copy(update={"id": key}) for key, area in areas_file.areas.items()}
    _check(lambda: _check_areas(areas_file), f"{folder.name}/areas.yaml")
    _check(lambda: _check_workouts(workouts_file, areas), f"{folder.name}/workouts.yaml")
    _check(lambda: _check_messages(messages_file), f"{folder.name}/messages.yaml")
    _check(lambda: _unique_faqs(faq_file), f"{folder.name}/faq.yaml")
    language: list[Language] = []
    workouts = {k: w.model_copy(update={"id": k}) for k, w in workouts_file.workouts.items()}
    _check(
        lambda: _check_language(language_file, messages_file.commands, areas, workouts),
        f"{folder.name}/language.yaml",
    )
    _check(lambda: language.append(_language(language_file)), f"{folder.name}/language.yaml")
    return Library(
        areas=areas,
        groups=dict(areas_file.groups),
        workouts=workouts,
        massage=massage,
        safety=safety,
        messages=dict(messages_file.messages),
        commands=dict(messages_file.commands),
        language=language[0],
        faqs=faq_file.faqs,
        question_starts=faq_file.question_starts,
        not_faq=faq_file.not_faq,
    )


def _unique_faqs(file: FaqFile) -> None:
    seen: set[str] = set()
    for index, faq in enumerate(file.faqs):
        if faq.id in seen:
            raise _RuleBrokenError(f"faqs[{index}].id", f"{faq.id!r} is listed twice")
        seen.add(faq.id)


@functools.lru_cache(maxsize=1)
def default_library() -> Library:
    """The repository's content, loaded once: it never changes while the bot runs."""
    return load_library()
