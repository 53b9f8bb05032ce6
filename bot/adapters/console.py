"""The terminal chat: the embedded default when no platform token is set.

Same coach, same SQLite file, no account needed: `make run` and type. Buttons are shown
with a letter ("[a] Save"): typing the letter taps the button. Letters, not numbers, so a
number typed at a severity prompt is the severity, never the sixth button. Everything else
typed goes to the coach, which also takes a button's label ("save") or a plain yes/no.
A tapped choice is printed back as the chat apps show it ("-> Save"). Files (the /export
JSON, the /history chart and body map, drawn by `bot.pictures` off the event loop) are
written next to the database, readable by the user only, and their path is printed.

Ctrl-D (end of input) and Ctrl-C at the prompt both end the chat at once with one line.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import os
import sys
import threading
from pathlib import Path
from typing import TextIO

from bot.adapters.policy import run_turn
from bot.core.coach import Coach
from bot.core.ports import Capabilities, Delivery, SendResult
from bot.core.records import User
from bot.core.replies import Button, Reply
from bot.core.turn import Sender
from bot.pictures import draw_reply

PROMPT = "you> "
QUIT_WORDS = frozenset({"/quit", "/exit", "quit", "exit"})
GOODBYE = "Bye! Roll well."
# Keys for buttons: letters that are not also answers ("y", "n") or easily misread ("l").
KEYS = "abcdefghijkmopqrstuvwxz"


class ConsoleChat:
    """A chat with one local user over stdin/stdout; also a `Messenger` for nudges."""

    platform = "console"
    capabilities = Capabilities()  # a terminal shows any number of lettered choices

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
        reconfigure = getattr(self.stdin, "reconfigure", None)
        if reconfigure is not None:  # invalid UTF-8 typed becomes U+FFFD, not an error
            reconfigure(errors="replace")
        self.sender = Sender("console", _local_user_name(), chat_id="console", private=True)
        self.choices: list[Button] = []
        self.interactive = self.stdin.isatty()

    async def run(self) -> None:
        """Read lines until end of input or /quit, answering each one."""
        self._print_banner()
        lines = self._lines()
        try:
            while True:
                if self.interactive:
                    self.stdout.write(PROMPT)
                    self.stdout.flush()
                line = await lines.get()
                if line is None:
                    if self.interactive:
                        self.stdout.write("\n")  # Ctrl-D leaves the cursor after the prompt
                    break
                text = line.strip()
                if text.lower() in QUIT_WORDS:
                    break
                if not text:
                    continue
                if not self.interactive:
                    self._write(f"{PROMPT}{text}")
                await self.answer(text)
        except asyncio.CancelledError:  # Ctrl-C: the runner cancels us, then exits
            self._write(("\n" if self.interactive else "") + GOODBYE)
            raise
        self._write(GOODBYE)

    def _lines(self) -> asyncio.Queue[str | None]:
        """Lines from stdin, read by a daemon thread: a thread blocked in `readline` must
        not keep the process alive after Ctrl-C (an executor thread would)."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[str | None] = asyncio.Queue()

        def read() -> None:
            while True:
                try:
                    line = self.stdin.readline()
                except (OSError, ValueError, UnicodeDecodeError):
                    line = ""
                with contextlib.suppress(RuntimeError):  # the loop closed: we are exiting
                    loop.call_soon_threadsafe(queue.put_nowait, line or None)
                if not line:
                    return

        threading.Thread(target=read, name="console-input", daemon=True).start()
        return queue

    async def answer(self, text: str) -> None:
        """A button's letter taps it; anything else is a message to the coach."""
        user_id = (await run_turn(self.coach, self.coach.user, self.sender)).id
        button = self._chosen_button(text)
        if button is not None:
            self._write(f"     -> {button.label}")
            outcome = await run_turn(self.coach, self.coach.press, self.sender, button.data)
        else:
            outcome = await run_turn(self.coach, self.coach.respond, self.sender, text)
        if outcome.handled_as == "forgotten":
            self._delete_exports(user_id)
        for reply in outcome.replies:
            await self.present(reply)

    async def send(self, user: User, reply: Reply) -> SendResult:
        await self.present(reply)
        return SendResult(Delivery.SENT)

    async def present(self, reply: Reply) -> None:
        """Show a reply, its picture drawn first (in the drawing thread) and saved."""
        self.show(await draw_reply(reply))

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
        self.choices = reply.all_buttons[: len(KEYS)]  # old choices never outlive the next reply
        if self.choices:
            keyed = [f"[{key}] {b.label}" for key, b in zip(KEYS, self.choices, strict=False)]
            lines.append("  ".join(keyed) + "   (type a letter)")
        self._write("bot> " + "\n     ".join("\n".join(lines).splitlines()))

    def _chosen_button(self, text: str) -> Button | None:
        """The button whose letter was typed ("b" or "[b]"), if any."""
        key = text.strip("[]() ").lower()
        if len(key) != 1 or key not in KEYS:
            return None
        index = KEYS.index(key)
        return self.choices[index] if index < len(self.choices) else None

    def _save(self, filename: str, data: bytes) -> Path:
        """Write a file only its owner can read: an export is personal data."""
        self.files_dir.mkdir(parents=True, exist_ok=True)
        path = self.files_dir / Path(filename).name
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
        path.chmod(0o600)  # also when the file was there before
        return path

    def _delete_exports(self, user_id: int) -> None:
        """/forget deletes everything, the export files and pictures written here included
        (the terminal has one user: every picture here is theirs)."""
        for path in self.files_dir.glob(f"recovery-coach-export-{user_id}.*"):
            path.unlink(missing_ok=True)
        for path in self.files_dir.glob("*.png"):
            path.unlink(missing_ok=True)

    def _print_banner(self) -> None:
        self._write(
            'Recovery coach - terminal chat. Type a message ("what should I roll?"), '
            "a command (/help), or /quit. Ctrl-D or Ctrl-C ends it."
        )

    def _write(self, text: str) -> None:
        self.stdout.write(text + "\n")
        self.stdout.flush()


def _local_user_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "local"
