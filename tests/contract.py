"""The design's contract (shared/design.md), written down once for the tests.

The content YAML owns the ids the bot runs on; these lists hold it to what the design
promises other parts and evaluations (area ids in storage and the parser, workout ids,
command names on every platform).
"""

from __future__ import annotations

AREA_IDS = (
    "calves",
    "shins",
    "feet",
    "hamstrings",
    "quads",
    "it_band",
    "adductors",
    "hip_flexors",
    "glutes",
    "lower_back",
    "upper_back",
    "lats",
    "chest",
    "shoulders",
    "traps",
    "neck",
    "triceps",
    "biceps",
    "forearms",
)
WORKOUT_IDS = ("run", "cycle", "swim", "lower_body", "upper_body", "full_body")
COMMANDS = (
    "start",
    "help",
    "roll",
    "sore",
    "schedule",
    "massage",
    "history",
    "settings",
    "pause",
    "resume",
    "export",
    "forget",
)
