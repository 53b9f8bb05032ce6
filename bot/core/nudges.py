"""Nudges: what to send, when, and what it says — pure planning and rendering, no I/O.

**Planning.** `plan_nudges(user, entries, start, end)` lists the nudges *due* in
[start, end) as `PlannedNudge`s; the scheduler writes them to the outbox (`Store`), which
dedupes on (user, kind, due_at) and on (user, kind, payload["ref"]), so planning the same
window twice, or overlapping windows, adds nothing. A plan is extended window by window:
with `catch_up=False` a nudge belongs to the window its *nudge time* falls in (a pre-workout
nudge's time before quiet hours move it, a massage nudge's due time), so consecutive windows
[a, b), [b, c) plan every nudge exactly once. The scheduler extends each user's plan a week
at a time, up to `plan_until(user, horizon)`: the first of that user's weekly planning
instants (set by their id) that reaches its horizon. So each user is looked at once a week,
and an hourly pass looks at 1/168th of them, however their sessions and monthly check-ins
cluster.

- `pre_workout`: `user.lead_minutes` before every session start (`timeplan.session_starts`,
  DST-correct: a 02:30 session on a spring-forward day starts at 03:30 local, an ambiguous
  fall-back time is its first occurrence — one session, one nudge). The ref is the session
  instant, so one session never gets two nudges even if the lead time changes after one
  was sent. A session that starts after `start` but whose nudge time already passed (a
  session added 10 minutes before it starts) is nudged at `start`.
- `massage`: on the first `user.massage_day` of each local month at `user.massage_time`
  (default: first Saturday, 10:00); `massage_behind`: on the 15th at `massage_time`. Both
  have the month ("2026-12") as ref; whether the target is met is decided at send time.
- `weekly`: for users who turned the weekly summary on, every Sunday at 19:00 local
  (`bot.core.weekly`), with the ISO week ("2026-W48") as ref; written at send time.
- Quiet hours (`quiet_start`–`quiet_end`, local, may wrap midnight): no nudge is due inside
  them. A pre-workout nudge that would be is moved to the end of quiet hours when that is
  still before the session starts; otherwise it is planned as `skipped` with the reason.
  Massage and weekly nudges move to the end of quiet hours.
- Paused or unreachable users get nothing.

**Send windows** (issue 20: 12,500 nudges due in one minute at 30 msg/s would leave the last
one ~7 min late). A planned nudge is *due* at its nudge time but may be *sent* anywhere in
[`earliest`, `due_at`] (`earliest_send`): a pre-workout nudge up to `EARLY_SHARE` (half) of
its lead time early, so never after the session starts; a massage check-in or weekly summary
up to `MOVABLE_EARLY` (2 h) early; a snooze, or a nudge quiet hours moved to their end, at
its time; never inside quiet hours. The planner only says the window; the scheduler picks
the send time in it against the platform's rate (`bot.core.send_slots`: the latest free
slot, so with room a nudge goes at its due time), and `send_deadline` says after when a
slot is no use (the session's start). A re-plan (`replan`) writes its rows at their due
time; the next planning pass counts them as taken. Lateness is sent - due, never sent -
send time.

**Rendering** (`render_nudge`, at send time): a pre-workout nudge is a routine for that
session's workout from the user's soreness *now* (`recommend` + `routine.routine_reply`),
with Start (guided, one area at a time), Snooze 10 min and Skip buttons. A massage nudge
shows the month against the target with a one-tap "log it"; when the target is already met
it is not sent (`Drop`). A pre-workout nudge whose session already started is dropped as
missed. A weekly summary is the week in numbers and one suggestion (`weekly.summary`); it
is dropped when the user turned it off after it was planned.

**Buttons** (`ns:<id>` start, `nz:<id>` snooze, `nk:<id>` skip; Start and Skip are recorded
on the nudge as its `answer`, what /history counts as followed and skipped) and
`replan(turn)`, which
every handler that changes the schedule, time zone, lead time, quiet hours or pause calls:
it replaces the user's pending future nudges with a fresh plan.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bot.core import dialog, routine, weekly
from bot.core import massage as massage_module
from bot.core.recommend import Recommendation, day_words
from bot.core.records import WEEKDAYS, Nudge, PlannedNudge, ScheduleEntry, User
from bot.core.replies import Button, Reply
from bot.core.timeplan import DAY_NAMES, local_wall_time, session_starts, tzinfo_for
from bot.core.turn import Turn, buttons

HORIZON = timedelta(hours=48)
"""How far ahead nudges are planned (the outbox holds this much future)."""
PLAN_CHUNK = timedelta(days=7)
"""How much a user's plan is extended at a time, on their own weekly instant (`plan_until`)."""
_PLAN_EPOCH = datetime(2026, 1, 5, tzinfo=UTC)
SNOOZE = timedelta(minutes=10)
SNOOZE_MINUTES = (1, 120)
"""The range a typed snooze ("snooze 20 min", "in 5") is held to."""
_SNOOZE_SAID = re.compile(
    r"^(?:(?:ok|okay|pls|please|can you|just)\s+)*(?:snooze(?: (?:it|me|that))?(?: for)?"
    r"|remind me(?: again)?(?: in)?|ping me(?: again)?(?: in)?|again in|in|give me|another)"
    r"\s+(\d{1,3})\s*(?:m|min|mins|minute|minutes)?(?: more| please| pls)?[.!]?$"
)
ANSWERABLE_FOR = timedelta(hours=2)
"""How long after a nudge a typed "skip", "snooze" or "start" still answers it."""
EARLY_SHARE = 0.5
"""A pre-workout nudge may be sent this share of its lead time early (30 min lead: from 15 min
before its due time), so that a crowded minute spreads out before it, not after."""
MOVABLE_EARLY = timedelta(hours=2)
"""Massage check-ins and the weekly summary may be sent up to this much early."""
MASSAGE_BEHIND_DAY = 15
DEFAULT_MASSAGE_TIME = "10:00"
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


@dataclass(frozen=True, slots=True)
class Drop:
    """A due nudge that should not be sent: mark it `status` ("skipped"/"missed") with `reason`."""

    status: str
    reason: str


# --- planning -------------------------------------------------------------------------------


def _zone(user: User) -> str:
    try:
        tzinfo_for(user.tz)
    except ValueError:
        return "UTC"
    return user.tz


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="seconds")


def quiet_end(user: User, moment: datetime) -> datetime | None:
    """The instant the user's quiet hours end, when `moment` is inside them; else None."""
    start, end = user.quiet_start, user.quiet_end
    if not start or not end or not _HHMM.match(start) or not _HHMM.match(end) or start == end:
        return None
    zone = _zone(user)
    local = moment.astimezone(tzinfo_for(zone))
    now = f"{local.hour:02d}:{local.minute:02d}"
    day = local.date()
    if start < end:
        inside, end_day = start <= now < end, day
    elif now >= start:
        inside, end_day = True, day + timedelta(days=1)
    else:
        inside, end_day = now < end, day
    if not inside:
        return None
    ends = local_wall_time(end_day, end, zone)
    return ends if ends > moment else None


def _lead(user: User) -> timedelta:
    return timedelta(minutes=max(0, user.lead_minutes))


def _pre_workout(
    user: User,
    entries: Sequence[ScheduleEntry],
    zone: str,
    start: datetime,
    end: datetime,
    *,
    catch_up: bool,
) -> list[PlannedNudge]:
    """The pre-workout nudges due in [start, end)."""
    lead = _lead(user)
    # Catching up: every session still ahead whose nudge time is before `end`. Extending a
    # plan: the sessions whose nudge time is in [start, end), no more (the earlier window
    # had the others).
    first = start + timedelta(microseconds=1) if catch_up else start + lead
    found: list[PlannedNudge] = []
    for entry in entries:
        try:
            sessions = session_starts(entry, zone, first, end + lead)
        except ValueError:  # a broken stored time: no nudge rather than no nudges at all
            continue
        for session_at in sessions:
            due = max(session_at - lead, start)
            payload: dict[str, Any] = {
                "ref": _iso(session_at),
                "session_at": _iso(session_at),
                "workout": entry.workout,
                "entry_id": entry.id,
            }
            quiet_until = quiet_end(user, due)
            if quiet_until is None:
                found.append(PlannedNudge("pre_workout", due, payload))
            elif quiet_until < session_at:
                payload["moved"] = "quiet hours"
                found.append(PlannedNudge("pre_workout", quiet_until, payload))
            else:
                local_end = quiet_until.astimezone(tzinfo_for(zone)).strftime("%H:%M")
                reason = f"quiet hours: they end at {local_end}, after the session starts"
                found.append(PlannedNudge("pre_workout", due, payload, "skipped", reason))
    return found


def _first_weekday(year: int, month: int, weekday: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7)


def _massage(user: User, zone: str, start: datetime, end: datetime) -> list[PlannedNudge]:
    day_name = (user.massage_day or "sat").lower()[:3]
    weekday = WEEKDAYS.index(day_name) if day_name in WEEKDAYS else WEEKDAYS.index("sat")
    hhmm = user.massage_time if _HHMM.match(user.massage_time or "") else DEFAULT_MASSAGE_TIME
    tz = tzinfo_for(zone)
    first_local, last_local = start.astimezone(tz).date(), end.astimezone(tz).date()
    months = {(first_local.year, first_local.month), (last_local.year, last_local.month)}
    found: list[PlannedNudge] = []
    for year, month in sorted(months):
        ref = f"{year:04d}-{month:02d}"
        for kind, day in (
            ("massage", _first_weekday(year, month, weekday)),
            ("massage_behind", date(year, month, MASSAGE_BEHIND_DAY)),
        ):
            due = local_wall_time(day, hhmm, zone)
            due = quiet_end(user, due) or due
            if start <= due < end:
                found.append(PlannedNudge(kind, due, {"ref": ref, "month": ref}))
    return found


def _weekly(user: User, zone: str, start: datetime, end: datetime) -> list[PlannedNudge]:
    """The weekly summaries due in [start, end): Sundays at `weekly.TIME` local, moved to
    the end of quiet hours; none unless the user turned them on."""
    if not user.weekly_summary:
        return []
    tz = tzinfo_for(zone)
    first = start.astimezone(tz).date() - timedelta(days=2)  # quiet hours move it later only
    last = end.astimezone(tz).date()
    day = first + timedelta(days=(weekly.WEEKDAY - first.weekday()) % 7)
    found: list[PlannedNudge] = []
    while day <= last:
        due = local_wall_time(day, weekly.TIME, zone)
        due = quiet_end(user, due) or due
        if start <= due < end:
            ref = weekly.week_ref(day)
            found.append(PlannedNudge("weekly", due, {"ref": ref, "week": ref}))
        day += timedelta(days=7)
    return found


def _quiet_starts(user: User, after: datetime, until: datetime) -> list[datetime]:
    """The instants in (after, until] at which the user's quiet hours begin."""
    start = user.quiet_start
    if not start or not user.quiet_end or not _HHMM.match(start) or start == user.quiet_end:
        return []
    zone = _zone(user)
    tz = tzinfo_for(zone)
    day, last = after.astimezone(tz).date() - timedelta(days=1), until.astimezone(tz).date()
    found: list[datetime] = []
    while day <= last:
        begins = local_wall_time(day, start, zone)
        if after < begins <= until:
            found.append(begins)
        day += timedelta(days=1)
    return found


def earliest_send(user: User, kind: str, due: datetime) -> datetime:
    """How early a nudge due at `due` may be sent: `EARLY_SHARE` of the lead time before it
    (pre-workout; never after the session, which starts a lead time after `due`), or
    `MOVABLE_EARLY` (massage, weekly); never inside quiet hours, so never before quiet hours
    that end between then and `due`. A snooze, or a nudge quiet hours already moved to
    their end, goes at `due`."""
    if kind == "pre_workout":
        early = _lead(user) * EARLY_SHARE
    elif kind in ("massage", "massage_behind", "weekly"):
        early = MOVABLE_EARLY
    else:
        return due
    earliest = due - early
    if earliest >= due:
        return due
    moved = quiet_end(user, earliest)
    if moved is not None:
        earliest = moved
    for begins in _quiet_starts(user, earliest, due):
        earliest = max(earliest, quiet_end(user, begins) or begins)
    return min(earliest, due)


def _with_windows(user: User, planned: list[PlannedNudge]) -> list[PlannedNudge]:
    """Each pending nudge with its send window's start (`earliest_send`)."""
    return [
        replace(item, earliest=earliest_send(user, item.kind, item.due_at))
        if item.status == "pending"
        else item
        for item in planned
    ]


def send_deadline(item: PlannedNudge) -> datetime | None:
    """The instant after which a planned nudge is no use: its session's start (pre-workout);
    None for the others (late is still worth sending)."""
    at = item.payload.get("session_at")
    if item.kind != "pre_workout" or not isinstance(at, str):
        return None
    return datetime.fromisoformat(at)


def _unique(planned: list[PlannedNudge]) -> list[PlannedNudge]:
    """Earliest first; two sessions at the same instant: one nudge."""
    planned.sort(key=lambda p: (p.due_at, p.kind))
    seen: set[tuple[str, object]] = set()
    unique: list[PlannedNudge] = []
    for item in planned:
        keys = {(item.kind, item.due_at), (item.kind, item.payload.get("ref"))}
        if keys & seen:
            continue
        seen |= keys
        unique.append(item)
    return unique


def plan_nudges(
    user: User,
    entries: Sequence[ScheduleEntry],
    start: datetime,
    end: datetime,
    *,
    catch_up: bool = True,
) -> list[PlannedNudge]:
    """Every nudge due in [start, end) for this user, earliest first (see module doc).

    `catch_up` (a plan starting now): a session that starts after `start` but whose nudge
    time has passed is nudged at `start`. Without it (extending a plan that ends at `start`):
    only nudges whose nudge time is in [start, end)."""
    if user.paused or user.unreachable or end <= start:
        return []
    zone = _zone(user)
    planned = _pre_workout(user, entries, zone, start, end, catch_up=catch_up)
    if entries or user.onboarded:
        planned += _massage(user, zone, start, end)
    planned += _weekly(user, zone, start, end)
    return _with_windows(user, _unique(planned))


def plan_until(user: User, horizon: datetime) -> datetime:
    """Where this user's plan is extended to when it must reach `horizon`: the first of
    their planning instants at or after it. Those are a week apart, at an instant of the
    week taken from the user's id, so that users are planned evenly through the week."""
    offset = timedelta(minutes=(user.id * 7919) % (PLAN_CHUNK // timedelta(minutes=1)))
    anchor = _PLAN_EPOCH + offset
    return anchor - ((anchor - horizon) // PLAN_CHUNK) * PLAN_CHUNK


def quiet_hours_clash(turn: Turn) -> str:
    """A heads-up line when quiet hours would swallow the reminders of some sessions (their
    nudge falls in quiet hours that end after the session starts: planned as skipped), with
    the quiet hours that would keep them; "" when none do. Looks a week ahead."""
    if not turn.user.quiet_start or not turn.user.quiet_end:
        return ""
    entries = turn.store.schedules(turn.user.id)
    planned = plan_nudges(turn.user, entries, turn.now, turn.now + timedelta(days=7))
    skipped = [p for p in planned if p.kind == "pre_workout" and p.status == "skipped"]
    if not skipped:
        return ""
    starts = {send_deadline(p) for p in skipped}
    times = ", ".join(sorted({at.astimezone(turn.zone).strftime("%H:%M") for at in starts if at}))
    keep_until = f"{min(p.due_at for p in skipped).astimezone(turn.zone).hour:02d}:00"
    if keep_until >= turn.user.quiet_start:  # an evening session: no simple earlier end
        return turn.say("quiet_hours_clash", times=times)
    example = f"quiet {turn.user.quiet_start}-{keep_until}"
    return turn.say("quiet_hours_clash_morning", times=times, example=example)


def replan(turn: Turn) -> int:
    """Replace this user's pending future nudges with a fresh plan; returns rows planned.

    Called by every handler that changes the schedule, time zone, lead time, quiet hours or
    pause, after the change is made on `turn.user` (the coach saves the user afterwards).
    """
    entries = turn.store.schedules(turn.user.id)
    planned = plan_nudges(turn.user, entries, turn.now, turn.now + HORIZON)
    return turn.store.replace_nudges(turn.user.id, turn.now, planned)


# --- rendering ------------------------------------------------------------------------------


def _session(nudge: Nudge) -> tuple[str | None, datetime | None]:
    workout = nudge.payload.get("workout")
    at = nudge.payload.get("session_at")
    session_at = datetime.fromisoformat(at) if isinstance(at, str) else None
    return (workout if isinstance(workout, str) else None), session_at


def _kind(nudge: Nudge) -> str:
    if nudge.kind == "snooze":
        return str(nudge.payload.get("of_kind", "pre_workout"))
    return nudge.kind


def session_plan(turn: Turn, workout: str | None, session_at: datetime | None) -> Recommendation:
    """The routine for one session: that workout's focus, the user's soreness now."""
    known = workout if workout in turn.library.workouts else None
    at = session_at if session_at is not None and session_at > turn.now else None
    return routine.plan(turn, workout=known, session_at=at)


def nudge_buttons(nudge_id: int) -> tuple[tuple[Button, ...], ...]:
    return buttons(
        [
            Button("▶ Start", f"ns:{nudge_id}", role="yes"),
            Button("⏰ Snooze 10 min", f"nz:{nudge_id}", role="later"),
            Button("Skip", f"nk:{nudge_id}", role="skip"),
        ]
    )


def massage_nudge_buttons(nudge_id: int) -> tuple[tuple[Button, ...], ...]:
    return buttons(
        [Button("I had one - log it", "m:log", role="yes")],
        [
            Button("⏰ Snooze 10 min", f"nz:{nudge_id}", role="later"),
            Button("Skip", f"nk:{nudge_id}", role="skip"),
        ],
    )


def snooze_said(turn: Turn, text: str) -> str | None:
    """The button data of a typed snooze with minutes ("snooze 5 min", "in 10", "remind me
    in 15 minutes") for the latest pre-workout nudge still answerable, or None."""
    said = _SNOOZE_SAID.match(" ".join(text.lower().split()))
    if said is None:
        return None
    found = turn.store.latest_sent_nudge(turn.user.id, turn.now - ANSWERABLE_FOR)
    if found is None or _kind(found[0]) != "pre_workout":
        return None
    return f"nz:{found[0].id}:{said[1]}"


def latest_delivered(turn: Turn) -> dialog.Offer | None:
    """The buttons of the user's latest nudge, while a typed answer may still mean it."""
    found = turn.store.latest_sent_nudge(turn.user.id, turn.now - ANSWERABLE_FOR)
    if found is None:
        return None
    nudge, sent_at = found
    kind = _kind(nudge)
    rows = (
        nudge_buttons(nudge.id)
        if kind == "pre_workout"
        else weekly.summary_buttons()
        if kind == "weekly"
        else massage_nudge_buttons(nudge.id)
    )
    return dialog.Offer(sent_at, tuple(button for row in rows for button in row))


def render_nudge(turn: Turn, nudge: Nudge) -> Reply | Drop:
    """The message for a due nudge, or why it should not be sent (decided now)."""
    kind = _kind(nudge)
    if kind == "pre_workout":
        workout, session_at = _session(nudge)
        if session_at is not None and session_at <= turn.now:
            return Drop("missed", "the workout had already started")
        rec = session_plan(turn, workout, session_at)
        when = ""
        if session_at is not None:
            when = f" at {session_at.astimezone(turn.zone):%H:%M}"
        title = turn.say("nudge_workout_title", when=when, minutes=rec.minutes)
        text = routine.routine_text(turn, rec)
        return Reply(text=text, title=title, buttons=nudge_buttons(nudge.id))
    if kind in ("massage", "massage_behind"):
        count = massage_module.count_this_month(turn)
        target = turn.user.massage_target
        if count >= target:
            return Drop("skipped", f"massage target met ({count} of {target} this month)")
        reminders = turn.library.massage.reminders
        lines = [turn.say("massage_behind", count=count, target=target)]
        if reminders:
            lines.append(reminders[turn.now.toordinal() % len(reminders)].text)
        key = "nudge_massage_behind_title" if kind == "massage_behind" else "nudge_massage_title"
        title = turn.say(key)
        return Reply(title=title, text="\n".join(lines), buttons=massage_nudge_buttons(nudge.id))
    if kind == "weekly":
        if not turn.user.weekly_summary:
            return Drop("skipped", "weekly summary turned off")
        return weekly.summary(turn)
    return Drop("skipped", f"unknown nudge kind {nudge.kind!r}")


# --- buttons --------------------------------------------------------------------------------


def _own_nudge(turn: Turn, argument: str) -> Nudge | None:
    try:
        nudge_id = int(argument)
    except ValueError:
        return None
    nudge = turn.store.get_nudge(nudge_id)
    return nudge if nudge is not None and nudge.user_id == turn.user.id else None


def _expired(turn: Turn) -> Reply:
    return Reply(text=turn.say("button_expired"))


def start(turn: Turn, argument: str) -> Reply:
    """`ns:<id>`: the session's routine, guided one area at a time."""
    nudge = _own_nudge(turn, argument)
    if nudge is None or _kind(nudge) != "pre_workout":
        return _expired(turn)
    turn.store.answer_nudge(nudge.id, "started")  # followed: what /history counts
    workout, session_at = _session(nudge)
    rec = session_plan(turn, workout, session_at)
    return routine.guided_step(turn, routine.guided_data(rec.picks).partition(":")[2])


def snooze(turn: Turn, argument: str) -> Reply:
    """`nz:<id>` (or `nz:<id>:<minutes>`, typed "snooze 20 min"): the same nudge again in
    10 minutes (outside quiet hours); tapping twice plans it once."""
    nudge_id, _, minutes = argument.partition(":")
    nudge = _own_nudge(turn, nudge_id)
    if nudge is None:
        return _expired(turn)
    wait = SNOOZE
    if minutes.isdigit():
        wait = timedelta(minutes=min(max(int(minutes), SNOOZE_MINUTES[0]), SNOOZE_MINUTES[1]))
    due = turn.now + wait
    due = quiet_end(turn.user, due) or due
    payload = {
        **nudge.payload,
        "ref": f"snooze:{nudge.id}",
        "of": nudge.id,
        "of_kind": _kind(nudge),
    }
    turn.outcome = "snoozed"
    if turn.store.enqueue_nudge(turn.user.id, "snooze", due, payload) is None:
        return Reply(text=turn.say("snooze_again"))
    return Reply(text=turn.say("snoozed_until", time=f"{due.astimezone(turn.zone):%H:%M}"))


def skip(turn: Turn, argument: str) -> Reply:
    """`nk:<id>`: mark the nudge skipped (logged), no questions asked."""
    nudge = _own_nudge(turn, argument)
    if nudge is None:
        return _expired(turn)
    _skip(turn, nudge)
    if _kind(nudge) == "pre_workout":
        return Reply(text=turn.say("skipped_workout"))
    return Reply(text=turn.say("skipped_massage"))


def _skip(turn: Turn, nudge: Nudge) -> None:
    """Mark a nudge skipped by the user; a delivered one stays "sent" with the skip noted,
    and a snooze of it is called off."""
    status = "skipped" if nudge.status == "pending" else nudge.status
    turn.store.mark_nudge(nudge.id, status, error="skipped by the user")
    if nudge.answer != "started":  # Start then Skip: it was followed
        turn.store.answer_nudge(nudge.id, "skipped")
    for later in turn.store.pending_nudges_of(turn.user.id):
        if later.kind == "snooze" and later.payload.get("of") == nudge.id:
            turn.store.mark_nudge(later.id, "skipped", error="skipped by the user")
    turn.outcome = "skipped"


_DAY_OFF = re.compile(
    r"\b(?:skip|skipping|skipped|cancel|cancelling|canceling|cancelled|canceled|miss|missing|"
    r"no (?:training|workout|session|gym)|rest day|day off|not (?:training|going|working out)|"
    r"taking (?:it|today|tonight|tomorrow) off|not today)\b"
)
_SESSION_WORDS = re.compile(r"\b(?:session|sessions|workout|training|gym|class|rest day)\b")
_WHICH_DAY = re.compile(r"\b(today|tonight|this (?:morning|afternoon|evening)|tomorrow)\b")


def day_off_said(turn: Turn, text: str, workout: str | None) -> Reply | None:
    """ "I'm skipping today", "cancel tomorrow's session", "rest day": the reminders of that
    day's sessions are skipped, as the Skip button does, and the reply says which."""
    lowered = " ".join(text.lower().replace("’", "'").split())
    if not _DAY_OFF.search(lowered):
        return None
    which = _WHICH_DAY.search(lowered)
    named = workout is not None or _SESSION_WORDS.search(lowered) or _names_a_workout(turn, lowered)
    if which is None and not named:  # "my flight got cancelled" is not about training
        return None
    tomorrow = which is not None and which[1] == "tomorrow"
    day = turn.local_now.date() + timedelta(days=1 if tomorrow else 0)
    skipped: list[datetime] = []
    for nudge in turn.store.pending_nudges_of(turn.user.id):
        session_at = _session(nudge)[1]
        if nudge.kind != "pre_workout" or session_at is None:
            continue
        if session_at.astimezone(turn.zone).date() == day and session_at > turn.now:
            _skip(turn, nudge)
            skipped.append(session_at.astimezone(turn.zone))
    when = "tomorrow" if tomorrow else "today"
    if not skipped:
        return Reply(text=turn.say("day_off_nothing", day=when))
    times = sorted(at.strftime("%H:%M") for at in skipped)
    if len(times) == 1:
        sessions = f"{times[0]} session"
    else:
        sessions = ", ".join(times[:-1]) + " and " + times[-1] + " sessions"
    return Reply(text=turn.say("day_off", day=when, sessions=sessions))


def _names_a_workout(turn: Turn, lowered: str) -> bool:
    """Whether a workout or a sport is named ("leg day skipped": the parser leaves a workout
    that was called off out of its slot)."""
    padded = " " + " ".join(re.findall(r"[a-z0-9']+", lowered)) + " "
    return any(
        f" {phrase} " in padded
        for workout in turn.library.workouts.values()
        for phrase in workout.phrases + workout.like
    )


_WHY_NO_REMINDER = re.compile(
    r"\b(?:(?:didn'?t|did not|forgot to|forget to)(?: \w+){0,2} (?:remind|nudge|ping|message|send)"
    r"|never (?:got|get|received|had|saw)(?: a| any| my| the)? (?:reminder|nudge|message)"
    r"|(?:no|never) (?:reminder|nudge)s? (?:came|arrived|today|yesterday|this morning|tonight)"
    r"|where was (?:my|the) reminder|missed (?:my|the) reminder|why no reminder)"
)


def why_no_reminder(turn: Turn, text: str) -> Reply | None:
    """ "Why didn't you remind me?": what happened to the latest pre-workout reminder (sent,
    skipped by quiet hours or by the user, dropped while the bot was away), or why there
    was none (paused, no sessions), and when the next one comes."""
    if not _WHY_NO_REMINDER.search(" ".join(text.lower().replace("’", "'").split())):
        return None
    if turn.user.paused:
        return Reply(text=turn.say("why_paused"), buttons=buttons([Button("Resume", "p:resume")]))
    if not turn.store.schedules(turn.user.id):
        return Reply(text=turn.say("why_no_schedule"))
    recent = [
        n
        for n in turn.store.nudges_since(turn.user.id, turn.now - timedelta(days=3))
        if n.kind == "pre_workout"
    ]
    past = sorted((n for n in recent if n.due_at <= turn.now), key=lambda n: n.due_at)
    upcoming = sorted(
        (n for n in recent if n.status == "pending" and n.due_at > turn.now),
        key=lambda n: n.send_time,
    )
    lines = [_what_happened(turn, past[-1]) if past else turn.say("why_none_yet")]
    if upcoming:
        at = upcoming[0].send_time.astimezone(turn.zone)
        lines.append(turn.say("why_next", at=f"{DAY_NAMES[at.weekday()]} {at:%H:%M}"))
    return Reply(text="\n".join(lines))


def _what_happened(turn: Turn, nudge: Nudge) -> str:
    session = _session(nudge)[1] or nudge.due_at
    local = session.astimezone(turn.zone)
    when = f"{day_words(session, turn.now, turn.zone)} at {local:%H:%M}"
    sent = nudge.send_time.astimezone(turn.zone).strftime("%H:%M")
    if nudge.status in ("sent", "sending"):
        return turn.say("why_sent", session=when, at=sent)
    if nudge.status == "skipped" and nudge.answer == "skipped":
        return turn.say("why_you_skipped", session=when)
    if nudge.status == "skipped" and turn.user.quiet_start and turn.user.quiet_end:
        return turn.say(
            "why_quiet", session=when, start=turn.user.quiet_start, end=turn.user.quiet_end
        )
    if nudge.status == "missed":
        return turn.say("why_missed", session=when)
    return turn.say("why_not_sent", session=when)
