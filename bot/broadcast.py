"""The broadcast sender: news from the agency chat to its subscribers.

One broadcast at a time, one message per recipient, in user-id order:
- a text goes as sendMessage with its entities and the /unsubscribe line appended; a photo,
  video, GIF, document, audio or voice note goes as copyMessage from the agency chat with the
  line appended to its caption;
- at most BROADCAST_RATE messages a second (25 by default; Telegram allows ~30 in all);
- 429: every send waits `retry_after` and the message is sent again; network errors and 5xx
  are retried a few times with back-off, then the recipient counts as failed;
- 403 (blocked, deactivated): the user is marked inactive (nothing proactive is sent to them
  again) and counted as blocked; any other refusal counts as failed;
- each recipient's state is written as soon as it is known, so after a restart the broadcast
  goes on with the recipients still pending (a message sent just before a crash, whose state
  was not yet written, may reach its recipient twice);
- the progress message in the agency chat is edited every few seconds (best effort); the final
  report also goes through the outbox, so it is never lost.

Logs carry broadcast ids and counts only.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import InlineKeyboardMarkup, LinkPreviewOptions, MessageEntity

from bot.jobs import PeriodicJob
from bot.settings import Settings
from bot.texts import agency as t
from storage.broadcast import Broadcast, BroadcastRepo
from storage.outbox import OutboxRepo
from storage.users import UsersRepo

log = logging.getLogger(__name__)

BATCH = 50  # recipients per page; a stop request is seen between pages (2 s at 25/s)
PROGRESS_EVERY = 5.0  # seconds between edits of the progress message
NETWORK_ATTEMPTS = 5  # per recipient: 1, 2, 4, 8 s apart
RETRY_AFTER_ATTEMPTS = 20  # 429s honoured per recipient before it counts as failed
IDLE = 60.0
STOP_GRACE = 10.0
SOURCE_GONE = ("message to copy not found", "message_id_invalid")


class SourceGone(Exception):
    """The agency chat's message being copied was deleted: the broadcast cannot go on."""


class Pacer:
    """At most `rate` calls in any second, for every caller together: calls are spaced 1/rate
    apart, and no call starts while `rate` others started within the last second (plus a margin
    for the network's jitter). `hold(s)` makes every call wait. A wait ends early when `stop` is
    set (then wait() returns False)."""

    MARGIN = 0.05

    def __init__(self, rate: float, job: PeriodicJob) -> None:
        self.interval = 1.0 / rate
        self.job = job
        self._next = 0.0
        self._recent: deque[float] = deque(maxlen=max(1, int(rate)))

    async def wait(self) -> bool:
        while True:
            now = time.monotonic()
            due = self._next
            if len(self._recent) == self._recent.maxlen:
                due = max(due, self._recent[0] + 1.0 + self.MARGIN)
            if due <= now:
                break
            if not await self.job.pause(due - now):
                return False
        now = time.monotonic()
        self._recent.append(now)
        self._next = now + self.interval
        return True

    def hold(self, seconds: float) -> None:
        self._next = max(self._next, time.monotonic() + seconds)


def entities_of(raw: Any) -> list[MessageEntity] | None:
    return [MessageEntity(**e) for e in raw] if raw else None


def with_unsubscribe(text: str, raw_entities: Any) -> tuple[str, list[MessageEntity]]:
    """The text with the /unsubscribe line appended, and entities marking the command."""
    line = t.UNSUBSCRIBE_LINE if text else t.UNSUBSCRIBE_LINE.lstrip("\n")
    full = text + line
    command = "/unsubscribe"
    offset = len(full[: full.rindex(command)].encode("utf-16-le")) // 2
    entities = entities_of(raw_entities) or []
    entities.append(MessageEntity(type="bot_command", offset=offset, length=len(command)))
    return full, entities


class Broadcaster:
    def __init__(
        self, repo: BroadcastRepo, users: UsersRepo, outbox: OutboxRepo, settings: Settings,
        *, stop_markup: Callable[[int], InlineKeyboardMarkup | None] = lambda _id: None,
    ) -> None:
        self.repo = repo
        self.users = users
        self.outbox = outbox
        self.settings = settings
        self.stop_markup = stop_markup
        self._job = PeriodicJob("broadcast", IDLE, stop_grace=STOP_GRACE)
        self.pacer = Pacer(settings.broadcast_rate, self._job)
        self.paused_until = 0.0  # monotonic: a 429's retry_after (shown in the progress message)

    # --- control ---------------------------------------------------------------------
    def kick(self) -> None:
        self._job.wake()

    def start(self, bot: Bot) -> None:
        async def step() -> None:
            await self.run_pending(bot)

        self._job.start(step)

    def halt(self) -> None:
        """Asks the sending to end after the recipient in flight (what stop() does first)."""
        self._job.halt()

    async def stop(self) -> None:
        """Ends the sending between two recipients (the one in flight is sent and recorded
        first); the broadcast goes on at the next start."""
        await self._job.stop()

    async def run_pending(self, bot: Bot) -> Broadcast | None:
        """Sends the running broadcast (or closes one the agency stopped) to the end."""
        b = await self.repo.running() or await self.repo.unfinished_stop()
        if b is None:
            return None
        return await self.send(bot, b)

    # --- one broadcast ---------------------------------------------------------------
    async def send(self, bot: Bot, b: Broadcast) -> Broadcast | None:
        log.info("broadcast %d: sending to %d recipients", b.id, b.total)
        last_progress = 0.0
        after = 0
        how = "done"
        try:
            while not self._job.stopping:
                if await self.repo.status(b.id) != "running":
                    how = "stopped"
                    break
                batch = await self.repo.next_recipients(b.id, BATCH, after)
                if not batch:
                    break
                for user_id in batch:
                    state = await self._send_one(bot, b, user_id)
                    if state is None:
                        return None  # shutting down: resumed at the next start
                    await self.repo.mark(b.id, user_id, state)
                    if state == "blocked":
                        await self.users.mark_inactive(user_id)
                    if time.monotonic() - last_progress >= PROGRESS_EVERY:
                        last_progress = time.monotonic()
                        await self._progress(bot, b)
                    if self._job.stopping:
                        return None  # shutting down: resumed at the next start
                after = batch[-1]
        except SourceGone:
            how = "failed"
        if self._job.stopping:
            return None
        done = await self.repo.finish(b.id, how)
        if done is None:
            return None
        await self._report(bot, done, how)
        log.info("broadcast %d %s: %d sent, %d blocked, %d failed, %d skipped",
                 done.id, how, done.sent, done.blocked, done.failed, done.skipped)
        return done

    async def _send_one(self, bot: Bot, b: Broadcast, user_id: int) -> str | None:
        """Sends to one recipient: 'sent', 'blocked' or 'failed'; None if stopping meanwhile."""
        content = b.content or {}
        network_failures = retries = 0
        while True:
            if not await self.pacer.wait():
                return None
            try:
                if b.mode == "text":
                    text, entities = with_unsubscribe(str(content.get("text") or ""), content.get("entities"))
                    preview = content.get("link_preview")
                    await bot.send_message(
                        chat_id=user_id, text=text, entities=entities, parse_mode=None,
                        link_preview_options=LinkPreviewOptions(**preview) if preview else None,
                    )
                else:
                    caption, entities = with_unsubscribe(str(content.get("caption") or ""), content.get("entities"))
                    await bot.copy_message(
                        chat_id=user_id, from_chat_id=b.from_chat_id, message_id=b.from_message_id,
                        caption=caption, caption_entities=entities, parse_mode=None,
                    )
                return "sent"
            except TelegramRetryAfter as exc:
                retries += 1
                self.pacer.hold(exc.retry_after)
                self.paused_until = time.monotonic() + exc.retry_after
                log.warning("broadcast %d: flood control, every send waits %d s", b.id, exc.retry_after)
                if retries >= RETRY_AFTER_ATTEMPTS:
                    return "failed"
            except TelegramForbiddenError:
                return "blocked"
            except TelegramBadRequest as exc:
                if any(s in exc.message.lower() for s in SOURCE_GONE):
                    raise SourceGone from None
                return "failed"
            except (TelegramNetworkError, TelegramServerError) as exc:
                network_failures += 1
                if network_failures >= NETWORK_ATTEMPTS:
                    log.warning("broadcast %d: %s, a recipient counts as failed", b.id, type(exc).__name__)
                    return "failed"
                self.pacer.hold(2.0 ** (network_failures - 1))
            except TelegramAPIError:
                return "failed"

    async def _progress(self, bot: Bot, b: Broadcast) -> None:
        if b.progress_chat_id is None or b.progress_message_id is None:
            return
        c = await self.repo.counts(b.id)
        text = t.BROADCAST_PROGRESS.format(
            id=b.id, done=c["sent"] + c["blocked"] + c["failed"], total=b.total,
            sent=c["sent"], blocked=c["blocked"], failed=c["failed"],
        )
        wait = self.paused_until - time.monotonic()
        if wait > 0:
            text += t.BROADCAST_PAUSED.format(seconds=int(wait + 0.999))
        with contextlib.suppress(TelegramAPIError):  # cosmetic: the report goes through the outbox
            await bot.edit_message_text(chat_id=b.progress_chat_id, message_id=b.progress_message_id, text=text,
                                        reply_markup=self.stop_markup(b.id))

    async def _report(self, bot: Bot, b: Broadcast, how: str) -> None:
        counts = {"total": b.total, "sent": b.sent, "blocked": b.blocked, "failed": b.failed, "skipped": b.skipped}
        if b.progress_chat_id is not None and b.progress_message_id is not None:
            text = t.BROADCAST_REPORT.format(id=b.id, how=t.BROADCAST_HOW[how], **counts)
            with contextlib.suppress(TelegramAPIError):
                await bot.edit_message_text(chat_id=b.progress_chat_id, message_id=b.progress_message_id, text=text)
        await self.outbox.add("notice", payload={"notice": "broadcast", "id": b.id, "how": how, **counts})
