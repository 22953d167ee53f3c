"""The sandbox session: the real bot against the in-process stand-in, fed one input at a time.

Inputs: a prospect's text, a button number, `agency: ...` (a message in the agency chat, or
`agency: reply N text`, a Reply to agency message N), and `:commands` (media, another prospect,
the clock). Every setting is fixed here; `.env` and the environment are never read.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from aiogram import Bot, Dispatcher

from bot.app import Services, create_bot, create_dispatcher, set_commands
from bot.clock import Clock
from bot.sandbox.render import Renderer, Style, html_to_text
from bot.settings import Settings
from bot.standin import BOT_USER, BotAPIStandIn, Call

# Fixed fakes: nothing here can reach Telegram (the API URL is the local stand-in).
TOKEN = f"{BOT_USER['id']}:SANDBOX-not-a-real-token"  # the stand-in's getMe answers the same id
AGENCY_CHAT_ID = -1000000000001
AGENCY_CHAT = {"id": AGENCY_CHAT_ID, "type": "supergroup", "title": "kosmmos — заявки (песочница)"}
USER_BASE = 700000
USER_ID = USER_BASE + 1
USER_USERNAME = "ivan_sandbox"
USER_PHONE = "79161234567"  # what the "share my number" button sends (Telegram omits the "+")
NAMES = ("Иван", "Мария", "Олег", "Анна", "Сергей", "Екатерина", "Дмитрий", "Ольга", "Артём", "Наталья")
MEMBER_ID, MEMBER_NAME, MEMBER_USERNAME = 710001, "Дарья", "kosmmos_manager"

PACING = 2.0  # an outbox entry due within this many seconds is waited for
QUIET = 0.05  # the bot is done when it made no API call for this long and the outbox is drained
STEP_TIMEOUT = 30.0  # a step that retrains the FAQ takes a few seconds
POLL = 0.02
TELEGRAM_MAX = 4096  # longer input is sent in parts, as Telegram splits a long paste
AGENCY_PREFIXES = ("agency:", "агентство:")
MEDIA = {"photo": "photo", "voice": "voice", "sticker": "sticker", "document": "document",
         "фото": "photo", "голос": "voice", "стикер": "sticker", "файл": "document"}
UNITS = {"s": 1, "с": 1, "m": 60, "м": 60, "h": 3600, "ч": 3600, "d": 86400, "д": 86400}
COMMANDS_HELP = ":photo [подпись]  :voice  :sticker  :document [имя]  :user N [@ник|-]  :clock +2h  :help  :quit"


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


@dataclass(frozen=True)
class Prospect:
    number: int
    name: str
    username: str | None

    @property
    def id(self) -> int:
        return USER_BASE + self.number

    @property
    def phone(self) -> str:
        return USER_PHONE if self.number == 1 else f"7916{self.number:07d}"

    @property
    def label(self) -> str:
        return f"клиент {self.number}"


def prospect(number: int, username: str | None = "") -> Prospect:
    """Prospect N (1 is Иван, @ivan_sandbox); username "" gives the default one, None none."""
    name = NAMES[(number - 1) % len(NAMES)]
    if username == "":
        username = USER_USERNAME if number == 1 else f"prospect{number}_sandbox"
    return Prospect(number, name, username)


def parse_duration(text: str) -> float | None:
    """"+2h", "30m", "+1d", "90s" -> seconds; None if it is not a duration."""
    match = re.fullmatch(r"\+?(\d+(?:[.,]\d+)?)\s*([a-zа-я]+)", text.strip().lower())
    if not match or match.group(2)[0] not in UNITS:
        return None
    return float(match.group(1).replace(",", ".")) * UNITS[match.group(2)[0]]


class Sandbox:
    def __init__(self, db_path: Path, out: TextIO, *, ansi: bool = False, hide_times: bool = False) -> None:
        self.db_path = db_path
        self.out = out
        self.style = Style(ansi)
        self.clock = Clock()
        self.user = prospect(1)
        self.prospects: dict[int, Prospect] = {1: self.user}
        self.labels: dict[int, str] = {}
        self.renderer = Renderer(self.style, prospect=self.user.id, agency_chat=AGENCY_CHAT_ID,
                                 hide_times=hide_times, labels=self.labels, lookup=self._held)
        self.api = BotAPIStandIn(TOKEN, per_chat_message_ids=True, clock=self.clock.time)
        self.pending: list[Call] = []
        self.last_call_at = time.monotonic()
        self.press_chat = self.user.id
        self.errors = 0
        self.quit = False
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
        self.dp = create_dispatcher(settings, clock=self.clock)
        self.services = self.dp["services"]
        self.services.delivery.private.note_delay = 0  # "доставлено" in the same step, not 2 s later
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

    # --- waiting and printing ---------------------------------------------------------
    async def _busy(self) -> bool:
        assert self.services is not None
        in_flight = self.services.in_flight
        if in_flight.count or (in_flight.last_update_id or 0) < self._last_update:
            return True
        if time.monotonic() - self.last_call_at < QUIET:
            return True
        if self.services.faq.busy:  # the FAQ retrains after "Добавить в FAQ": its notice is part of the step
            return True
        # Due now, or in a moment (a prospect's chat takes one message a second).
        next_at = await self.services.outbox.next_due_at()
        return next_at is not None and next_at <= time.time() + PACING

    async def settle(self, timeout: float = STEP_TIMEOUT) -> bool:
        """Waits until the update was handled, the outbox is drained and the bot is quiet."""
        deadline = time.monotonic() + timeout
        while await self._busy():
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(POLL)
        return True

    def flush(self) -> None:
        """Prints what the bot did since the last flush: the current prospect's chat first, then
        the agency chat, then other prospects (each in call order), so the transcript does not
        depend on timing."""
        calls, self.pending = self.pending, []

        def rank(call: Call) -> int:
            chat = call.params.get("chat_id")
            if call.method == "answerCallbackQuery":
                chat = self.press_chat
            return 0 if chat == self.user.id else 1 if chat == AGENCY_CHAT_ID else 2

        self.write(self.renderer.render(sorted(calls, key=rank), self.press_chat))

    def write(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.out.write(line + "\n")
        self.out.flush()

    def note(self, text: str) -> None:
        self.write([self.style.note(f"· {text}")])

    def fail(self, text: str) -> None:
        self.errors += 1
        self.note(text)

    # --- input -----------------------------------------------------------------------
    async def handle(self, line: str) -> None:
        """One input (text, a button number, `agency: ...`, `:command`); returns once the bot is quiet."""
        line = line.strip()
        if line.startswith(":"):
            await self.command(line[1:].strip())
            return
        update_id: int | None = None
        if line.lower().startswith(AGENCY_PREFIXES):
            update_id = self._agency(line.split(":", 1)[1].strip())
        elif re.fullmatch(r"\d{1,2}", line):
            update_id = self.press(int(line))
        else:
            update_id = self._say(line[1:] if line.startswith("\\") else line)
        if update_id is not None:
            await self.after_input(update_id)

    async def after_input(self, update_id: int | None) -> None:
        if update_id is not None:
            self._last_update = update_id
        if not await self.settle():
            self.flush()
            self.fail(f"бот не затих за {STEP_TIMEOUT:.0f} с")
            return
        self.flush()

    def _say(self, text: str) -> int:
        """A text from the current prospect; over 4,096 characters it goes in parts sent within
        one second, as Telegram splits a long paste."""
        self.press_chat = self.user.id
        parts = [text[i:i + TELEGRAM_MAX] for i in range(0, len(text), TELEGRAM_MAX)] or [text]
        if len(parts) > 1:
            self.note(f"длинный текст: {len(parts)} сообщения по правилам Telegram")
        date = int(self.clock.time())
        update_id = 0
        for part in parts:
            update_id = self.api.push_text(self.user.id, part, first_name=self.user.name,
                                           username=self.user.username, date=date)
        return update_id

    def _agency(self, text: str) -> int | None:
        if not text:
            self.fail("после «agency:» нужен текст, например agency: /stats")
            return None
        self.press_chat = AGENCY_CHAT_ID
        reply = re.fullmatch(r"(?is)(?:reply|ответ)\s+(\d+)\s+(.+)", text)
        reply_to = None
        if reply:
            message_id, text = int(reply.group(1)), reply.group(2).strip()
            reply_to = self._agency_message(message_id)
            if reply_to is None:
                self.fail(f"в чате агентства нет сообщения #{message_id}")
                return None
        media = re.fullmatch(r"(?is):(\w+)\s*(.*)", text)
        if media and media.group(1).lower() in MEDIA:  # agency: reply 3 :photo подпись
            kind, caption = MEDIA[media.group(1).lower()], media.group(2).strip() or None
            update_id = self.api.push_media(MEMBER_ID, kind, caption=caption if kind != "document" else None,
                                            first_name=MEMBER_NAME, username=MEMBER_USERNAME,
                                            file_name=caption or "презентация.pdf", chat=AGENCY_CHAT,
                                            reply_to=reply_to)
        else:
            update_id = self.api.push_text(MEMBER_ID, text, first_name=MEMBER_NAME, username=MEMBER_USERNAME,
                                           chat=AGENCY_CHAT, reply_to=reply_to)
        if not text.startswith("/"):  # its number, for a Reply to it (e.g. /broadcast)
            self.note(f"ваше сообщение #{self.api.last_message_id(AGENCY_CHAT_ID)} в чате агентства")
        return update_id

    def _held(self, chat_id: int, message_id: int) -> dict[str, Any] | None:
        return self.api.message(chat_id, message_id)

    def _agency_message(self, message_id: int) -> dict[str, Any] | None:
        """Message `message_id` in the agency chat (the bot's: a card, a relayed message, a line of
        the bot's; or the member's own), as a reply_to_message."""
        held = self.api.message(AGENCY_CHAT_ID, message_id)
        if held is None:
            return None
        sender = self.api.bot_user if held.get("bot") else {
            "id": MEMBER_ID, "is_bot": False, "first_name": MEMBER_NAME, "username": MEMBER_USERNAME}
        reply_to: dict[str, Any] = {"message_id": message_id, "date": int(self.clock.time()),
                                    "chat": AGENCY_CHAT, "from": sender}
        if held.get("media") is None:
            reply_to["text"] = html_to_text(str(held.get("text") or ""))
        else:
            if held.get("content") is not None:  # a member's media (what /broadcast looks at)
                reply_to[str(held["media"])] = held["content"]
            if held.get("caption"):
                reply_to["caption"] = html_to_text(str(held["caption"]))
        return reply_to

    def press(self, number: int) -> int | None:
        button = self.renderer.numbers.get(number)
        if button is None:
            if self.renderer.numbers:
                self.fail(f"нет кнопки {number}: на экране кнопки {min(self.renderer.numbers)}–"
                          f"{max(self.renderer.numbers)} (отправить текст «{number}»: \\{number})")
            else:
                self.fail(f"нет кнопок на экране (отправить текст «{number}»: \\{number})")
            return None
        if button.url:
            self.note(f"ссылка {button.url} открылась бы в браузере")
            return None
        if button.message_id is None:  # the reply keyboard
            self.press_chat = self.user.id
            if button.contact:
                self.note(f"отправлен ваш контакт: +{self.user.phone}")
                return self.api.push_contact(self.user.id, self.user.phone, self.user.id, first_name=self.user.name)
            return self.api.push_text(self.user.id, button.text, first_name=self.user.name,
                                      username=self.user.username)
        if button.callback_data is None:
            self.note("эта кнопка ничего не отправляет боту")
            return None
        self.press_chat = button.chat_id
        if button.chat_id == AGENCY_CHAT_ID:
            return self.api.push_callback(MEMBER_ID, button.callback_data, button.message_id,
                                          first_name=MEMBER_NAME, username=MEMBER_USERNAME, chat=AGENCY_CHAT)
        owner = next((p for p in self.prospects.values() if p.id == button.chat_id), self.user)
        return self.api.push_callback(owner.id, button.callback_data, button.message_id,
                                      first_name=owner.name, username=owner.username)

    # --- :commands -------------------------------------------------------------------
    async def command(self, text: str) -> None:
        name, _, rest = text.partition(" ")
        name, rest = name.lower(), rest.strip()
        if name in MEDIA:
            self.press_chat = self.user.id
            kind = MEDIA[name]
            update_id = self.api.push_media(self.user.id, kind, caption=rest if kind != "document" else None,
                                            first_name=self.user.name, username=self.user.username,
                                            file_name=rest or "презентация.pdf")
            await self.after_input(update_id)
        elif name in ("user", "клиент"):
            self.switch_user(rest)
        elif name in ("clock", "часы"):
            await self.move_clock(rest)
        elif name in ("help", "h", "?"):
            self.note(COMMANDS_HELP)
        elif name in ("quit", "q", "exit"):
            self.quit = True
        else:
            self.fail(f"неизвестная команда «:{name}». Команды: {COMMANDS_HELP}")

    def switch_user(self, args: str) -> None:
        parts = args.split()
        if not parts or not parts[0].isdigit() or not 1 <= int(parts[0]) <= 99:
            self.fail("нужен номер клиента от 1 до 99: :user 2, :user 3 @olga, :user 4 - (без ника)")
            return
        number = int(parts[0])
        username: str | None = ""
        if len(parts) > 1:
            username = None if parts[1] == "-" else parts[1].lstrip("@")[:32] or None
        current = self.prospects.get(number)
        if current is None or len(parts) > 1:
            current = prospect(number, username)
            self.prospects[number] = current
        self.user = current
        self.labels.update({p.id: p.label for p in self.prospects.values()})
        self.renderer.prospect = current.id
        self.press_chat = current.id
        self.renderer.numbers = {}
        nick = f"@{current.username}" if current.username else "без ника"
        self.note(f"теперь вы — клиент {number}: {current.name}, {nick}")

    async def move_clock(self, args: str) -> None:
        """Moves the bot's clock on, then runs what the bot does by the clock (reminders, draft
        expiry, retention) at once instead of at its next tick."""
        seconds = parse_duration(args)
        if seconds is None:
            self.fail("укажите, на сколько перевести часы: :clock +2h, :clock 30m, :clock +8d")
            return
        assert self.services is not None and self.bot is not None
        self.clock.advance(seconds)
        self.note(f"часы бота переведены вперёд на {args.lstrip('+')}")
        await self.services.maintenance.tick(self.bot)
        await self.services.retention.purge(self.clock.time())
        await self.after_input(None)

    def describe(self, line: str) -> str:
        """The echo of an input: a pressed button is named."""
        stripped = line.strip()
        if re.fullmatch(r"\d{1,2}", stripped):
            button = self.renderer.numbers.get(int(stripped))
            if button is not None:
                return f"> {stripped}  → {button.text}"
        if len(stripped) > 300:
            return f"> {stripped[:300]}… ({len(stripped)} символов)"
        return f"> {stripped}"
