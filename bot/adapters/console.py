"""The terminal chat: the embedded default when no platform token is set.

Same coach, same SQLite file, no account needed: `make run` and type. Buttons are shown
as numbered choices; typing the number taps the button. Files (the /export JSON) are
written next to the database and their path is printed.
"""

from __future__ import annotations

import asyncio
import getpass
import sys
from pathlib import Path
from typing import TextIO

from bot.adapters.base import Delivery, SendResult
from bot.core.coach import Coach
from bot.core.records import User
from bot.core.replies import Button, Reply
from bot.core.turn import Sender

PROMPT = "you> "
QUIT_WORDS = frozenset({"/quit", "/exit", "quit", "exit"})


class ConsoleChat:
    """A chat with one local user over stdin/stdout; also a `Messenger` for nudges."""

    platform = "console"

    def __init__(
        self,
        coach: Coach,
        files_dir: Path,
        stdin: TextIO | None = None,
        stdout: TextIO | None = None,
    ) -> None:
        self.coach = coach
        self.files_dir = files_dir
        self.stdin = stdin or sys.stdin
        self.stdout = stdout or sys.stdout
        self.sender = Sender("console", _local_user_name(), chat_id="console", private=True)
        self.choices: list[Button] = []
        self.interactive = self.stdin.isatty()

    async def run(self) -> None:
        """Read lines until end of input or /quit, answering each one."""
        self._print_banner()
        loop = asyncio.get_running_loop()
        while True:
            if self.interactive:
                self.stdout.write(PROMPT)
                self.stdout.flush()
            line = await loop.run_in_executor(None, self.stdin.readline)
            if not line:
                break
            text = line.strip()
            if text.lower() in QUIT_WORDS:
                break
            if not text:
                continue
            if not self.interactive:
                self._write(f"{PROMPT}{text}")
            self.answer(text)
        self._write("Bye! Roll well.")

    def answer(self, text: str) -> None:
        """Treat a number as a tap on the matching button, anything else as a message."""
        button = self._chosen_button(text)
        if button is not None:
            replies = self.coach.handle_button(self.sender, button.data)
        else:
            replies = self.coach.handle_message(self.sender, text)
        for reply in replies:
            self.show(reply)

    async def send(self, user: User, reply: Reply) -> SendResult:
        self.show(reply)
        return SendResult(Delivery.SENT)

    def show(self, reply: Reply) -> None:
        lines = []
        if reply.title:
            lines.append(f"== {reply.title} ==")
        lines.append(reply.text)
        if reply.attachment is not None:
            path = self._save(reply.attachment.filename, reply.attachment.data)
            lines.append(f"[file saved: {path}]")
        if reply.image is not None:
            path = self._save(reply.image.filename, reply.image.png)
            lines.append(f"[image saved: {path}]")
        self.choices = reply.all_buttons  # old choices never outlive the next reply
        if self.choices:
            numbered = [f"[{n}] {b.label}" for n, b in enumerate(self.choices, start=1)]
            lines.append("  ".join(numbered) + "   (type a number)")
        self._write("bot> " + "\n     ".join("\n".join(lines).splitlines()))

    def _chosen_button(self, text: str) -> Button | None:
        """A typed number picks the button with that number; a typed label (the severity
        picker's "5") picks that button, so "5" means 5/10, not the fifth choice."""
        if not self.choices:
            return None
        for button in self.choices:
            if button.label.strip().lower() == text.lower():
                return button
        if not text.isdecimal():
            return None
        index = int(text) - 1
        return self.choices[index] if 0 <= index < len(self.choices) else None

    def _save(self, filename: str, data: bytes) -> Path:
        self.files_dir.mkdir(parents=True, exist_ok=True)
        path = self.files_dir / Path(filename).name
        path.write_bytes(data)
        return path

    def _print_banner(self) -> None:
        self._write(
            'Recovery coach - terminal chat. Type a message ("what should I roll?"), '
            "a command (/help), or /quit."
        )

    def _write(self, text: str) -> None:
        self.stdout.write(text + "\n")
        self.stdout.flush()


def _local_user_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "local"
