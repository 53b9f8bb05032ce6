"""The import rules that keep the layers apart, checked on the source (sqlite-utils'
`test_docs.py` habit: the rule written down is the rule enforced).

- The core imports no platform, no network and no database, and nothing outside the core.
- The scheduler imports only the core (and APScheduler).
- Storage imports only the core: SQLite's `storage.py` and PostgreSQL's `storage_pg.py`
  alike. The copy from one to the other (`migrate_to_postgres.py`) imports the two stores
  and the core only. Adapters never import storage or the scheduler.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

BOT = Path(__file__).resolve().parents[1] / "bot"
PLATFORMS = ("telegram", "discord", "aiohttp", "httpx", "sqlite3", "sqlite_utils", "psycopg")


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def modules(folder: str) -> list[Path]:
    root = BOT / folder
    return sorted(root.rglob("*.py")) if root.is_dir() else [BOT / f"{folder}.py"]


def _top(name: str) -> str:
    return name.split(".", maxsplit=1)[0]


@pytest.mark.parametrize("path", modules("core"), ids=lambda p: p.stem)
def test_the_core_imports_no_platform_and_nothing_outside_the_core(path: Path) -> None:
    for name in imports_of(path):
        assert _top(name) not in PLATFORMS, name
        if name.startswith("bot."):
            assert name.startswith("bot.core"), name


@pytest.mark.parametrize("path", modules("scheduler"), ids=lambda p: p.stem)
def test_the_scheduler_imports_only_the_core(path: Path) -> None:
    for name in imports_of(path):
        assert _top(name) not in PLATFORMS, name
        if name.startswith("bot."):
            assert name.startswith(("bot.core", "bot.scheduler")), name


def test_storage_imports_only_the_core() -> None:
    for name in imports_of(BOT / "storage.py"):
        if name.startswith("bot."):
            assert name.startswith("bot.core"), name


def test_the_postgres_store_imports_only_the_core() -> None:
    for name in imports_of(BOT / "storage_pg.py"):
        if name.startswith("bot."):
            assert name.startswith("bot.core"), name
        assert _top(name) not in ("sqlite3", "sqlite_utils", "telegram", "discord"), name


def test_the_copy_to_postgres_imports_the_stores_and_the_core_only() -> None:
    for name in imports_of(BOT / "migrate_to_postgres.py"):
        if name.startswith("bot."):
            assert name.startswith(("bot.core", "bot.storage", "bot.storage_pg")), name


@pytest.mark.parametrize("path", modules("adapters"), ids=lambda p: p.stem)
def test_adapters_never_touch_storage_or_the_scheduler(path: Path) -> None:
    for name in imports_of(path):
        assert not name.startswith(("bot.storage", "bot.scheduler", "bot.migrate")), name
