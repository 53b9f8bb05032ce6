"""Shared fixtures: a no-network guard, real temporary databases, a fixed clock, a chat.

The guard makes any connection outside 127.0.0.1/::1 fail the test (like PTB's
OfflineRequest), so a misconfigured base URL can never reach a real platform.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.core.coach import Coach
from bot.core.content import Library, default_library
from bot.core.memory import MemoryStore
from bot.storage import Storage
from tests.conversation import Conversation, FakeClock
from tests.pg import pg_empty_url, pg_server, pg_url  # noqa: F401  (fixtures: a throwaway PostgreSQL)

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


class NetworkBlockedError(RuntimeError):
    """A test tried to reach a host that is not this machine."""


def _check_address(sock: socket.socket, address: Any) -> None:
    if sock.family not in (socket.AF_INET, socket.AF_INET6):
        return
    host = address[0] if isinstance(address, tuple) else address
    try:
        if ipaddress.ip_address(host).is_loopback:
            return
    except ValueError:
        if host == "localhost":
            return
    raise NetworkBlockedError(f"tests may only connect to loopback, not {host!r}")


def _guarded_connect(self: socket.socket, address: Any) -> None:
    _check_address(self, address)
    _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> int:
    _check_address(self, address)
    return _real_connect_ex(self, address)


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket.socket, "connect", _guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", _guarded_connect_ex)


@pytest.fixture(autouse=True)
def quiet_http_loggers() -> None:
    """HTTP client loggers print request URLs, and Telegram's URLs contain the token."""
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)


@pytest.fixture
def library() -> Library:
    return default_library()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def memory_store(clock: FakeClock) -> MemoryStore:
    return MemoryStore(clock=clock)  # the coach's clock, so no test reads today's date


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "bot.sqlite3"


@pytest.fixture
def sqlite_store(db_path: Path) -> Iterator[Storage]:
    with Storage(db_path) as store:
        yield store


@pytest.fixture
def coach(memory_store: MemoryStore, clock: FakeClock) -> Coach:
    return Coach(memory_store, clock=clock, default_tz="Europe/Berlin")


@pytest.fixture
def conversation(coach: Coach) -> Conversation:
    return Conversation(coach)
