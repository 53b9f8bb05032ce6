"""Parser throughput: messages/s of `parse_message` on the labeled messages.

Run: `python bench/parser_throughput.py` (from the repo root). The baseline, measured in
the same run on the same messages, is a bare regex tokenisation (`re.findall` over the
lower-cased text): the floor any parser pays. Goal: >= 20,000 messages/s on one core.
Last line: JSON with `messages_per_s`, `baseline_per_s`, `ratio`.
"""

from __future__ import annotations

import json
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.core.parsing import parse_message  # noqa: E402

SOURCES = [ROOT / "tests" / "data" / "parser_cases.jsonl", *ROOT.parent.glob("shared/data/*.jsonl")]
WORDS = re.compile(r"\w+|[^\w\s]")


def messages() -> list[str]:
    texts = []
    for path in SOURCES:
        if path.exists():
            texts += [json.loads(line)["text"] for line in path.read_text().splitlines() if line]
    return texts


def rate(work: Callable[[str], object], texts: list[str], seconds: float = 2.0) -> float:
    for text in texts:
        work(text)
    done = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        for text in texts:
            work(text)
        done += len(texts)
    return done / (time.perf_counter() - start)


def main() -> None:
    texts = messages()
    parsed = rate(parse_message, texts)
    baseline = rate(lambda text: WORDS.findall(text.lower()), texts)
    print(f"{len(texts)} messages: parser {parsed:,.0f}/s, regex tokenise {baseline:,.0f}/s")
    print(
        json.dumps(
            {
                "messages": len(texts),
                "messages_per_s": round(parsed),
                "baseline_per_s": round(baseline),
                "ratio": round(parsed / baseline, 3),
                "goal_messages_per_s": 20_000,
            }
        )
    )


if __name__ == "__main__":
    main()
