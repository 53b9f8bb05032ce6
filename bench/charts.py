"""How long one picture takes to draw (goal: a chart under 300 ms on this machine).

Builds a busy month for one user through the real coach (MemoryStore, a fixed clock):
soreness in seven areas most days, a schedule, rolling sessions, massages and a warning
sign, then asks /history for its pictures (the history chart and the body map) and times
`bot.pictures.render` on each. The baseline in the same run is a bare matplotlib figure of
the same size with one 28-point line, saved as a PNG the default way: the ratio says what
the chart's content costs over matplotlib's own floor. Also printed: the first drawing in
the process (matplotlib's import included, paid once, in the drawing thread) and the
core's side (the /history turn that computes the pictures' data).

Run from the repository root:  python bench/charts.py [--draws N]
The last line is JSON: {"chart_p50_ms", "chart_p95_ms", "body_map_p50_ms", ...}.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.core.coach import Coach
from bot.core.memory import MemoryStore
from bot.core.picture import BodyMap, HistoryChart
from bot.core.turn import Sender
from tests.conversation import FakeClock

GOAL_MS = 300.0


def busy_month(seed: int) -> tuple[Coach, Sender]:
    rng = random.Random(seed)
    clock = FakeClock()
    coach = Coach(MemoryStore(clock=clock), clock=clock, default_tz="Europe/Berlin")
    sender = Sender("bench", "1")
    coach.handle_message(sender, "/schedule add mon wed fri 18:00")
    coach.handle_button(sender, "sc:save")
    areas = ["calves", "quads", "hamstrings", "glutes", "shoulders", "upper_back", "neck"]
    for day in range(30):
        sore = rng.sample(areas, rng.randint(1, 4))
        coach.handle_message(sender, ", ".join(f"{a} {rng.randint(1, 9)}/10" for a in sore))
        if day % 2 == 0:
            coach.handle_message(sender, "done rolling, 10 minutes")
        if day % 9 == 0:
            coach.handle_message(sender, "had a massage today")
        clock.advance(days=1)
    coach.handle_message(sender, "my hamstring went numb")
    coach.handle_message(sender, "calves 6/10")
    return coach, sender


def baseline_png() -> bytes:
    """matplotlib's floor: a figure of the chart's size, one line, the default PNG save."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(10.0, 7.5), dpi=100)
    FigureCanvasAgg(figure)
    figure.add_subplot().plot(range(28), [n % 10 for n in range(28)])
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()


def timed(draws: int, draw: Callable[[], object]) -> list[float]:
    samples = []
    for _ in range(draws):
        start = time.perf_counter()
        draw()
        samples.append((time.perf_counter() - start) * 1000.0)
    return samples


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=30)
    parser.add_argument("--seed", type=int, default=19)
    args = parser.parse_args()

    coach, sender = busy_month(args.seed)
    turn = timed(20, lambda: coach.handle_message(sender, "/history"))
    replies = coach.handle_message(sender, "/history")
    chart = next(r.picture for r in replies if isinstance(r.picture, HistoryChart))
    body = next(r.picture for r in replies if isinstance(r.picture, BodyMap))

    assert "matplotlib" not in sys.modules  # the core's side never imports it
    from bot.pictures import render

    first = timed(1, lambda: render(chart))[0]  # matplotlib's import and font set-up
    timed(3, lambda: render(body))
    timed(3, baseline_png)
    # Alternate the three so that a busy machine slows them alike.
    charts: list[float] = []
    maps: list[float] = []
    bases: list[float] = []
    for _ in range(args.draws):
        charts += timed(1, lambda: render(chart))
        maps += timed(1, lambda: render(body))
        bases += timed(1, baseline_png)

    chart_png, map_png = render(chart).png, render(body).png
    p50, p95 = percentile(charts, 0.5), percentile(charts, 0.95)
    map50, map95 = percentile(maps, 0.5), percentile(maps, 0.95)
    base50 = percentile(bases, 0.5)
    print(f"{args.draws} draws each, alternating; chart: {len(chart.series)} areas, 28 days")
    print(f"history chart  p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  max {max(charts):6.1f} ms")
    print(f"body map       p50 {map50:6.1f} ms  p95 {map95:6.1f} ms  max {max(maps):6.1f} ms")
    print(f"bare figure    p50 {base50:6.1f} ms (baseline)  ratio chart/bare {p50 / base50:.2f}")
    print(f"first drawing in the process (matplotlib imported): {first:.0f} ms")
    print(f"/history turn (the pictures' data, no drawing): p50 {percentile(turn, 0.5):.2f} ms")
    print(f"PNG sizes: chart {len(chart_png):,} B, body map {len(map_png):,} B (limit 200,000)")
    worst = max(p95, map95)
    print(f"goal: one picture < {GOAL_MS:.0f} ms (p95): {'met' if worst < GOAL_MS else 'MISSED'}")
    print(
        json.dumps(
            {
                "chart_p50_ms": round(p50, 1),
                "chart_p95_ms": round(p95, 1),
                "body_map_p50_ms": round(map50, 1),
                "body_map_p95_ms": round(map95, 1),
                "baseline_p50_ms": round(base50, 1),
                "ratio": round(p50 / base50, 2),
                "first_draw_ms": round(first),
                "history_turn_p50_ms": round(percentile(turn, 0.5), 2),
                "chart_bytes": len(chart_png),
                "body_map_bytes": len(map_png),
                "draws": args.draws,
            }
        )
    )


if __name__ == "__main__":
    main()
