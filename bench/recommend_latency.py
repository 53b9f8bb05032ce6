"""Latency of `recommend` with a year of history (design goal: p99 < 5 ms).

Builds a plain list of ~700 soreness reports (one or two a day for a year, oldest first, as
the store returns them) plus a few red flags, then times many `recommend` calls with varying
budgets, workouts and asked areas. As a baseline in the same run it times `current_soreness`
alone on the same history, so the ratio says what ranking, fitting and wording cost on top.

Run from the repository root:  python bench/recommend_latency.py [--calls N] [--seed S]
The last line is JSON: {"p50_ms", "p99_ms", "baseline_p99_ms", "ratio", ...}.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.core.content import default_library
from bot.core.recommend import current_soreness, recommend
from bot.core.records import RedFlagEvent, SorenessReport

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


AREA_IDS = tuple(default_library().areas)
WORKOUT_IDS = tuple(default_library().workouts)


def year_of_history(seed: int) -> tuple[list[SorenessReport], list[RedFlagEvent]]:
    """One or two reports a day for a year (~700), plus a red flag every ~6 weeks."""
    rng = random.Random(seed)
    reports: list[SorenessReport] = []
    flags: list[RedFlagEvent] = []
    ids = iter(range(1, 10_000))
    favourites = ["calves", "hamstrings", "quads", "lower_back", "glutes", "upper_back"]
    for day in range(365, -1, -1):
        base = NOW - timedelta(days=day)
        for _ in range(2 if rng.random() < 0.9 else 1):
            area = rng.choice(favourites) if rng.random() < 0.7 else rng.choice(AREA_IDS)
            at = base - timedelta(minutes=rng.randrange(0, 12 * 60))
            severity = rng.choice((0, 2, 3, 5, 5, 6, 7, 9))
            reports.append(SorenessReport(next(ids), 1, area, severity, at))
        if day % 40 == 3:
            areas = tuple(rng.sample(AREA_IDS, rng.choice((0, 1, 2))))
            flags.append(RedFlagEvent(next(ids), 1, base, areas, "sharp pain"))
    reports.sort(key=lambda r: (r.at, r.id))
    flags.sort(key=lambda f: (f.at, f.id))
    return reports, flags


def timed(calls: int, make_call: Callable[[int], object]) -> list[float]:
    """Per-call wall times in ms."""
    samples: list[float] = []
    clock = time.perf_counter
    for index in range(calls):
        start = clock()
        make_call(index)
        samples.append((clock() - start) * 1000.0)
    return samples


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    library = default_library()
    reports, flags = year_of_history(args.seed)
    workouts: list[str | None] = [None, *WORKOUT_IDS]
    minutes_options: list[int | None] = [None, 5, 8, 12, 15, 20]
    asked_options: list[tuple[str, ...]] = [(), ("lower_back",), ("neck", "calves")]

    def call_recommend(index: int) -> object:
        # A slightly different "now" each call so nothing can be served from a cache.
        now = NOW - timedelta(minutes=index % 600)
        workout = workouts[index % len(workouts)]
        return recommend(
            library,
            reports=reports,
            red_flags=flags,
            now=now,
            minutes=minutes_options[index % len(minutes_options)],
            workout=workout,
            workout_at=now + timedelta(hours=9) if workout else None,
            zone="Europe/Berlin",
            asked_areas=asked_options[index % len(asked_options)],
        )

    def call_baseline(index: int) -> object:
        return current_soreness(reports, NOW - timedelta(minutes=index % 600))

    warm = max(200, args.calls // 10)
    timed(warm, call_recommend)
    timed(warm, call_baseline)
    samples = timed(args.calls, call_recommend)
    baseline = timed(args.calls, call_baseline)

    p50, p99 = percentile(samples, 0.50), percentile(samples, 0.99)
    base_p50, base_p99 = percentile(baseline, 0.50), percentile(baseline, 0.99)
    print(f"history: {len(reports)} reports, {len(flags)} red flags; {args.calls} calls each")
    print(
        f"recommend        p50 {p50:.3f} ms  p99 {p99:.3f} ms  "
        f"mean {statistics.fmean(samples):.3f} ms  max {max(samples):.3f} ms"
    )
    print(f"current_soreness p50 {base_p50:.3f} ms  p99 {base_p99:.3f} ms (baseline)")
    print(f"goal p99 < 5 ms: {'met' if p99 < 5.0 else 'MISSED'}")
    print(
        json.dumps(
            {
                "p50_ms": round(p50, 4),
                "p99_ms": round(p99, 4),
                "baseline_p99_ms": round(base_p99, 4),
                "ratio": round(p99 / base_p99, 2) if base_p99 else None,
                "reports": len(reports),
                "calls": args.calls,
            }
        )
    )


if __name__ == "__main__":
    main()
