"""The outbox worker: the only code that sends to the agency chat.

Every entry in the `outbox` table is delivered at least once. Nothing is dropped on an error:
failures are rescheduled (see ERROR POLICY below); only entries that no longer make sense are
cancelled (the lead was erased before its card went out, the card to edit was never delivered
or can no longer be edited).

Second copies: a send whose answer was lost after the request went out (bot/copies.py tells
these errors from the ones where Telegram surely saw nothing) may have been posted. The entry
is resent all the same and the uncertain attempt is counted in `outbox.uncertain`. Once the
resend is accepted, the worker probes the message ids between the last message it knew in the
chat and the new one, skipping every id it knows as its own: it edits each to the exact text
of the lost attempt. Other people's and service messages refuse the edit; the lost copy
answers "message is not modified" (or, a lost copy of another entry, is edited): it is then
queued as a `dup_cleanup`, deleted (or, after 48 h, edited to a short "дубликат" note). A copy
found later by a Reply or a button press in the agency chat (handlers/chat_member.py) is
removed the same way. A second copy nobody could find is named in the withdrawal notice.

Logs carry outbox/lead ids, entry kinds and error class names only: never a message text,
never a Telegram error description (it may quote user input), never personal data.

ERROR POLICY (per entry; "pause" = the whole worker waits, all sends share the chat):
- TelegramRetryAfter            -> retry after exactly `retry_after` s; pause that long.
- TelegramNetworkError / 5xx    -> retry after 1, 2, 4 ... 30 s (by the entry's attempts);
                                   pause by consecutive network failures (same curve), so the
                                   network is probed at least every 30 s during an outage.
- TelegramMigrateToChat         -> AgencyChat.migrate(new id), resend at once (same run);
                                   a card_edit is cancelled instead (the card stayed behind in
                                   the old group; its message id means nothing in the new one).
- TelegramForbiddenError,
  "chat not found"              -> held: retry every 10 min; pause 10 min; one ERROR log per
                                   hour. The bot re-added to the chat (resume()) and a restart
                                   make every held entry due at once.
- card_edit/question_edit: "not modified" -> done (marked sent).
- card_edit/question_edit: "message to edit not found" -> cancelled 'edit_gone' (the message
  is gone: nothing left to clean); "can't be edited" -> cancelled 'edit_impossible', and the
  card in a group that became a supergroup -> cancelled 'card_chat_migrated' (one WARNING).
- notice with `edits`           -> waits until those redactions are done, then says which
                                   cards were cleaned and which could not be.
- other TelegramBadRequest / TelegramAPIError / unexpected exception
                                -> retry every 10 min, ERROR log with the class name; the
                                   other entries go on.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiosqlite
from aiogram import Bot
from aiogram.enums import ParseMode
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import InlineKeyboardMarkup, Message
from aiogram.utils.backoff import Backoff, BackoffConfig

from bot.cards import render_lead_card, render_notice, render_question
from bot.copies import SentLog, maybe_delivered, outbox_send
from bot.followups import Cancel, CardButtons, Defer, FollowUps, Lost, Stopping, entry_payload
from bot.jobs import PeriodicJob
from bot.relay_lane import PrivateLane
from bot.relay_sends import RelaySends
from bot.settings import Settings
from storage.kv import AgencyChat
from storage.leads import LeadsRepo
from storage.outbox import OutboxRepo
from storage.relay import BANNED, NO_TIME, RelayRepo
from storage.users import UsersRepo
from storage.work import WorkRepo

log = logging.getLogger(__name__)

BATCH_SIZE = 20
# Network errors: 1, 2, 4 ... 30 s. An outage is probed at least every 30 s: delivery resumes
# within 30 s of the network returning.
NETWORK_BACKOFF = BackoffConfig(min_delay=1.0, max_delay=30.0, factor=2.0, jitter=0.0)
BACKOFF_CAP = NETWORK_BACKOFF.max_delay
CHAT_RETRY = 600.0  # agency chat unreachable (bot removed, wrong id)
CHAT_LOG_PERIOD = 3600.0
SLOW_RETRY = 600.0  # other Bad Request / unexpected errors
MAX_IDLE = 60.0  # re-check the table at least this often
NO_PROGRESS_IDLE = 1.0  # floor of the idle delay when a run attempted nothing (no busy loop)
LOOP_ERROR_PAUSE = 5.0
MAX_MIGRATIONS = 3

SENDS = ("lead_card", "question", "notice")
RELAY_KINDS = ("relay_in", "relay_note", "relay_redact")  # bot/relay_sends.py


def backoff(attempts: int) -> float:
    """An entry's retry delay after `attempts` network failures, on NETWORK_BACKOFF's curve."""
    cfg = NETWORK_BACKOFF
    return min(cfg.max_delay, cfg.min_delay * cfg.factor ** min(max(attempts, 0), 30))


def is_chat_unavailable(exc: Exception) -> bool:
    if isinstance(exc, TelegramForbiddenError):
        return True
    return isinstance(exc, TelegramBadRequest) and "chat not found" in exc.message.lower()


class _Outcome(enum.Enum):
    SENT = "sent"
    DONE = "done"  # cancelled or rescheduled; go on with the next entry
    HALT = "halt"  # the worker is paused (flood control, network, chat unreachable, stopping)


class OutboxWorker(FollowUps, RelaySends):
    """The agency lane (this loop) and the private lane (bot/relay_lane.py, its own loop):
    notify(), start(), stop() and run_once() cover both."""

    def __init__(
        self, outbox: OutboxRepo, leads: LeadsRepo, agency_chat: AgencyChat, settings: Settings,
        *, batch_size: int = BATCH_SIZE, sent_log: SentLog | None = None, buttons: CardButtons | None = None,
    ) -> None:
        self.outbox = outbox
        self.buttons = buttons or CardButtons()
        self.work = WorkRepo(outbox.db, outbox)
        self.leads = leads
        self.agency_chat = agency_chat
        self.settings = settings
        self.batch_size = batch_size
        self.paused_until = 0.0  # wall clock; all sends wait until then
        self._outage = Backoff(NETWORK_BACKOFF)  # the whole worker's pause by consecutive failures
        self._chat_error_logged_at: float | None = None
        self._chat_unavailable = False
        self._last_call: float | None = None  # monotonic, for pacing
        self._attempted = 0
        self._job = PeriodicJob("delivery worker", MAX_IDLE, error_pause=LOOP_ERROR_PAUSE)
        self.sent_log = sent_log or SentLog()
        self._lost: dict[int, Lost] = {}  # outbox id -> its uncertain sends in this process
        self._target: tuple[int, int] | None = None  # (chat, highest known id) of the last call
        self._text: str | None = None  # text of the last send
        self._markup: InlineKeyboardMarkup | None = None  # its buttons
        self.relay = RelayRepo(outbox.db, outbox)
        self.private = PrivateLane(outbox, self.relay, UsersRepo(outbox.db))

    # --- control -------------------------------------------------------------------
    def notify(self) -> None:
        """Something was enqueued: wake the loops (does not override a pause)."""
        self._job.wake()
        self.private.notify()

    async def resume(self) -> int:
        """The agency chat is reachable again (the bot was added back): every entry held for it
        is due now, the pause is lifted and the loop woken. Returns how many were held."""
        released = await self.outbox.release_held(time.time())
        self.paused_until = 0.0
        self._job.wake()
        return released

    def start(self, bot: Bot) -> asyncio.Task[None]:
        task = self._job.start(self._step(bot))
        self.private.start(bot)
        return task

    async def run(self, bot: Bot) -> None:
        """Delivers until stop(): sleeps until the next due entry, a pause's end or notify().
        (The private lane runs only when started with start().)"""
        await self._job.run(self._step(bot))

    async def stop(self) -> None:
        """Ends the loops: an in-flight send is allowed to finish and be marked (STOP_GRACE)."""
        await self.private.stop()
        await self._job.stop()

    @property
    def stopped(self) -> bool:
        return self._job.stopping

    # --- the loop ------------------------------------------------------------------
    def _step(self, bot: Bot) -> Callable[[], Awaitable[float]]:
        first = True

        async def step() -> float:
            nonlocal first
            if first:
                self.sent_log.install(bot)
                # After a restart nothing waits for a 10-min retry planned by the previous process.
                if await self.outbox.release_held(time.time()):
                    log.info("delivery: entries held for the agency chat are due again")
                first = False
            await self.run_agency_once(bot)
            return await self._idle_delay()

        return step

    async def _idle_delay(self) -> float:
        now = time.time()
        next_at = await self.outbox.next_due_at(lane="agency")
        target = now + MAX_IDLE if next_at is None else next_at
        delay = min(max(target, self.paused_until) - now, MAX_IDLE)
        if self._attempted == 0:
            delay = max(delay, NO_PROGRESS_IDLE)
        return max(delay, 0.0)

    async def run_once(self, bot: Bot, now: float | None = None) -> int:
        """Both lanes once (the loops run each on its own): every due entry, oldest first.
        Returns how many the agency lane got accepted. `now` fixes the clock (tests)."""
        sent = await self.run_agency_once(bot, now)
        await self.private.run_once(bot, now)
        return sent

    async def run_agency_once(self, bot: Bot, now: float | None = None) -> int:
        """Processes every due agency-chat entry once, oldest first; returns how many Telegram
        accepted. `now` fixes the clock for this run (tests); by default the wall clock is used."""

        def clock() -> float:
            return time.time() if now is None else now

        self._attempted = 0
        self.sent_log.install(bot)
        if self.paused_until > clock():
            return 0
        sent = 0
        seen: set[int] = set()
        while not self._job.stopping:
            batch = [r for r in await self.outbox.due(clock(), limit=self.batch_size, lane="agency")
                     if r["id"] not in seen]
            if not batch:
                break
            for item in batch:
                if self._job.stopping:
                    break
                seen.add(item["id"])
                self._attempted += 1
                outcome = await self._deliver(bot, item, clock)
                if outcome is _Outcome.SENT:
                    sent += 1
                elif outcome is _Outcome.HALT:
                    return sent
        return sent

    # --- one entry -----------------------------------------------------------------
    async def _deliver(self, bot: Bot, item: aiosqlite.Row, clock: Callable[[], float]) -> _Outcome:
        item_id, kind = item["id"], item["kind"]
        self._target, self._text, self._markup = None, None, None
        try:
            chat_id, message_id = await self._attempt(bot, item)
        except Stopping:
            return _Outcome.HALT
        except Defer as d:
            await self.outbox.defer(item_id, d.until, d.reason)
            return _Outcome.DONE
        except Cancel as c:
            await self.outbox.cancel(item_id, c.reason)
            log.info("outbox %d (%s) cancelled: %s", item_id, kind, c.reason)
            return _Outcome.DONE
        except TelegramRetryAfter as exc:
            t, delay = clock(), float(exc.retry_after)
            await self.outbox.reschedule(item_id, delay, "TelegramRetryAfter", now=t)
            self.paused_until = max(self.paused_until, t + delay)
            log.warning("outbox %d (%s): flood control, all sends wait %.0f s", item_id, kind, delay)
            return _Outcome.HALT
        except (TelegramNetworkError, TelegramServerError) as exc:
            t = clock()
            delay = backoff(item["attempts"])
            uncertain = kind in SENDS and self._text is not None and maybe_delivered(exc)
            if uncertain:
                self._note_lost(item_id)
            await self.outbox.reschedule(item_id, delay, type(exc).__name__, now=t, uncertain=uncertain)
            self.paused_until = max(self.paused_until, t + next(self._outage))
            log.warning("outbox %d (%s): %s%s, retry in %.0f s", item_id, kind, type(exc).__name__,
                        " (may have been delivered)" if uncertain else "", delay)
            return _Outcome.HALT
        except TelegramAPIError as exc:
            t = clock()
            if is_chat_unavailable(exc):
                await self.outbox.hold(item_id, CHAT_RETRY, type(exc).__name__, now=t)
                self.paused_until = max(self.paused_until, t + CHAT_RETRY)
                self._chat_unavailable = True
                self._log_chat_unavailable(exc, t)
                return _Outcome.HALT
            # Anything else (a Bad Request we do not know, a 401/404/409): keep it, retry slowly.
            await self.outbox.reschedule(item_id, SLOW_RETRY, type(exc).__name__, now=t)
            log.error("outbox %d (%s): %s, kept queued, retry in %.0f s",
                      item_id, kind, type(exc).__name__, SLOW_RETRY)
            return _Outcome.DONE
        except (aiosqlite.Error, asyncio.CancelledError):
            raise
        except Exception as exc:  # noqa: BLE001 - a rendering bug must not lose the entry
            await self.outbox.reschedule(item_id, SLOW_RETRY, type(exc).__name__, now=clock())
            log.error("outbox %d (%s): unexpected %s, kept queued, retry in %.0f s",
                      item_id, kind, type(exc).__name__, SLOW_RETRY)
            return _Outcome.DONE
        # Telegram accepted it: record that at once, even if we are being cancelled right now.
        await asyncio.shield(self._mark_sent(item, chat_id, message_id))
        self._outage.reset()
        if self._chat_unavailable:
            self._chat_unavailable = False
            log.info("agency chat reachable again")
        lost = self._lost.pop(item_id, None)
        if lost is not None and chat_id == lost.chat_id and message_id is not None:
            await self._probe(bot, item, lost, message_id)
        return _Outcome.SENT

    async def _mark_sent(self, item: aiosqlite.Row, chat_id: int | None, message_id: int | None) -> None:
        marked = await self.outbox.mark_sent(item, chat_id, message_id)
        if item["kind"] == "lead_card" and item["lead_id"] is not None:
            # Erased while its card was in flight: the eraser saw no card to redact, so we do it.
            lead = await self.leads.get(item["lead_id"])
            if lead is not None and lead.status != "active":
                await self.outbox.add("card_edit", lead_id=lead.id, user_id=lead.user_id)
        elif item["kind"] == "question" and not marked and chat_id is not None and message_id is not None:
            # Erased while in flight: the card is in the chat after all; redact it.
            await self.outbox.delivered_late(item["id"], chat_id, message_id)

    async def _attempt(self, bot: Bot, item: aiosqlite.Row) -> tuple[int | None, int | None]:
        kind = item["kind"]
        if kind in ("lead_card", "question") and item["user_id"] is not None \
                and await self.relay.is_banned(item["user_id"]):
            raise Defer(NO_TIME, BANNED)  # held until /unban (storage/relay.py releases it)
        if kind in RELAY_KINDS:
            return await self._relay_attempt(bot, item, entry_payload(item))
        if kind == "lead_card":
            lead = await self.leads.get(item["lead_id"]) if item["lead_id"] is not None else None
            if lead is None:
                raise Cancel("lead_missing")
            if lead.status != "active":
                raise Cancel("lead_erased")
            msg = await self._send(bot, render_lead_card(lead, self.settings), self.buttons.lead(lead))
            return msg.chat.id, msg.message_id
        if kind == "card_edit":
            return await self._edit_card(bot, item)
        if kind == "question_edit":
            return await self._edit_question(bot, item)
        if kind == "dup_cleanup":
            return await self._remove_copy(bot, item)
        if kind in ("question", "notice"):
            payload = entry_payload(item)
            markup = None
            if kind == "question":
                text, markup = render_question(payload, item["id"]), self.buttons.question(item["id"])
            else:
                text = render_notice(payload, item["lead_id"], await self._cleanup_of(payload))
            msg = await self._send(bot, text, markup)
            return msg.chat.id, msg.message_id
        raise Cancel("unknown_kind")

    async def _send(self, bot: Bot, text: str, markup: InlineKeyboardMarkup | None = None) -> Message:
        chat_id = await self.agency_chat.get()
        self._text, self._markup = text, markup
        return await self._call(
            lambda cid: bot.send_message(chat_id=cid, text=text, parse_mode=ParseMode.HTML, reply_markup=markup),
            chat_id,
        )

    async def _call(
        self, call: Callable[[int], Awaitable[Any]], chat_id: int, *, follow_migration: bool = True
    ) -> Any:
        """One API call to `chat_id`, paced; follows a group->supergroup migration at once."""
        for _ in range(MAX_MIGRATIONS):
            await self._pace()
            self._target = (chat_id, self.sent_log.highest(chat_id) or 0)
            try:
                with outbox_send():
                    return await call(chat_id)
            except TelegramMigrateToChat as exc:
                if not follow_migration:
                    raise
                chat_id = await self._migrated(chat_id, exc.migrate_to_chat_id)
            finally:
                self._last_call = time.monotonic()
        await self._pace()
        self._target = (chat_id, self.sent_log.highest(chat_id) or 0)
        try:
            with outbox_send():
                return await call(chat_id)
        finally:
            self._last_call = time.monotonic()

    async def _migrated(self, old_id: int, new_id: int) -> int:
        if old_id == await self.agency_chat.get():
            await self.agency_chat.migrate(new_id)
            log.warning("agency chat %d was upgraded to supergroup %d; sending there from now on",
                        old_id, new_id)
        return new_id

    async def _pace(self) -> None:
        """Telegram allows ~20 messages a minute in a group: keep AGENCY_SEND_INTERVAL between calls."""
        if self._job.stopping:
            raise Stopping
        interval = self.settings.agency_send_interval
        if interval <= 0 or self._last_call is None:
            return
        if not await self._job.pause(self._last_call + interval - time.monotonic()):
            raise Stopping

    def _log_chat_unavailable(self, exc: Exception, t: float) -> None:
        if self._chat_error_logged_at is not None and t - self._chat_error_logged_at < CHAT_LOG_PERIOD:
            log.debug("agency chat still unreachable (%s)", type(exc).__name__)
            return
        self._chat_error_logged_at = t
        configured = "is set" if self.settings.agency_chat_id else "is NOT set"
        log.error(
            "agency chat unreachable (%s): AGENCY_CHAT_ID %s; check that the bot is a member of "
            "that chat. Lead cards and questions stay queued; retrying every %.0f min.",
            type(exc).__name__, configured, CHAT_RETRY / 60,
        )
