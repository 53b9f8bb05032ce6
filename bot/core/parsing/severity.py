"""Severity: how sore each area named in a message is, on the 0-10 scale.

Severity is said in words ("a bit tight" 3, "sore" 5, "really sore" 7, "killing me" 9) with
modifiers before or after them ("very", "slightly", "a lot"), or as numbers ("6/10", "6 out
of 10", "a 6", "down to a 4 now"). Each area takes the severity said about it in its own
clause: right before it, else what follows it up to the next area, else what came before.
An area said with none borrows from a neighbouring clause that names no area ("DOMS means I
can't walk, glutes and hamstrings"), lists share the words at their end ("glutes, quads and
calves all stiff"), and later clauses refine ("tight, like a 4"). An area named with no
severity at all takes the content's default and is reported as `unrated`.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.parsing.lexicon import Lexicon
from bot.core.parsing.spans import Span, area_ids, tag_value
from bot.core.parsing.tokens import BREAK_TOKEN, MIN_TOKEN, SEV_TOKEN, TIME_TOKEN, Tokens


@dataclass(slots=True)
class Severity:
    """A severity said in the message: where, how much, and how it was said."""

    position: int
    value: int
    numeric: bool
    clause: int
    before_area: bool = False  # a modifier right before an area ("sore left calf")
    recovery: bool = False  # said as a state: "feel fine", "now ok" (not "bear weight fine")
    current: bool = False  # "now a 4": newer than a number said before it
    denied: bool = False  # "isn't sore": a negated word, which a later clause may correct


def read_soreness(
    spans: list[Span],
    tokens: Tokens,
    clause_of: list[int],
    lexicon: Lexicon,
    unrated: set[str],
) -> dict[str, int]:
    """Area id -> severity for every area the message reports on; the areas said with no
    severity (given the content's default) are added to `unrated`."""
    areas = [s for s in spans if ("area" in s.tags) and "not_area" not in s.tags]
    if not areas:
        return {}
    default = lexicon.default_severity
    done_rolling = "rolled" in tokens.words and not any(
        "flag" in s.tags and not s.negated for s in spans
    )
    severities = _severities(spans, tokens, clause_of, areas, lexicon)
    found: dict[str, int] = {}
    by_clause: dict[int, list[Severity]] = {}
    for said in severities:
        by_clause.setdefault(said.clause, []).append(said)
    area_clauses = {s.clause for s in areas}
    area_starts = {s.start for s in areas}
    flag_clauses = {s.clause for s in spans if "flag" in s.tags and not s.negated}
    chosen: list[tuple[Span, Severity | None]] = [
        (
            area,
            _severity_for(
                area, by_clause.get(area.clause, []), area_starts, area.clause not in flag_clauses
            ),
        )
        for area in areas
    ]
    values: list[int | None] = []
    for area, severity in chosen:
        if severity is not None:
            value: int | None = severity.value
        elif area.clause in flag_clauses:
            # the place of a symptom borrows only what follows ("landed on my shoulder,
            # really sore now"), not soreness said about something before it
            after = _next_clause_with_severity(area.clause, 1, by_clause, area_clauses)
            value = _strongest(by_clause[after]) if after is not None else None
        else:
            value = _from_neighbour(area.clause, by_clause, area_clauses)
        refined = _refinement(area.clause, by_clause, area_clauses, severity)
        values.append(refined if refined is not None else value)
    _share_along_lists(areas, values, by_clause, flag_clauses)
    for area, value in zip(areas, values, strict=True):
        if value is None and done_rolling:
            continue  # "I rolled my calves this morning" reports rolling, not soreness
        for area_id in area_ids(area):
            if value is None and area_id in found:
                continue  # "shins 7/10 ... just shin splints": the rated mention stands
            found[area_id] = default if value is None else value
            if value is None:
                unrated.add(area_id)
            else:
                unrated.discard(area_id)
    return found


def _share_along_lists(
    areas: list[Span],
    values: list[int | None],
    by_clause: dict[int, list[Severity]],
    flag_clauses: set[int],
) -> None:
    """ "Glutes, hip flexors and quads all stiff": commas split the list into clauses, but
    the words at its end are about every area in it. The place of a symptom is no list
    item ("pinched nerve in my neck, traps tight")."""
    for index in range(len(areas) - 2, -1, -1):
        area, following = areas[index], areas[index + 1]
        if (
            values[index] is None
            and area.clause not in by_clause
            and (following.clause == area.clause + 1)
            and area.clause not in flag_clauses
        ):
            values[index] = values[index + 1]


def _severity_for(
    area: Span, severities: list[Severity], area_starts: set[int], look_back: bool = True
) -> Severity | None:
    """The severity said about this area: right before it, else what follows it up to the next
    area (a number if one is given, otherwise the strongest word), else what came before.
    Without `look_back`, the place of a symptom takes nothing said after an earlier area
    ("hamstrings tight and my foot keeps going dead": the foot is not tight)."""
    for severity in severities:
        if severity.before_area and severity.position == area.start:
            return severity
    after = [s for s in severities if s.position >= area.end and not s.before_area]
    if after:
        # "calves and quads very sore": the words after a list of areas are about all of
        # them, up to the next area that comes after those words.
        boundary = min((a for a in area_starts if a > after[0].position), default=1 << 30)
        return _most_telling([s for s in after if s.position < boundary])
    previous_area = max((start for start in area_starts if start < area.start), default=-1)
    if not look_back and previous_area >= 0:
        return None
    before = [s for s in severities if previous_area < s.position < area.start]
    return _most_telling(before) if before else None


def _most_telling(severities: list[Severity]) -> Severity:
    numeric = [s for s in severities if s.numeric]
    current = [s for s in numeric if s.current]
    if current:
        return current[-1]  # "from a 7 down to a 4": the latest
    if numeric:
        return numeric[0]
    return max(severities, key=lambda s: s.value)


def _from_neighbour(
    clause: int, by_clause: dict[int, list[Severity]], area_clauses: set[int]
) -> int | None:
    """An area said with no severity borrows one from an adjacent clause naming no area: a
    number after it first ("my lower back, which is a 6"), else the words before it."""
    before = _next_clause_with_severity(clause, -1, by_clause, area_clauses)
    after = _next_clause_with_severity(clause, 1, by_clause, area_clauses)
    if after is not None:
        numbers = [s for s in _later_area_free(after, by_clause, area_clauses) if s.numeric]
        if numbers:  # "tightened up over the session, maybe a 5"
            return _most_telling(numbers).value
    for other in (before, after):
        if other is not None:
            return _strongest(by_clause[other])
    return None


def _next_clause_with_severity(
    clause: int, step: int, by_clause: dict[int, list[Severity]], area_clauses: set[int]
) -> int | None:
    """The nearest clause in one direction that says a severity, unless an area comes first."""
    other = clause + step
    for _ in range(3):
        if other in area_clauses or other < 0:
            return None
        if other in by_clause:
            return other
        other += step
    return None


def _refinement(
    clause: int,
    by_clause: dict[int, list[Severity]],
    area_clauses: set[int],
    own: Severity | None,
) -> int | None:
    """Following clauses with no area refine the last one: "tight, like a 4", "really
    stiff", "yesterday was a 4, today a 6", "isn't sore exactly, more like stiff"."""
    following = _next_clause_with_severity(clause, 1, by_clause, area_clauses)
    if own is None or following is None:
        return None
    later = _later_area_free(following, by_clause, area_clauses)
    current = [s for s in later if s.numeric and s.current]
    if current:
        return current[-1].value  # the newest number said about it
    numeric = [s for s in by_clause[following] if s.numeric]
    if numeric and not own.numeric:
        return numeric[0].value
    positive = [s.value for s in by_clause[following] if s.value > 0]
    if (own.denied or own.recovery) and own.value == 0 and positive:
        return max(positive)  # "calves aren't just tight, they're absolutely destroyed"
    if not own.numeric and all(s.value == 0 and s.recovery for s in by_clause[following]):
        return 0  # "quads were sore yesterday but feel fine today"
    strongest = _strongest(by_clause[following])
    if not own.numeric and strongest is not None and strongest > own.value and own.value > 0:
        return strongest
    return None


def _later_area_free(
    first: int, by_clause: dict[int, list[Severity]], area_clauses: set[int]
) -> list[Severity]:
    """Severities of `first` and the area-free clauses after it, up to the next area."""
    found: list[Severity] = []
    clause = first
    while clause not in area_clauses and clause <= max(by_clause, default=first):
        found += by_clause.get(clause, [])
        clause += 1
    return found


def _strongest(severities: list[Severity]) -> int | None:
    numeric = [s.value for s in severities if s.numeric]
    if numeric:
        return numeric[0]
    return max((s.value for s in severities), default=None)


def _severities(
    spans: list[Span],
    tokens: Tokens,
    clause_of: list[int],
    areas: list[Span],
    lexicon: Lexicon,
) -> list[Severity]:
    """Severity words (with their modifiers) and numbers, in message order."""
    area_starts = {a.start for a in areas}
    result = _word_severities(spans, area_starts, tokens.words, lexicon.state_verbs)
    result += _number_severities(tokens, clause_of, areas, lexicon)
    result.sort(key=lambda s: s.position)
    return result


def _word_severities(
    spans: list[Span], area_starts: set[int], words: list[str], state_verbs: frozenset[str]
) -> list[Severity]:
    result: list[Severity] = []
    modifier: tuple[str, int, Span] | None = None  # ("int", level) or ("soft", 3)
    last_end = -1
    for span in spans:
        follows_severity = bool(result) and span.start == last_end and result[-1].value >= 3
        if follows_severity and "post_int" in span.tags:
            result[-1].value = max(result[-1].value, 7)  # "hurts a lot"
            continue
        if follows_severity and "soft" in span.tags:
            result[-1].value = 3  # "sore a little bit"
            continue
        if ("int" in span.tags) or ("soft" in span.tags):
            kind = "int" if ("int" in span.tags) else "soft"
            level = tag_value(span, "int") if kind == "int" else 3
            modifier = (kind, int(level) if isinstance(level, int) else 3, span)
            if "sev" not in span.tags:
                continue
        if "sev" not in span.tags:
            if modifier and modifier[0] == "soft" and modifier[2].end <= span.start:
                result.append(_modifier_alone(modifier[2], area_starts))
            modifier = modifier if ("area" in span.tags) else None
            continue
        base = tag_value(span, "sev")
        value = base if isinstance(base, int) else 5
        start = span.start
        if modifier and modifier[2] is not span and span.start - modifier[2].end <= 1:
            value = _modified(value, modifier[0], modifier[1])
            start = modifier[2].start
        modifier = None
        if span.negated:
            value = 3 if start != span.start and value > 3 else 0
        said = Severity(start, value, False, span.clause, span.end in area_starts)
        said.denied = span.negated
        said.recovery = (
            value == 0
            and (
                span.negated
                or (
                    "after_neg" in span.tags and "neg" in span.tags
                )  # "but not anymore", "no longer"
                or (start > 0 and words[start - 1] in state_verbs)
                or words[span.end : span.end + 1] in (["now"], ["again"], ["today"])
            )
        )
        result.append(said)
        last_end = span.end
    if modifier and modifier[0] == "soft":
        result.append(_modifier_alone(modifier[2], area_starts))
    return result


def _modifier_alone(span: Span, area_starts: set[int]) -> Severity:
    return Severity(span.start, 3, False, span.clause, span.end in area_starts)


def _modified(value: int, kind: str, level: int) -> int:
    if value == 0:
        return 0
    if kind == "soft":
        return min(value, 3) if value >= 3 else value
    return max(value, level) if value >= 3 else value


def _number_severities(
    tokens: Tokens, clause_at: list[int], areas: list[Span], lexicon: Lexicon
) -> list[Severity]:
    words = tokens.words
    not_units, minute_words = lexicon.not_severity_units, lexicon.minute_words
    now_words, prefixes = lexicon.now_words, lexicon.severity_prefixes
    area_ends = {a.end for a in areas}
    result: list[Severity] = []
    for index, value in tokens.numbers.items():
        word = words[index]
        if word in (MIN_TOKEN, TIME_TOKEN):
            continue
        nxt = words[index + 1] if index + 1 < len(words) else ""
        if word == SEV_TOKEN or _out_of_ten(words, tokens.numbers, index):
            said = Severity(index, value, True, clause_at[index])
            said.current = _said_now(words, clause_at, index, now_words)
            result.append(said)
            continue
        if value > 10 or nxt in not_units or nxt in minute_words:
            continue
        prev = words[index - 1] if index else ""
        down_to = prev == "to" and index > 1 and words[index - 2] in now_words
        after_area = index in area_ends or (prev == BREAK_TOKEN and index - 1 in area_ends)
        if prev in prefixes or after_area or down_to:
            said = Severity(index, value, True, clause_at[index])
            said.current = _said_now(words, clause_at, index, now_words)
            result.append(said)
    return result


def _said_now(
    words: list[str], clause_at: list[int], index: int, now_words: frozenset[str]
) -> bool:
    """A number said as the latest: "down to a 4", or in a clause that says "now",
    "today" or "after" ("7/10 after"): newer than a number said before it."""
    if index > 1 and "to" in words[index - 2 : index]:
        return True
    clause = clause_at[index]
    start = end = index
    while start > 0 and clause_at[start - 1] == clause:
        start -= 1
    while end + 1 < len(words) and clause_at[end + 1] == clause:
        end += 1
    return bool(now_words & set(words[start : end + 1]))


def _out_of_ten(words: list[str], numbers: dict[int, int], index: int) -> bool:
    if numbers[index] > 10:
        return False
    if words[index + 1 : index + 3] == ["out", "of"]:
        return numbers.get(index + 3) == 10
    return words[index + 1 : index + 2] in (["outta"], ["of"]) and numbers.get(index + 2) == 10
