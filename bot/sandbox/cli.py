"""`python -m bot sandbox`: interactive, or playing a script (`--script FILE`)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import shutil
import sys
import tempfile
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from bot.sandbox.core import COMMANDS_HELP, Sandbox

DEFAULT_DB = Path("data/sandbox.sqlite3")
INPUT_GAP = 5.0  # seconds of the bot's clock between two scripted inputs, as a person types
PROMPT = "> "
DB_SUFFIXES = ("", "-wal", "-shm", "-journal")

HELP = f"""\
Песочница kosmmos-бота: настоящий бот, но вместо Telegram — этот терминал.
  текст                 сообщение боту от имени клиента (команды тоже: /start, /brief, /help ...)
  3                     нажать кнопку [3]; \\3 — отправить текст «3»
  agency: /stats        сообщение в чате агентства от его сотрудника
  agency: reply 2 текст ответить (Reply) на сообщение #2 в чате агентства
  {COMMANDS_HELP}
  (:photo, :voice, :sticker, :document — медиа; :user N — другой клиент; :clock — перевести часы)"""


def script_lines(text: str) -> list[str]:
    """One input per line; blank lines and # comments skipped."""
    return [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]


async def play(lines: Iterable[str], db_path: Path, out: TextIO, *, ansi: bool = False,
               hide_times: bool = True) -> int:
    """Plays inputs non-interactively and prints the transcript; 0, or 1 if an input failed
    (no such button, an unknown :command, the bot did not settle)."""
    sandbox = Sandbox(db_path, out, ansi=ansi, hide_times=hide_times)
    await sandbox.start()
    try:
        await sandbox.after_input(None)  # whatever the bot does by itself at start (e.g. reminders)
        for line in lines:
            sandbox.clock.advance(INPUT_GAP)
            sandbox.write([sandbox.style.input(sandbox.describe(line))])
            await sandbox.handle(line)
            if sandbox.quit:
                break
    finally:
        await sandbox.stop()
    return 1 if sandbox.errors else 0


async def interactive(db_path: Path, out: TextIO, *, ansi: bool) -> int:
    sandbox = Sandbox(db_path, out, ansi=ansi)
    await sandbox.start()
    loop = asyncio.get_running_loop()
    lines: asyncio.Queue[str | None] = asyncio.Queue()
    want_line = threading.Event()
    reading = threading.Event()

    def reader() -> None:  # a daemon thread: a blocked input() never holds up the exit
        while True:
            want_line.wait()
            want_line.clear()
            reading.set()
            try:
                line: str | None = input(PROMPT)
            except (EOFError, KeyboardInterrupt):
                line = None
            reading.clear()
            loop.call_soon_threadsafe(lines.put_nowait, line)
            if line is None:
                return

    async def background() -> None:
        """The bot may speak unprompted (a reminder, a retried delivery): print it."""
        while True:
            await asyncio.sleep(0.3)
            if sandbox.pending and reading.is_set():
                await sandbox.settle()
                out.write("\r\033[K" if ansi else "\n")
                sandbox.flush()
                out.write(PROMPT)
                out.flush()

    sandbox.write([sandbox.style.note(HELP), ""])
    threading.Thread(target=reader, name="sandbox-input", daemon=True).start()
    watcher = asyncio.create_task(background())
    try:
        await sandbox.after_input(None)
        sandbox.write(["Начните с /start"])
        while not sandbox.quit:
            want_line.set()
            line = await lines.get()
            if line is None:
                out.write("\n")
                break
            if not line.strip() or line.strip().startswith("#"):
                continue
            if line.strip() in (":help", ":h", ":?"):
                sandbox.write([sandbox.style.note(HELP)])
                continue
            described = sandbox.describe(line)
            if described.startswith(f"> {line.strip()}  "):
                sandbox.note(described[len(f"> {line.strip()}  "):])
            await sandbox.handle(line)
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
        await sandbox.stop()
    return 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("sandbox options")
    group.add_argument("--script", metavar="FILE",
                       help="sandbox: play the inputs in FILE ('-' = stdin) and print the transcript "
                            "(in a database of its own unless --db is given)")
    group.add_argument("--db", metavar="PATH", type=Path, default=None,
                       help=f"sandbox: SQLite file (default {DEFAULT_DB}; never DB_PATH)")
    group.add_argument("--fresh", action="store_true",
                       help="sandbox: start with an empty database (the old one is kept as PATH.bak)")


def set_aside(path: Path) -> Path | None:
    """Moves a database (and its -wal/-shm) to PATH.bak, replacing an older backup; returns the
    backup's path, or None when there was nothing to move."""
    if not path.exists():
        for suffix in DB_SUFFIXES[1:]:
            Path(str(path) + suffix).unlink(missing_ok=True)
        return None
    backup = Path(str(path) + ".bak")
    for suffix in DB_SUFFIXES:
        Path(str(backup) + suffix).unlink(missing_ok=True)
        source = Path(str(path) + suffix)
        if source.exists():
            shutil.move(source, Path(str(backup) + suffix))
    return backup


def main(args: argparse.Namespace) -> int:
    """`python -m bot sandbox [--script FILE] [--db PATH] [--fresh]`."""
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")
    ansi = sys.stdout.isatty()
    script = args.script
    if script is None and not sys.stdin.isatty():
        script = "-"  # piped input: play it like a script
    scratch: tempfile.TemporaryDirectory[str] | None = None
    if args.db is not None:
        db_path: Path = args.db
    elif script is not None:  # a script never touches the interactive database
        scratch = tempfile.TemporaryDirectory(prefix="kosmmos-sandbox-")
        db_path = Path(scratch.name) / "script.sqlite3"
    else:
        db_path = DEFAULT_DB
    if args.fresh and (backup := set_aside(db_path)) is not None:
        print(f"--fresh: the previous sandbox database is kept as {backup}", file=sys.stderr)
    try:
        if script is None:
            return asyncio.run(interactive(db_path, sys.stdout, ansi=ansi))
        try:
            text = sys.stdin.read() if script == "-" else Path(script).read_text(encoding="utf-8")
        except OSError as exc:
            print(f"cannot read the script: {exc.strerror or exc}", file=sys.stderr)
            return 2
        return asyncio.run(play(script_lines(text), db_path, sys.stdout, ansi=ansi))
    except KeyboardInterrupt:
        return 0
    finally:
        if scratch is not None:
            scratch.cleanup()
