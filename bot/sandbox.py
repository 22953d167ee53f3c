"""`python -m bot sandbox`: the real bot in a terminal, without Telegram.

The real dispatcher, handlers, SQLite storage and outbox worker run against the in-process
Bot API stand-in (bot/standin.py) on 127.0.0.1. You type as a prospect; what the bot sends
is printed as plain text with its buttons numbered; typing a number presses a button.

Input syntax (interactive and --script alike):
    any text            a message from the prospect (commands too: /start, /brief ...)
    3                   press button [3] of the latest keyboard shown
    \\3                  send the text "3" instead of pressing a button
    agency: /stats      a message in the agency chat from an agency member
    :help, :quit        (interactive only) this help, leave

The sandbox needs no settings: every Settings field is passed explicitly, `.env` and the
environment are never read, and its SQLite file is data/sandbox.sqlite3 (not DB_PATH).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import re
import sys
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, TextIO

from aiogram import Bot, Dispatcher

from bot.app import Services, create_bot, create_dispatcher, set_commands
from bot.settings import Settings
from bot.standin import BotAPIStandIn, Call

DEFAULT_DB = Path("data/sandbox.sqlite3")
# Fixed fakes: nothing here can reach Telegram (the API URL is the local stand-in).
TOKEN = "4200000:SANDBOX-not-a-real-token"
AGENCY_CHAT_ID = -1000000000001
AGENCY_CHAT = {"id": AGENCY_CHAT_ID, "type": "supergroup", "title": "kosmmos — заявки (песочница)"}
USER_ID = 700001
USER_NAME, USER_USERNAME = "Иван", "ivan_sandbox"
USER_PHONE = "79161234567"  # what the "share my number" button sends (Telegram omits the "+")
MEMBER_ID, MEMBER_NAME, MEMBER_USERNAME = 700002, "Дарья", "kosmmos_manager"

QUIET = 0.15  # the bot is done when it made no API call for this long and the outbox is drained
STEP_TIMEOUT = 15.0
POLL = 0.02
DOC_PREVIEW_LINES = 8
SILENT_METHODS = {"getMe", "getUpdates", "deleteWebhook", "setMyCommands", "close", "logOut"}
AGENCY_PREFIXES = ("agency:", "агентство:")

_ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:[+-]\d{2}:\d{2}|Z)?")
_LOCAL_TIME = re.compile(r"\d{2}\.\d{2}\.\d{4} \d{2}:\d{2}")
TIME_PLACEHOLDER = "‹время›"



# --- settings ----------------------------------------------------------------------------


def sandbox_settings(db_path: Path, api_url: str) -> Settings:
    """Every field explicit (init arguments win over the environment), no .env file."""
    values: dict[str, Any] = {
        name: field.get_default(call_default_factory=True)
        for name, field in Settings.model_fields.items()
        if not field.is_required()
    }
    values.update(
        bot_token=TOKEN,
        agency_chat_id=AGENCY_CHAT_ID,
        db_path=db_path,
        telegram_api_url=api_url,
        log_level="WARNING",
        faq_path=None,  # the packaged FAQ
        masked_card=False,
        agency_send_interval=0,  # no 3 s pacing between agency messages
        flood_limit=1000,  # scripted input is machine-fast
        flood_window=10.0,
    )
    return Settings(_env_file=None, **values)


# --- HTML -> terminal text ------------------------------------------------------------------


class _Plain(HTMLParser):
    BOLD = {"b", "strong"}

    def __init__(self, ansi: bool) -> None:
        super().__init__(convert_charrefs=True)
        self.ansi = ansi
        self.parts: list[str] = []
        self._links: list[tuple[str, int]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._links.append((dict(attrs).get("href") or "", len(self.parts)))
        elif tag in self.BOLD and self.ansi:
            self.parts.append("\033[1m")

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._links:
            href, start = self._links.pop()
            label = "".join(self.parts[start:])
            if href and href != label:
                self.parts.append(f" ({href})")
        elif tag in self.BOLD and self.ansi:
            self.parts.append("\033[22m")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_to_text(text: str, ansi: bool = False) -> str:
    """Telegram HTML as plain text: tags stripped, entities unescaped, links as `text (url)`."""
    parser = _Plain(ansi)
    parser.feed(text)
    parser.close()
    return "".join(parser.parts)


def mask_times(text: str) -> str:
    return _LOCAL_TIME.sub(TIME_PLACEHOLDER, _ISO_TIME.sub(TIME_PLACEHOLDER, text))


# --- buttons -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Button:
    text: str
    chat_id: int
    message_id: int | None  # the message carrying an inline button; None for the reply keyboard
    callback_data: str | None = None
    url: str | None = None
    contact: bool = False  # reply keyboard: "share my number"

    @property
    def label(self) -> str:
        return f"{self.text} ↗ {self.url}" if self.url else self.text


def inline_rows(markup: Any, chat_id: int, message_id: int | None) -> list[list[Button]]:
    if not isinstance(markup, dict):
        return []
    rows = []
    for row in markup.get("inline_keyboard") or []:
        buttons = [Button(b.get("text", "?"), chat_id, message_id, b.get("callback_data"), b.get("url"))
                   for b in row]
        if buttons:
            rows.append(buttons)
    return rows


def reply_rows(markup: Any, chat_id: int) -> list[list[Button]]:
    if not isinstance(markup, dict):
        return []
    rows = []
    for row in markup.get("keyboard") or []:
        buttons = [Button(b if isinstance(b, str) else b.get("text", "?"), chat_id, None,
                          contact=bool(isinstance(b, dict) and b.get("request_contact")))
                   for b in row]
        if buttons:
            rows.append(buttons)
    return rows


# --- the transcript ------------------------------------------------------------------------


class Style:
    def __init__(self, ansi: bool) -> None:
        self.ansi = ansi

    def _wrap(self, code: str, text: str) -> str:
        return f"\033[{code}m{text}\033[0m" if self.ansi and text else text

    def agency(self, text: str) -> str:
        return self._wrap("35", text)

    def event(self, text: str) -> str:
        return self._wrap("33", text)

    def toast(self, text: str) -> str:
        return self._wrap("36", text)

    def note(self, text: str) -> str:
        return self._wrap("2", text)

    def input(self, text: str) -> str:
        return self._wrap("1", text)


class Renderer:
    """Turns recorded Bot API calls into transcript lines and keeps the numbered buttons."""

    INDENT = "   "

    def __init__(self, style: Style, *, hide_times: bool = False) -> None:
        self.style = style
        self.hide_times = hide_times
        self.numbers: dict[int, Button] = {}
        self.reply_keyboard: list[list[Button]] = []
        self._inline: dict[tuple[int, int], list[list[Button]]] = {}  # current keyboard per message

    # helpers
    def _text(self, raw: Any, parse_mode: Any) -> str:
        text = str(raw or "")
        if str(parse_mode or "").upper() == "HTML":
            text = html_to_text(text, self.style.ansi)
        return mask_times(text) if self.hide_times else text

    def _chat_label(self, chat_id: Any) -> str:
        if chat_id == USER_ID:
            return ""
        if chat_id == AGENCY_CHAT_ID:
            return "[агентство] "
        return f"[чат {chat_id}] "

    def _paint(self, chat_id: Any, text: str, kind: str = "message") -> str:
        if chat_id == AGENCY_CHAT_ID:
            return self.style.agency(text)
        if kind == "event":
            return self.style.event(text)
        if kind == "toast":
            return self.style.toast(text)
        return text

    def _block(self, head: str, body: str) -> list[str]:
        first, *rest = body.split("\n") if body else [""]
        lines = [f"{head}{first}".rstrip()]
        lines += [f"{self.INDENT}{line}".rstrip() for line in rest]
        return lines

    def _button_lines(self, rows: list[list[Button]], shown: list[Button], prefix: str = "") -> list[str]:
        lines = []
        for i, row in enumerate(rows):
            cells = []
            for b in row:
                shown.append(b)
                cells.append(f"[{len(shown)}] {b.label}")
            lines.append(self.INDENT + (prefix if i == 0 else " " * len(prefix)) + "  ".join(cells))
        return lines

    # one batch: everything the bot did in response to one input
    def render(self, calls: Iterable[Call], press_chat: int = USER_ID) -> list[str]:
        out: list[str] = []
        shown: list[Button] = []
        reply_changed = False
        for call in calls:
            method, p = call.method, call.params
            if method in SILENT_METHODS:
                continue
            chat = int(p.get("chat_id") or 0)
            label = self._chat_label(chat)
            markup = p.get("reply_markup")
            if method in ("sendMessage", "sendDocument"):
                mid = call.result.get("message_id") if isinstance(call.result, dict) else None
                if method == "sendMessage":
                    body = self._text(p.get("text"), p.get("parse_mode"))
                else:
                    body = self._document(p)
                lines = self._block(f"{label}бот #{mid}: " if not label else f"{label}#{mid}: ", body)
                rows = inline_rows(markup, chat, mid)
                if mid is not None:
                    self._inline[(chat, int(mid))] = rows
                lines += self._button_lines(rows, shown)
                out += [self._paint(chat, line) for line in lines]
                reply_changed |= self._reply_markup(markup, chat, out, shown)
            elif method == "editMessageText":
                mid = int(p.get("message_id") or 0)
                body = self._text(p.get("text"), p.get("parse_mode"))
                lines = self._block(f"{label}✎ изменено сообщение {mid}: ", body)
                rows = inline_rows(markup, chat, mid)
                self._inline[(chat, mid)] = rows
                lines += self._button_lines(rows, shown)
                out += [self._paint(chat, line, "event") for line in lines]
            elif method == "editMessageReplyMarkup":
                mid = int(p.get("message_id") or 0)
                rows = inline_rows(markup, chat, mid)
                self._inline[(chat, mid)] = rows
                if rows:
                    lines = [f"{label}✎ новые кнопки сообщения {mid}:", *self._button_lines(rows, shown)]
                else:
                    lines = [f"{label}✎ кнопки сообщения {mid} убраны"]
                out += [self._paint(chat, line, "event") for line in lines]
            elif method == "deleteMessage":
                mid = int(p.get("message_id") or 0)
                self._inline.pop((chat, mid), None)
                out.append(self._paint(chat, f"{label}✖ удалено сообщение {mid}", "event"))
            elif method == "answerCallbackQuery":
                if p.get("text"):
                    mark = "⚠ окно:" if p.get("show_alert") else "💬"
                    text = self._text(p["text"], None)
                    out.append(self._paint(press_chat, f"{self._chat_label(press_chat)}{mark} {text}", "toast"))
            else:
                out.append(self._paint(chat, f"{label}· {method}", "event"))
        if shown:
            # New keyboards on screen: their numbers replace the old ones; the reply keyboard
            # (still under the input field) keeps a number too.
            if self.reply_keyboard and not reply_changed:
                out += [self.style.note(line) for line in self._button_lines(self.reply_keyboard, shown, "⌨ ")]
            self.numbers = dict(enumerate(shown, 1))
        else:
            self._forget_stale()
        return out

    def _reply_markup(self, markup: Any, chat: Any, out: list[str], shown: list[Button]) -> bool:
        """A reply keyboard (under the input field) set or removed by a message."""
        if chat != USER_ID or not isinstance(markup, dict):
            return False
        if markup.get("remove_keyboard"):
            if self.reply_keyboard:
                out.append(self.style.note(f"{self.INDENT}⌨ клавиатура убрана"))
            self.reply_keyboard = []
            return True
        rows = reply_rows(markup, chat)
        if not rows:
            return False
        self.reply_keyboard = rows
        out += [self.style.note(line) for line in self._button_lines(rows, shown, "⌨ ")]
        return True

    def _forget_stale(self) -> None:
        """Buttons whose message lost them (edited or deleted) can no longer be pressed."""
        current = {b for rows in self._inline.values() for row in rows for b in row}
        reply = {b for row in self.reply_keyboard for b in row}
        self.numbers = {n: b for n, b in self.numbers.items()
                        if (b in reply if b.message_id is None else b in current)}

    def _document(self, p: dict[str, Any]) -> str:
        doc = p.get("document")
        name, content = "file", b""
        if isinstance(doc, dict):
            name = str(doc.get("filename") or name)
            raw = doc.get("content") or b""
            content = raw if isinstance(raw, bytes) else str(raw).encode()
        elif isinstance(doc, str):
            name = doc
        lines = [f"📎 файл {name}, {len(content)} байт"]
        if p.get("caption"):
            lines.append(self._text(p["caption"], p.get("parse_mode")))
        text = content.decode("utf-8", "replace")
        if name.lower().endswith(".json") or text.lstrip().startswith(("{", "[")):
            head = text.splitlines()
            preview = head[:DOC_PREVIEW_LINES]
            if self.hide_times:
                preview = [mask_times(line) for line in preview]
            lines += [f"│ {line}" for line in preview]
            if len(head) > DOC_PREVIEW_LINES:
                lines.append(f"│ … ещё {len(head) - DOC_PREVIEW_LINES} строк")
        return "\n".join(lines)


# --- the sandbox ---------------------------------------------------------------------------


class Sandbox:
    def __init__(self, db_path: Path, out: TextIO, *, ansi: bool = False, hide_times: bool = False) -> None:
        self.db_path = db_path
        self.out = out
        self.style = Style(ansi)
        self.renderer = Renderer(self.style, hide_times=hide_times)
        self.api = BotAPIStandIn(TOKEN, per_chat_message_ids=True)
        self.pending: list[Call] = []
        self.last_call_at = time.monotonic()
        self.press_chat = USER_ID
        self.errors = 0
        self.bot: Bot | None = None
        self.dp: Dispatcher | None = None
        self.services: Services | None = None
        self._polling: asyncio.Task[None] | None = None
        self._last_update = 0

    # --- lifecycle -------------------------------------------------------------------
    async def start(self) -> None:
        await self.api.start()
        self.api.listeners.append(self._on_call)
        settings = sandbox_settings(self.db_path, self.api.base_url)
        self.bot = create_bot(settings)
        self.dp = create_dispatcher(settings)
        self.services = self.dp["services"]
        await self.services.db.open()
        await self.bot.delete_webhook(drop_pending_updates=False)
        await set_commands(self.bot)
        self._polling = asyncio.create_task(self.dp.start_polling(
            self.bot,
            allowed_updates=self.dp.resolve_used_update_types(),
            tasks_concurrency_limit=settings.tasks_concurrency_limit,
            close_bot_session=False,
            handle_signals=False,
        ), name="sandbox-polling")
        await self.api.wait_for(lambda c: c.method == "getUpdates", timeout=STEP_TIMEOUT)

    async def stop(self) -> None:
        try:
            if self._polling is not None:
                if not self._polling.done() and self.dp is not None:
                    with contextlib.suppress(RuntimeError):
                        await self.dp.stop_polling()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._polling
        finally:
            if self.services is not None:
                await self.services.db.close()
            if self.bot is not None:
                await self.bot.session.close()
            await self.api.stop()

    def _on_call(self, call: Call) -> None:
        self.pending.append(call)
        self.last_call_at = time.monotonic()

    # --- waiting ---------------------------------------------------------------------
    async def _busy(self) -> bool:
        assert self.services is not None
        in_flight = self.services.in_flight
        if in_flight.count or (in_flight.last_update_id or 0) < self._last_update:
            return True
        if time.monotonic() - self.last_call_at < QUIET:
            return True
        return bool(await self.services.outbox.due())

    async def settle(self, timeout: float = STEP_TIMEOUT) -> bool:
        """Waits until the update was handled, the outbox is drained and the bot is quiet."""
        deadline = time.monotonic() + timeout
        while await self._busy():
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(POLL)
        return True

    def flush(self) -> None:
        """Prints what the bot did since the last flush: the prospect's chat first, then the
        agency chat (each in call order), so the transcript does not depend on timing."""
        calls, self.pending = self.pending, []

        def rank(call: Call) -> int:
            chat = call.params.get("chat_id")
            if call.method == "answerCallbackQuery":
                chat = self.press_chat
            return 0 if chat == USER_ID else 1 if chat == AGENCY_CHAT_ID else 2

        self.write(self.renderer.render(sorted(calls, key=rank), self.press_chat))

    def write(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.out.write(line + "\n")
        self.out.flush()

    def note(self, text: str) -> None:
        self.write([self.style.note(f"· {text}")])

    # --- input -----------------------------------------------------------------------
    async def handle(self, line: str) -> None:
        """One input (text, a button number, `agency: ...`); returns once the bot is quiet."""
        line = line.strip()
        lower = line.lower()
        update_id: int | None = None
        if lower.startswith(AGENCY_PREFIXES):
            text = line.split(":", 1)[1].strip()
            if not text:
                self.note("после «agency:» нужен текст, например agency: /stats")
                self.errors += 1
                return
            self.press_chat = AGENCY_CHAT_ID
            update_id = self.api.push_text(MEMBER_ID, text, first_name=MEMBER_NAME,
                                           username=MEMBER_USERNAME, chat=AGENCY_CHAT)
        elif re.fullmatch(r"\d{1,2}", line):
            update_id = self._press(int(line))
            if update_id is None:
                return
        else:
            text = line[1:] if line.startswith("\\") else line
            self.press_chat = USER_ID
            update_id = self.api.push_text(USER_ID, text, first_name=USER_NAME, username=USER_USERNAME)
        await self.after_input(update_id)

    async def after_input(self, update_id: int | None) -> None:
        if update_id is not None:
            self._last_update = update_id
        if not await self.settle():
            self.errors += 1
            self.flush()
            self.note(f"бот не затих за {STEP_TIMEOUT:.0f} с")
            return
        self.flush()

    def _press(self, number: int) -> int | None:
        button = self.renderer.numbers.get(number)
        if button is None:
            self.errors += 1
            if self.renderer.numbers:
                self.note(f"нет кнопки {number}: на экране кнопки {min(self.renderer.numbers)}–"
                          f"{max(self.renderer.numbers)} (отправить текст «{number}»: \\{number})")
            else:
                self.note(f"нет кнопок на экране (отправить текст «{number}»: \\{number})")
            return None
        if button.url:
            self.note(f"ссылка {button.url} открылась бы в браузере")
            return None
        if button.message_id is None:  # the reply keyboard
            self.press_chat = USER_ID
            if button.contact:
                self.note(f"отправлен ваш контакт: +{USER_PHONE}")
                return self.api.push_contact(USER_ID, USER_PHONE, USER_ID, first_name=USER_NAME)
            return self.api.push_text(USER_ID, button.text, first_name=USER_NAME, username=USER_USERNAME)
        if button.callback_data is None:
            self.note("эта кнопка ничего не отправляет боту")
            return None
        self.press_chat = button.chat_id
        if button.chat_id == AGENCY_CHAT_ID:
            return self.api.push_callback(MEMBER_ID, button.callback_data, button.message_id,
                                          first_name=MEMBER_NAME, username=MEMBER_USERNAME, chat=AGENCY_CHAT)
        return self.api.push_callback(USER_ID, button.callback_data, button.message_id,
                                      first_name=USER_NAME, username=USER_USERNAME)

    def describe(self, line: str) -> str:
        """The echo of an input: a pressed button is named."""
        stripped = line.strip()
        if re.fullmatch(r"\d{1,2}", stripped):
            button = self.renderer.numbers.get(int(stripped))
            if button is not None:
                return f"> {stripped}  → {button.text}"
        return f"> {stripped}"


# --- modes ---------------------------------------------------------------------------------


def script_lines(text: str) -> list[str]:
    """One input per line; blank lines and # comments skipped."""
    return [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]


async def play(lines: Iterable[str], db_path: Path, out: TextIO, *, ansi: bool = False,
               hide_times: bool = True) -> int:
    """Plays inputs non-interactively and prints the transcript; 0, or 1 if an input failed
    (no such button, the bot did not settle)."""
    sandbox = Sandbox(db_path, out, ansi=ansi, hide_times=hide_times)
    await sandbox.start()
    try:
        await sandbox.after_input(None)  # whatever the bot does by itself at start (e.g. reminders)
        for line in lines:
            sandbox.write([sandbox.style.input(sandbox.describe(line))])
            await sandbox.handle(line)
    finally:
        await sandbox.stop()
    return 1 if sandbox.errors else 0


HELP = """\
Песочница kosmmos-бота: настоящий бот, но вместо Telegram — этот терминал.
  текст            сообщение боту от имени клиента (команды тоже: /start, /brief, /mydata ...)
  3                нажать кнопку [3]; \\3 — отправить текст «3»
  agency: /stats   сообщение в чате агентства от его сотрудника
  :help  :quit     эта подсказка, выход (или Ctrl+D)"""

PROMPT = "> "


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
        while True:
            want_line.set()
            line = await lines.get()
            if line is None:
                out.write("\n")
                break
            if line.strip() in (":quit", ":q", ":exit"):
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


# --- entry ---------------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("sandbox options")
    group.add_argument("--script", metavar="FILE",
                       help="sandbox: play the inputs in FILE ('-' = stdin) and print the transcript")
    group.add_argument("--db", metavar="PATH", type=Path, default=None,
                       help=f"sandbox: SQLite file (default {DEFAULT_DB}; never DB_PATH)")
    group.add_argument("--fresh", action="store_true", help="sandbox: start with an empty database")


def remove_db(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(str(path) + suffix).unlink(missing_ok=True)


def main(args: argparse.Namespace) -> int:
    """`python -m bot sandbox [--script FILE] [--db PATH] [--fresh]`."""
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")
    db_path: Path = args.db or DEFAULT_DB
    if args.fresh:
        remove_db(db_path)
    ansi = sys.stdout.isatty()
    script = args.script
    if script is None and not sys.stdin.isatty():
        script = "-"  # piped input: play it like a script
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
