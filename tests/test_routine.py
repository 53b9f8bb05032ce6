"""Routines for a user: the recommendation from their stored history, remembered only when
there is no history to make it personal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.core.content import default_library
from bot.core.memory import MemoryStore
from bot.core.recommend import recommend
from bot.core.routine import plan
from bot.core.turn import Turn

NOW = datetime(2026, 11, 25, 16, 30, tzinfo=UTC)
SESSION = NOW + timedelta(minutes=30)


def turn_of(store: MemoryStore, platform_id: str, at: datetime = NOW, tz: str = "UTC") -> Turn:
    return Turn(store, default_library(), at, store.user_for("test", platform_id, tz))


def test_users_without_history_share_one_routine_for_the_same_session() -> None:
    store = MemoryStore()
    first = plan(turn_of(store, "1"), workout="run", session_at=SESSION)
    second = plan(turn_of(store, "2"), workout="run", session_at=SESSION)
    assert second is first
    fresh = recommend(
        default_library(), reports=(), red_flags=(), now=NOW, workout="run", workout_at=SESSION
    )
    assert first == fresh


def test_a_user_with_soreness_gets_their_own_routine() -> None:
    store = MemoryStore()
    shared = plan(turn_of(store, "1"), workout="run", session_at=SESSION)
    sore = turn_of(store, "2")
    store.record_soreness(sore.user.id, "calves", 8, NOW - timedelta(hours=2))
    own = plan(sore, workout="run", session_at=SESSION)
    assert own is not shared
    assert own.picks[0].area.id == "calves"


def test_a_red_flag_is_never_served_a_shared_routine() -> None:
    store = MemoryStore()
    plan(turn_of(store, "1"), workout="run", session_at=SESSION)
    flagged = turn_of(store, "2")
    store.record_red_flag(flagged.user.id, NOW - timedelta(days=1), ("calves",), "numb calf")
    rec = plan(flagged, workout="run", session_at=SESSION)
    assert "calves" in rec.excluded
    assert all(pick.area.id != "calves" for pick in rec.picks)


def test_the_shared_routine_follows_the_users_local_day() -> None:
    store = MemoryStore()
    evening = datetime(2026, 11, 25, 22, 30, tzinfo=UTC)
    session = evening + timedelta(hours=2)  # 00:30 UTC: tomorrow in UTC, 09:30 in Tokyo
    in_utc = plan(turn_of(store, "1", evening), workout="run", session_at=session)
    in_tokyo = plan(turn_of(store, "2", evening, "Asia/Tokyo"), workout="run", session_at=session)
    assert "tomorrow at 00:30" in in_utc.explanation
    assert "at 09:30" in in_tokyo.explanation
    assert "tomorrow" not in in_tokyo.explanation
