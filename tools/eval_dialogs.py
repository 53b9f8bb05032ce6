#!/usr/bin/env python3
"""Score the coach against labeled conversations (tests/data/DIALOGS.md has the format).

Run from the project root:
    .venv/bin/python tools/eval_dialogs.py tests/data/dialogs*.jsonl --show-errors
    .venv/bin/python tools/eval_dialogs.py --check FILE...   # the format only, no bot

Each conversation runs against a fresh coach and an in-memory store at a fixed instant.
The last line printed is JSON: turn and dialog accuracy, and accuracy per expected key.
Exit status 1 when a file is malformed or a `--min-*` threshold is not met.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DEFAULT_START = "2026-11-25T09:00:00+00:00"
SETUP_KEYS = {"at", "onboarded", "tz", "lead_minutes", "schedule", "soreness", "massages_days_ago"}
TURN_KEYS = {"say", "tap", "wait_minutes", "expect", "notes"}
EXPECT_KEYS = {
    "handled_as",
    "question",
    "soreness",
    "massages",
    "massage_days_ago",
    "red_flags",
    "schedule",
    "paused",
    "lead_minutes",
    "quiet",
    "tz",
    "onboarded",
    "deleted",
    "says",
    "not_says",
}


def load(path: Path) -> list[dict[str, Any]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def problems_in(dialog: dict[str, Any]) -> list[str]:
    """What is wrong with one conversation's format (empty when it is fine)."""
    found = []
    if not isinstance(dialog.get("id"), str):
        found.append("no id")
    unknown = set(dialog.get("setup", {})) - SETUP_KEYS
    if unknown:
        found.append(f"unknown setup keys {sorted(unknown)}")
    turns = dialog.get("turns")
    if not isinstance(turns, list) or not turns:
        return [*found, "no turns"]
    for number, turn in enumerate(turns, start=1):
        if ("say" in turn) == ("tap" in turn):
            found.append(f"turn {number}: needs exactly one of say/tap")
        if set(turn) - TURN_KEYS:
            found.append(f"turn {number}: unknown keys {sorted(set(turn) - TURN_KEYS)}")
        if set(turn.get("expect", {})) - EXPECT_KEYS:
            bad = sorted(set(turn.get("expect", {})) - EXPECT_KEYS)
            found.append(f"turn {number}: unknown expect keys {bad}")
    return found


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Result:
    turns: int = 0
    turns_ok: int = 0
    dialogs: int = 0
    dialogs_ok: int = 0
    keys: Counter[str] = field(default_factory=Counter)
    keys_ok: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)


def play(dialog: dict[str, Any], result: Result) -> None:
    try:
        from bot.core import dialog as dialogs
    except ImportError:  # a version before the dialog layer, scored for comparison
        dialogs = None
    from bot.core.coach import Coach
    from bot.core.memory import MemoryStore
    from bot.core.timeplan import parse_schedule
    from bot.core.turn import Sender

    setup = dialog.get("setup", {})
    clock = Clock(datetime.fromisoformat(setup.get("at", DEFAULT_START)).astimezone(UTC))
    try:
        store = MemoryStore(clock=clock)
    except TypeError:  # a version before the injectable clock
        store = MemoryStore()
    coach = Coach(store, clock=clock, default_tz="Europe/Berlin")
    sender = Sender("eval", "1", chat_id="1")
    user = coach.user(sender)
    user.onboarded = bool(setup.get("onboarded", False))
    user.tz = setup.get("tz", "Europe/Berlin")
    user.lead_minutes = int(setup.get("lead_minutes", 30))
    store.save_user(user)
    for text in setup.get("schedule", []):
        for session in parse_schedule(text, clock.now.date()).sessions:
            store.add_schedule(
                user.id, session.time, session.weekday, session.on_date, session.workout
            )
    for area, severity in setup.get("soreness", {}).items():
        store.record_soreness(user.id, area, severity, clock.now - timedelta(hours=1))
    for days in setup.get("massages_days_ago", []):
        store.record_massage(user.id, clock.now - timedelta(days=days))

    replies: list[Any] = []
    all_ok = True
    for number, turn in enumerate(dialog["turns"], start=1):
        clock.now += timedelta(minutes=turn.get("wait_minutes", 0))
        label = turn.get("say") or f"[tap {turn.get('tap')}]"
        if "say" in turn:
            outcome = _respond(coach, sender, turn["say"])
        else:
            button = _button(replies, turn["tap"])
            if button is None:
                result.errors.append(f"{dialog['id']} turn {number}: no button {turn['tap']!r}")
                all_ok = False
                result.turns += 1
                break
            outcome = _press(coach, sender, button.data)
        replies = outcome.replies
        state = _state(store, sender, user.id, clock.now, outcome, dialogs=dialogs)
        expect = turn.get("expect", {})
        misses = []
        for key, wanted in expect.items():
            result.keys[key] += 1
            if _matches(key, wanted, state):
                result.keys_ok[key] += 1
            else:
                misses.append(f"{key}: wanted {wanted!r}, got {state.get(key)!r}")
        result.turns += 1
        if misses:
            all_ok = False
            said = " | ".join(r.text.replace("\n", " ")[:160] for r in replies)
            result.errors.append(
                f"{dialog['id']} turn {number} {label!r}: "
                + "; ".join(misses)
                + f"\n    bot: {said}"
            )
        else:
            result.turns_ok += 1
    result.dialogs += 1
    result.dialogs_ok += all_ok


@dataclass
class _Untraced:
    """An older coach's answer: replies only, what it was handled as unknown."""

    replies: list[Any]
    handled_as: str | None = None


def _respond(coach: Any, sender: Any, text: str) -> Any:
    if hasattr(coach, "respond"):
        return coach.respond(sender, text)
    return _Untraced(coach.handle_message(sender, text))


def _press(coach: Any, sender: Any, data: str) -> Any:
    if hasattr(coach, "press"):
        return coach.press(sender, data)
    return _Untraced(coach.handle_button(sender, data))


OLD_STEPS = {"tz": "timezone", "settings_tz": "timezone", "sore": "soreness"}


def _button(replies: list[Any], label: str) -> Any:
    for reply in reversed(replies):
        for button in reply.all_buttons:
            if label.lower() in button.label.lower():
                return button
    return None


def _state(
    store: Any, sender: Any, first_id: int, now: datetime, outcome: Any, *, dialogs: Any
) -> dict[str, Any]:
    """What the expectations are checked against, read from the store after a turn."""
    user = store.user_for(sender.platform, sender.user_id, "Europe/Berlin")
    exported = store.export_user(user.id)
    latest: dict[str, tuple[str, int]] = {}
    for report in exported.get("soreness", []):
        key = (str(report["at"]), int(report["id"]))
        if report["area"] not in latest or key > latest[report["area"]][0]:
            latest[report["area"]] = (key, int(report["severity"]))  # type: ignore[assignment]
    massages = exported.get("massages", [])
    question = dialogs.Question.from_json(user.dialog.get("question")) if dialogs else None
    text = "\n".join(f"{r.title or ''}\n{r.text}" for r in outcome.replies).lower()
    return {
        "handled_as": outcome.handled_as,
        "question": (
            (question.kind if question is not None and question.expires_at > now else None)
            if dialogs
            else OLD_STEPS.get(user.dialog.get("step"), user.dialog.get("step"))
        ),
        "soreness": {area: severity for area, (_, severity) in latest.items()},
        "massages": len(massages),
        "massage_days_ago": sorted(
            (now - datetime.fromisoformat(str(m["at"]))).days for m in massages
        ),
        "red_flags": len(exported.get("red_flags", [])),
        "schedule": len(exported.get("schedules", [])),
        "paused": user.paused,
        "lead_minutes": user.lead_minutes,
        "quiet": f"{user.quiet_start}-{user.quiet_end}" if user.quiet_start else None,
        "tz": user.tz,
        "onboarded": user.onboarded,
        "deleted": user.id != first_id,  # forgetting removes the user: they come back new
        "_text": text,
    }


def _matches(key: str, wanted: Any, state: dict[str, Any]) -> bool:
    if key == "says":
        return all(word.lower() in state["_text"] for word in wanted)
    if key == "not_says":
        return not any(word.lower() in state["_text"] for word in wanted)
    return state.get(key) == wanted


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", type=Path, nargs="+")
    parser.add_argument("--check", action="store_true", help="check the format only")
    parser.add_argument("--show-errors", action="store_true")
    parser.add_argument("--min-turns", type=float, default=0.0)
    parser.add_argument("--min-dialogs", type=float, default=0.0)
    args = parser.parse_args()

    dialogs = [(path, d) for path in args.files for d in load(path)]
    malformed = [(p, d.get("id"), problems_in(d)) for p, d in dialogs if problems_in(d)]
    ids = Counter(d.get("id") for _, d in dialogs)
    malformed += [(Path("-"), i, ["id used twice"]) for i, n in ids.items() if n > 1]
    for path, dialog_id, found in malformed:
        print(f"{path.name}: {dialog_id}: {'; '.join(found)}")
    if args.check or malformed:
        print(json.dumps({"dialogs": len(dialogs), "malformed": len(malformed)}))
        return 1 if malformed else 0

    result = Result()
    for _, dialog in dialogs:
        play(dialog, result)
    if args.show_errors:
        for error in result.errors:
            print(error)
    summary = {
        "dialogs": result.dialogs,
        "turns": result.turns,
        "turn_accuracy": round(result.turns_ok / max(result.turns, 1), 4),
        "dialog_accuracy": round(result.dialogs_ok / max(result.dialogs, 1), 4),
        "keys": {k: round(result.keys_ok[k] / n, 4) for k, n in sorted(result.keys.items())},
    }
    print(json.dumps(summary))
    ok = (
        summary["turn_accuracy"] >= args.min_turns
        and summary["dialog_accuracy"] >= args.min_dialogs
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
