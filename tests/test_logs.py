"""Log lines: key=value or JSON, with the fields a log call adds."""

from __future__ import annotations

import json
import logging

from bot.logs import JsonFormatter, KeyValueFormatter


def record(**extra: object) -> logging.LogRecord:
    made = logging.LogRecord("bot.turns", logging.INFO, __file__, 1, "handled", None, None)
    for key, value in extra.items():
        setattr(made, key, value)
    return made


def test_key_value_lines_carry_the_extra_fields() -> None:
    line = KeyValueFormatter().format(record(platform="telegram", latency_ms=3.1, note="two words"))
    assert line.endswith('bot.turns: handled platform=telegram latency_ms=3.1 note="two words"')


def test_json_lines_are_one_object_with_the_extra_fields() -> None:
    line = JsonFormatter().format(record(platform="discord", outcome="ok"))
    entry = json.loads(line)
    assert (entry["level"], entry["logger"], entry["message"]) == ("INFO", "bot.turns", "handled")
    assert (entry["platform"], entry["outcome"]) == ("discord", "ok")
    assert entry["time"].endswith("Z")


def test_a_traceback_stays_below_the_fields() -> None:
    try:
        raise ValueError("broken")
    except ValueError:
        failed = logging.LogRecord("bot", logging.ERROR, __file__, 1, "failed", None, None)
        import sys

        failed.exc_info = sys.exc_info()
    failed.platform = "console"  # type: ignore[attr-defined]
    first, *rest = KeyValueFormatter().format(failed).splitlines()
    assert first.endswith("failed platform=console")
    assert "ValueError: broken" in rest[-1]
