"""Red flags: the one reply that always wins.

Numbness, shooting pain, a pop, a fall, chest pain... are not soreness, and no routine is
ever sent for them. The event is logged so the recommender leaves those areas out.
"""

from __future__ import annotations

from bot.core.parsing import Parsed
from bot.core.replies import Reply
from bot.core.soreness import area_label
from bot.core.turn import Turn


def red_flag_reply(turn: Turn, parsed: Parsed, text: str) -> Reply:
    areas = tuple(parsed.soreness)
    turn.store.record_red_flag(turn.user.id, turn.now, areas, text[:1000])
    names = [f"your {area_label(turn, area)}" for area in areas]
    body = turn.library.safety.format_reply(names, urgent=parsed.urgent)
    title = turn.say("red_flag_urgent_title" if parsed.urgent else "red_flag_title")
    # Not private: the user said it where they are, and safety advice must always arrive.
    return Reply(title=title, text=body)
