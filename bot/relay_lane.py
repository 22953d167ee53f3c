"""The private lane of the outbox: what the bot sends to prospects on the agency's behalf.

- relay_out: a manager's message, copied from the agency chat with copyMessage (text, photo,
  document, voice, video, sticker, animation, video note ...), with a "Завершить диалог" button
  while a conversation is open; under the first one of a conversation, a line saying what the
  manager will see of a reply. Delivered -> a "доставлено" line for the agency; refused -> a
  "не доставлено: ..." line saying why.
- prospect_note: a short service text (the ban notice).

It runs next to the agency lane (bot/delivery.py) in its own loop, so the agency chat's pacing
(AGENCY_SEND_INTERVAL) and its pauses never hold a reply back, nor a prospect's 429 a lead card.

ERROR POLICY (per entry):
- TelegramRetryAfter            -> retry after exactly `retry_after` s; the lane pauses that long.
- TelegramNetworkError / 5xx    -> retry after 1, 2, 4 ... 30 s; the lane pauses by consecutive
                                   failures (same curve). A copy whose answer was lost may arrive twice.
- TelegramForbiddenError        -> the prospect blocked the bot: cancelled, the conversation ends,
                                   the user is marked inactive, the agency is told.
- "chat not found", "message to copy not found", other Bad Request -> cancelled, the agency is
                                   told why (the manager's message stays in the chat to resend).
- anything else                 -> retry every 10 min, ERROR log with the class name.
Pacing: at least 1 s between sends to one prospect (later entries for them wait, in order) and
1/30 s between any two sends of this lane. Logs: outbox ids, kinds and error class names only.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

import aiosqlite
from aiogram import Bot
from aiogram.enums import ParseMode
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, ReplyParameters

from bot.followups import Cancel, entry_payload
from bot.jobs import PeriodicJob
from bot.texts import relay as texts
from storage.outbox import OutboxRepo
from storage.relay import BANNED, RelayRepo
from storage.users import UsersRepo

log = logging.getLogger("bot.delivery.private")

BATCH_SIZE = 20
BACKOFF_CAP = 30.0
SLOW_RETRY = 600.0
MAX_IDLE = 60.0
LOOP_ERROR_PAUSE = 5.0
PER_CHAT_INTERVAL = 1.0  # Telegram: about one message a second in one chat
GLOBAL_INTERVAL = 1 / 30  # and about 30 a second overall
NOTE_DELAY = 2.0  # "доставлено" waits this long: the next message of a burst (1 s later) takes it over
PACED = "paced"  # last_error of an entry waiting for its chat's 1-second slot


def backoff(attempts: int) -> float:
    return min(BACKOFF_CAP, 2.0 ** min(max(attempts, 0), 30))


def end_keyboard(callback_data: Any) -> InlineKeyboardMarkup | None:
    """The "Завершить диалог" button (its callback data was packed when the entry was queued)."""
    if not isinstance(callback_data, str) or not callback_data:
        return None
    button = InlineKeyboardButton(text=texts.BTN_END, callback_data=callback_data)
    return InlineKeyboardMarkup(inline_keyboard=[[button]])


class PrivateLane:
    def __init__(
        self, outbox: OutboxRepo, relay: RelayRepo, users: UsersRepo,
        *, batch_size: int = BATCH_SIZE,
    ) -> None:
        self.outbox = outbox
        self.relay = relay
        self.users = users
        self.batch_size = batch_size
        self.note_delay = NOTE_DELAY  # the sandbox shows the note at once (0)
        self.paused_until = 0.0  # wall clock
        self._net_failures = 0
        self._chat_free_at: dict[int, float] = {}  # when a prospect's chat may get the next send (run's clock)
        self._last_call: float | None = None  # monotonic
        self._job = PeriodicJob("outbox-private", MAX_IDLE, error_pause=LOOP_ERROR_PAUSE)

    # --- control ---------------------------------------------------------------------
    def notify(self) -> None:
        self._job.wake()

    def start(self, bot: Bot) -> asyncio.Task[None]:
        async def step() -> float:
            return await self._idle_delay(await self.run_once(bot))

        return self._job.start(step)

    async def stop(self) -> None:
        await self._job.stop()

    async def _idle_delay(self, attempted: int) -> float:
        now = time.time()
        next_at = await self.outbox.next_due_at(lane="private")
        target = now + MAX_IDLE if next_at is None else next_at
        delay = min(max(target, self.paused_until) - now, MAX_IDLE)
        return max(delay, 0.0 if attempted else 0.05)

    # --- one run ---------------------------------------------------------------------
    async def run_once(self, bot: Bot, now: float | None = None) -> int:
        """Every due private entry once, oldest first; returns how many were attempted."""

        def clock() -> float:
            return time.time() if now is None else now

        if self.paused_until > clock():
            return 0
        attempted = 0
        seen: set[int] = set()
        while not self._job.stopping:
            batch = [r for r in await self.outbox.due(clock(), self.batch_size, lane="private") if r["id"] not in seen]
            if not batch:
                break
            for item in batch:
                if self._job.stopping:
                    break
                seen.add(item["id"])
                chat = item["user_id"]
                free_at = self._chat_free_at.get(chat, 0.0) if chat is not None else 0.0
                if free_at > clock():  # this prospect got a message under a second ago: wait, in order
                    await self.outbox.defer(item["id"], free_at, PACED)
                    continue
                attempted += 1
                if not await self._deliver(bot, item, clock):
                    return attempted
        return attempted

    async def _pace(self) -> None:
        if self._last_call is not None:
            wait = self._last_call + GLOBAL_INTERVAL - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
        self._last_call = time.monotonic()

    async def _deliver(self, bot: Bot, item: aiosqlite.Row, clock: Callable[[], float]) -> bool:
        """One entry; False when the lane must pause (flood control, network)."""
        item_id, kind = item["id"], item["kind"]
        try:
            if kind == "relay_out":
                await self._relay_out(bot, item, clock)
            elif kind == "prospect_note":
                await self._prospect_note(bot, item, clock)
            else:
                raise Cancel("unknown_kind")
        except Cancel as c:
            await self.outbox.cancel(item_id, c.reason)
            log.info("outbox %d (%s) cancelled: %s", item_id, kind, c.reason)
        except TelegramRetryAfter as exc:
            t, delay = clock(), float(exc.retry_after)
            await self.outbox.reschedule(item_id, delay, "TelegramRetryAfter", now=t)
            self.paused_until = max(self.paused_until, t + delay)
            log.warning("outbox %d (%s): flood control, private sends wait %.0f s", item_id, kind, delay)
            return False
        except (TelegramNetworkError, TelegramServerError) as exc:
            t = clock()
            await self.outbox.reschedule(item_id, backoff(item["attempts"]), type(exc).__name__, now=t)
            self._net_failures += 1
            self.paused_until = max(self.paused_until, t + backoff(self._net_failures - 1))
            log.warning("outbox %d (%s): %s, retrying", item_id, kind, type(exc).__name__)
            return False
        except TelegramForbiddenError:
            await self._refused(item, "blocked", end=True)
            await self.users.mark_inactive(item["user_id"])
        except TelegramBadRequest as exc:
            description = exc.message.lower()
            if "chat not found" in description or "user not found" in description:
                reason = "unavailable"
            elif "message to copy not found" in description or "message_id_invalid" in description:
                reason = "gone"
            else:
                reason = "failed"
            await self._refused(item, reason, end=reason == "unavailable")
        except (aiosqlite.Error, asyncio.CancelledError):
            raise
        except Exception as exc:  # noqa: BLE001 - TelegramAPIError we do not know, a bug: keep it
            await self.outbox.reschedule(item_id, SLOW_RETRY, type(exc).__name__, now=clock())
            log.error("outbox %d (%s): %s, kept queued, retry in %.0f s", item_id, kind, type(exc).__name__,
                      SLOW_RETRY)
        else:
            self._net_failures = 0
        return True

    async def _refused(self, item: aiosqlite.Row, reason: str, *, end: bool) -> None:
        if item["kind"] != "relay_out":
            await self.outbox.cancel(item["id"], reason)
            return
        payload = entry_payload(item)
        note = {"status": reason, "chat_id": payload.get("from_chat_id"), "reply_to": payload.get("message_id")}
        await self.relay.out_failed(item, reason, note, end=end)
        log.info("outbox %d (relay_out) not delivered: %s", item["id"], reason)

    # --- the sends -------------------------------------------------------------------
    async def _relay_out(self, bot: Bot, item: aiosqlite.Row, clock: Callable[[], float]) -> None:
        payload = entry_payload(item)
        user_id = item["user_id"]
        source_chat, source_id = payload.get("from_chat_id"), payload.get("message_id")
        if not isinstance(user_id, int) or not isinstance(source_chat, int) or not isinstance(source_id, int):
            raise Cancel("bad_payload")
        copy_id = payload.get("copy_id")
        if not isinstance(copy_id, int):
            reply = payload.get("reply_to")
            await self._pace()
            result = await bot.copy_message(
                chat_id=user_id, from_chat_id=source_chat, message_id=source_id,
                reply_markup=end_keyboard(payload.get("end")),
                reply_parameters=ReplyParameters(message_id=reply, allow_sending_without_reply=True)
                if isinstance(reply, int) else None,
            )
            copy_id = int(result.message_id)
            self._chat_free_at[user_id] = clock() + PER_CHAT_INTERVAL
            if payload.get("intro"):
                await self.relay.save_progress(item["id"], {**payload, "copy_id": copy_id})
        intro = payload.get("intro")
        if isinstance(intro, str) and intro:
            await self._pace()
            await bot.send_message(user_id, intro, parse_mode=ParseMode.HTML)
            self._chat_free_at[user_id] = clock() + PER_CHAT_INTERVAL
        note = {"status": "ok", "chat_id": source_chat, "reply_to": source_id}
        conversation = payload.get("conv")
        await self.relay.out_delivered(item, copy_id, note, conversation if isinstance(conversation, int) else None,
                                       clock() + self.note_delay)

    async def _prospect_note(self, bot: Bot, item: aiosqlite.Row, clock: Callable[[], float]) -> None:
        payload = entry_payload(item)
        user_id = item["user_id"]
        if payload.get("note") != BANNED or not isinstance(user_id, int):
            raise Cancel("bad_payload")
        await self._pace()
        msg = await bot.send_message(user_id, texts.BANNED)
        self._chat_free_at[user_id] = clock() + PER_CHAT_INTERVAL
        await self.outbox.mark_sent(item, user_id, msg.message_id)
