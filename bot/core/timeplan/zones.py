"""Time zones in plain words: IANA names, city names, a few aliases, UTC offsets, sentences.

`parse_timezone` accepts IANA names in any case ("europe/berlin", "america/new york"), city
names derived from the tz database ("sao paulo", "tokyo"), a few aliases ("nyc", "pst",
"india"), UTC offsets ("+2", "GMT+5:30" → "UTC+05:30") and sentences ("I'm in Berlin").
Offsets become fixed-offset zone strings that `tzinfo_for` understands. The aliases are tz
data (abbreviations and nicknames of zones), not grammar, so they stay here with the tz rules.
"""

from __future__ import annotations

import functools
import re
import zoneinfo
from datetime import timedelta, timezone, tzinfo

from bot.core.timeplan.tokens import fold

MAX_ZONE_TEXT = 200
MIN_OFFSET_MINUTES = -12 * 60
MAX_OFFSET_MINUTES = 14 * 60

_OFFSET_RE = re.compile(
    r"^(?:utc|gmt|z)?\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?(?:\s*(?:h|hrs?|hours?))?$"
)
_FIXED_ZONE_RE = re.compile(r"^UTC([+-])(\d{2}):(\d{2})$")
_REGIONS = frozenset(
    {"Africa", "America", "Antarctica", "Asia", "Atlantic", "Australia", "Europe", "Indian"}
    | {"Pacific", "Arctic"}
)
_ZONE_ALIASES = {
    "nyc": "America/New_York",
    "new york city": "America/New_York",
    "la": "America/Los_Angeles",
    "sf": "America/Los_Angeles",
    "san francisco": "America/Los_Angeles",
    "bay area": "America/Los_Angeles",
    "seattle": "America/Los_Angeles",
    "london": "Europe/London",
    "uk": "Europe/London",
    "england": "Europe/London",
    "india": "Asia/Kolkata",
    "est": "America/New_York",
    "edt": "America/New_York",
    "eastern": "America/New_York",
    "cst": "America/Chicago",
    "cdt": "America/Chicago",
    "central": "America/Chicago",
    "mst": "America/Denver",
    "mdt": "America/Denver",
    "mountain": "America/Denver",
    "pst": "America/Los_Angeles",
    "pdt": "America/Los_Angeles",
    "pacific": "America/Los_Angeles",
    "cet": "Europe/Berlin",
    "cest": "Europe/Berlin",
    "gmt": "UTC",
    "utc": "UTC",
    "z": "UTC",
    "zulu": "UTC",
    "aest": "Australia/Sydney",
    "aedt": "Australia/Sydney",
    "sydney": "Australia/Sydney",
}
_ZONE_LEADS = re.compile(
    r"^(?:(?:my\s+)?(?:time\s*zone|tz|zone)\s*(?:is|=|:)?"
    r"|i\s*'?\s*a?m\s+(?:in|based\s+in|living\s+in|from)"
    r"|i\s+(?:live|am\s+based|'m\s+based|m\s+based|stay)\s+in"
    r"|(?:set\s+(?:it\s+)?to|use|in|it'?s)"
    r")\s*"
)


@functools.lru_cache(maxsize=1)
def _zone_tables() -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """(region/city IANA names, city names, other IANA names), all keyed lowercase."""
    regional: dict[str, str] = {}
    other: dict[str, str] = {}
    cities: dict[str, tuple[tuple[int, str], str]] = {}
    for name in zoneinfo.available_timezones():
        if name.startswith(("posix/", "right/")):
            continue
        lower = name.lower()
        region = name.split("/", 1)[0]
        if "/" in name and region in _REGIONS:
            regional[lower] = name
            regional[lower.replace("_", " ")] = name
            city = name.rsplit("/", 1)[1].replace("_", " ").lower()
            rank = (-name.count("/"), name)  # deeper names are the canonical ones
            if city not in cities or rank < cities[city][0]:
                cities[city] = (rank, name)
        else:
            other[lower] = name
            other[lower.replace("_", " ")] = name
    return regional, {city: name for city, (_, name) in cities.items()}, other


def _offset_zone(sign: str, hours: int, minutes: int) -> str | None:
    total = hours * 60 + minutes
    if minutes > 59 or total > MAX_OFFSET_MINUTES or (sign == "-" and total > -MIN_OFFSET_MINUTES):
        return None
    if total == 0:
        return "UTC"
    return f"UTC{sign}{hours:02d}:{minutes:02d}"


def _zone_candidate(candidate: str) -> str | None:
    candidate = candidate.strip(" \t\r\n.,!?;:'\"()")
    if not candidate:
        return None
    offset = _OFFSET_RE.match(candidate)
    if offset is not None:
        sign, hours, minutes = offset.group(1), int(offset.group(2)), int(offset.group(3) or 0)
        return _offset_zone(sign, hours, minutes)
    candidate = re.sub(r"\s+", " ", candidate)
    candidate = re.sub(r"\s*/\s*", "/", candidate)
    regional, cities, other = _zone_tables()
    for table in (_ZONE_ALIASES, regional, cities, other):
        found = table.get(candidate)
        if found is not None:
            return found
    return None


def parse_timezone(text: str) -> str | None:
    """A canonical zone string for what the user typed, or None; never raises.

    IANA names in any case ("europe/berlin" → "Europe/Berlin"), city names ("sao paulo"),
    aliases ("nyc", "pst", "india", "gmt" → "UTC"), offsets ("+2", "GMT+5:30", "-03" →
    "UTC+02:00", "UTC+05:30", "UTC-03:00"; -12..+14) and sentences ("I'm in Berlin").
    """
    lowered = fold(text, MAX_ZONE_TEXT).strip(" \t\r\n.,!?;:'\"()")
    if not lowered:
        return None
    candidates = [lowered]
    stripped = _ZONE_LEADS.sub("", lowered, count=1)
    if stripped != lowered:
        candidates.append(stripped)
    words = lowered.split()
    candidates.extend(" ".join(words[-size:]) for size in range(min(4, len(words) - 1), 0, -1))
    for candidate in candidates:
        found = _zone_candidate(candidate)
        if found is not None:
            return found
    return None


def zone_or_utc(zone: str) -> tzinfo:
    """`tzinfo_for`, but UTC for a name that is not (or no longer) known: a bad stored
    setting must never break a reply or a nudge."""
    try:
        return tzinfo_for(zone)
    except ValueError:
        return tzinfo_for("UTC")


@functools.lru_cache(maxsize=1024)
def tzinfo_for(zone: str) -> tzinfo:
    """The tzinfo for a zone string from `parse_timezone`; ValueError when unknown.

    IANA names give `ZoneInfo`; "UTC+05:30"-style strings give a fixed-offset `timezone`.
    """
    fixed = _FIXED_ZONE_RE.match(zone)
    if fixed is not None:
        sign, hours, minutes = fixed.group(1), int(fixed.group(2)), int(fixed.group(3))
        if _offset_zone(sign, hours, minutes) != zone:
            raise ValueError(f"unknown time zone: {zone!r}")
        delta = timedelta(hours=hours, minutes=minutes)
        return timezone(-delta if sign == "-" else delta, zone)
    try:
        return zoneinfo.ZoneInfo(zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise ValueError(f"unknown time zone: {zone!r}") from exc
