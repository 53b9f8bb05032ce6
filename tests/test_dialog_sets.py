"""The labelled dialog sets stay answered: a regression guard on tools/eval_dialogs.py.

`dialogs-dev.jsonl` was written beside the code; the held-out sets were written blind from
the design. Their first scores are in BENCHMARKS.md; these floors keep them from sliding.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
FLOORS = {  # turn accuracy, dialog accuracy
    "dialogs-dev.jsonl": (0.97, 0.95),
    "dialogs-heldout-1.jsonl": (0.95, 0.85),
    "dialogs-heldout-2.jsonl": (0.95, 0.85),
}


def score(*files: Path, check: bool = False) -> dict[str, float]:
    args = [sys.executable, str(ROOT / "tools" / "eval_dialogs.py"), *map(str, files)]
    if check:
        args.append("--check")
    result = subprocess.run(args, capture_output=True, text=True, cwd=ROOT, check=False)
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize("name", FLOORS)
def test_a_dialog_set_scores_above_its_floor(name: str) -> None:
    turns, dialogs = FLOORS[name]
    result = score(DATA / name)
    assert result["turn_accuracy"] >= turns, result
    assert result["dialog_accuracy"] >= dialogs, result


def test_every_dialog_file_is_well_formed() -> None:
    files = sorted(DATA.glob("dialogs*.jsonl"))
    assert {f.name for f in files} >= set(FLOORS)
    assert score(*files, check=True)["malformed"] == 0
