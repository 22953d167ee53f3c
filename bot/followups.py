"""Follow-up work of the outbox worker on messages already in the agency chat: redacting
lead and question cards, reporting how the redactions ended (for the withdrawal notice), and
finding and removing second copies left by sends whose answer was lost (see bot/copies.py).

`FollowUps` is a mixin of bot.delivery.OutboxWorker: it uses the worker's paced `_call`.
The exceptions below are how an entry's attempt ends other than with a message."""

from __future__ import annotations

import contextlib
import json
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiosqlite
from aiogram import Bot
from aiogram.enums import ParseMode
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest, TelegramMigrateToChat
from aiogram.types import InlineKeyboardMarkup

from bot.agency_views import render_leads_list
from bot.cards import (
    Cleanup,
    lead_tag,
    question_tag,
    relay_cleaned_tag,
    relay_failed_tag,
    render_duplicate_note,
    render_lead_card,
    render_redacted_card,
    render_redacted_question,
)
from bot.copies import SentLog
from bot.settings import Settings
from storage.leads import Lead, LeadsRepo
from storage.outbox import WAITING_EDITS, OutboxRepo
from storage.relay import RelayRepo
from storage.work import WorkRepo

log = logging.getLogger("bot.delivery")

PROBE_MAX = 20  # message ids probed for a lost copy after one uncertain send
EDIT_GONE = ("message to edit not found", "message_id_invalid")
EDIT_IMPOSSIBLE = ("message can't be edited",)
DELETE_GONE = ("message to delete not found",)
DELETE_IMPOSSIBLE = ("message can't be deleted",)
NOT_MODIFIED = "message is not modified"
CLEANED = ("edit_gone",)  # cancelled redactions that leave nothing in the chat
# A card's first line, as Telegram returns the text (no markup): "#lead_12" or "#вопрос_7 ...".
CARD_TAG = re.compile(r"#lead_(\d{1,18})\n|#вопрос_(\d{1,18}) ")


class Cancel(Exception):
    """The entry no longer makes sense: cancelled with `reason`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Stopping(Exception):
    """The worker is stopping: the entry stays as it is."""


class Defer(Exception):
    """The entry waits (not an attempt) until `until`: for other entries, or for /unban."""

    def __init__(self, until: float, reason: str = WAITING_EDITS) -> None:
        super().__init__("deferred")
        self.until = until
        self.reason = reason


def entry_payload(item: aiosqlite.Row) -> dict[str, Any]:
    """The entry's JSON payload; Cancel if it has none or it is not an object."""
    if not item["payload"]:
        raise Cancel("no_payload")
    try:
        payload = json.loads(item["payload"])
    except ValueError:
        raise Cancel("bad_payload") from None
    if not isinstance(payload, dict):
        raise Cancel("bad_payload")
    return payload


def _no_buttons(*_args: Any) -> InlineKeyboardMarkup | None:
    return None


@dataclass
class CardButtons:
    """The inline keyboards of what the worker posts to the agency chat, built by the agency
    chat's handlers (they own the callback data): a lead card's status buttons, a question
    card's "add to FAQ" button, a /leads list's buttons. None: no keyboard (an erased lead)."""

    lead: Callable[[Lead], InlineKeyboardMarkup | None] = _no_buttons
    question: Callable[[int], InlineKeyboardMarkup | None] = _no_buttons
    leads_list: Callable[[list[Lead]], InlineKeyboardMarkup | None] = _no_buttons


class Lost:
    """An uncertain send of one entry in this process: where, above which known message id,
    and the exact text and buttons (the lost copy shows them)."""

    __slots__ = ("chat_id", "above", "text", "markup", "count")

    def __init__(self, chat_id: int, above: int, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
        self.chat_id, self.above, self.text, self.markup, self.count = chat_id, above, text, markup, 0


class FollowUps:
    outbox: OutboxRepo
    leads: LeadsRepo
    relay: RelayRepo
    work: WorkRepo
    buttons: CardButtons
    settings: Settings
    sent_log: SentLog
    _lost: dict[int, Lost]
    _target: tuple[int, int] | None
    _text: str | None
    _markup: InlineKeyboardMarkup | None

    async def _call(
        self, call: Callable[[int], Awaitable[Any]], chat_id: int, *, follow_migration: bool = True
    ) -> Any:
        raise NotImplementedError

    async def _migrated(self, old_id: int, new_id: int) -> int:
        raise NotImplementedError

    async def copy_seen(self, chat_id: int, message_id: int, text: str) -> bool:
        """A message of the bot's in the agency chat was replied to or its button pressed: if it
        is a card (its text starts with the card's tag) other than the recorded one, it is a
        second copy: removed (dup_cleanup). A copy of a card still queued (its answer was lost)
        becomes the card: recorded as delivered, so it is not sent again. True if it was a copy."""
        match = CARD_TAG.match(text)
        if match is None:
            return False
        if match.group(1) is not None:
            card = await self.outbox.lead_card(int(match.group(1)))
        else:
            card = await self.outbox.get(int(match.group(2)))
            if card is not None and card["kind"] != "question":
                card = None
        if card is None or (card["result_chat_id"], card["result_message_id"]) == (chat_id, message_id):
            return False
        if await self.work.is_view(chat_id, message_id):
            return False  # the card posted again on purpose (/lead N, a /leads button)
        if card["status"] == "pending":
            await self._mark_sent(card, chat_id, message_id)
            self._lost.pop(card["id"], None)
            log.info("outbox %d: its copy turned up in the chat; recorded as delivered", card["id"])
            return True
        if await self.outbox.add_duplicate_cleanup(card, chat_id, message_id) is not None:
            log.info("outbox %d: a second copy turned up in the chat; removing it", card["id"])
        return True

    async def _mark_sent(self, item: aiosqlite.Row, chat_id: int | None, message_id: int | None) -> None:
        raise NotImplementedError

    def _note_lost(self, item_id: int) -> None:
        if self._target is None or self._text is None:
            return
        chat_id, above = self._target
        lost = self._lost.get(item_id)
        if lost is None or lost.chat_id != chat_id:
            lost = self._lost[item_id] = Lost(chat_id, above, self._text, self._markup)
        lost.count += 1

    async def _cleanup_of(self, payload: dict[str, Any]) -> Cleanup | None:
        """For a notice about redactions: waits (Defer) while any is pending, then sorts the
        cards into cleaned / not cleaned, and names those that may have an unfound copy."""
        edit_ids = [i for i in payload.get("edits") or [] if isinstance(i, int)]
        if not edit_ids:
            return None
        edits = await self.outbox.get_many(edit_ids)
        pending = [e["next_attempt_at"] for e in edits if e["status"] == "pending"]
        if pending:
            raise Defer(min(pending))
        cleanup = Cleanup()
        messages = 0
        done: dict[str, bool] = {}  # tag -> every message of it cleaned (a card and its copies)
        for edit in edits:
            if edit["kind"] == "relay_redact":
                if edit["status"] == "sent" or edit["last_error"] in CLEANED:
                    messages += 1
                else:
                    place = await self.relay.link_place(edit["ref_id"]) if edit["ref_id"] is not None else None
                    cleanup.failed.append(relay_failed_tag(place))
                continue
            if edit["kind"] == "card_edit":
                tag = lead_tag(edit["lead_id"])
                card = await self.outbox.lead_card(edit["lead_id"]) if edit["lead_id"] is not None else None
            else:
                tag = question_tag(edit["ref_id"])
                card = await self.outbox.get(edit["ref_id"]) if edit["ref_id"] is not None else None
            ok = edit["status"] == "sent" or edit["last_error"] in CLEANED
            done[tag] = done.get(tag, True) and ok
            if card is not None and card["uncertain"] > card["duplicates"] and tag not in cleanup.maybe_twice:
                cleanup.maybe_twice.append(tag)
        for tag, ok in done.items():
            (cleanup.cleaned if ok else cleanup.failed).append(tag)
        if messages:
            cleanup.cleaned.append(relay_cleaned_tag(messages))
        return cleanup

    async def _edit(
        self, bot: Bot, chat_id: int, message_id: int, text: str, item: aiosqlite.Row, what: str,
        markup: InlineKeyboardMarkup | None = None,
    ) -> tuple[int, int]:
        """Edits one message of the bot's in place (its buttons become `markup`: none by
        default), never following a migration (the same id in the new supergroup is another
        message). Cancels the entry when the edit cannot happen."""
        try:
            await self._call(
                lambda cid: bot.edit_message_text(
                    chat_id=cid, message_id=message_id, text=text, parse_mode=ParseMode.HTML, reply_markup=markup,
                ),
                chat_id,
                follow_migration=False,
            )
        except TelegramMigrateToChat as exc:
            await self._migrated(chat_id, exc.migrate_to_chat_id)
            log.warning("outbox %d: %s is in a group that was upgraded to a supergroup, cannot be edited",
                        item["id"], what)
            raise Cancel("card_chat_migrated") from None
        except TelegramBadRequest as exc:
            description = exc.message.lower()
            if NOT_MODIFIED in description:
                return chat_id, message_id
            if any(s in description for s in EDIT_GONE):
                log.info("outbox %d: %s was deleted from the chat", item["id"], what)
                raise Cancel("edit_gone") from None
            if any(s in description for s in EDIT_IMPOSSIBLE):
                # The deletion in SQLite stands; only the chat copy could not be redacted.
                log.warning("outbox %d: %s could not be edited (%s), cancelled", item["id"], what,
                            type(exc).__name__)
                raise Cancel("edit_impossible") from None
            raise
        return chat_id, message_id

    async def _edit_card(self, bot: Bot, item: aiosqlite.Row) -> tuple[int | None, int | None]:
        """Renders a lead's card anew (its status, its data or the redaction) in the card, or in
        the message the payload names: a copy of the card, or a /leads list (`view: list`)."""
        lead = await self.leads.get(item["lead_id"]) if item["lead_id"] is not None else None
        if lead is None:
            raise Cancel("lead_missing")
        payload: dict[str, Any] = {}
        if item["payload"]:
            with contextlib.suppress(ValueError):
                loaded = json.loads(item["payload"])
                payload = loaded if isinstance(loaded, dict) else {}
        chat_id, message_id = lead.card_chat_id, lead.card_message_id
        if isinstance(payload.get("chat_id"), int) and isinstance(payload.get("message_id"), int):
            chat_id, message_id = payload["chat_id"], payload["message_id"]
        if chat_id is None or message_id is None:
            raise Cancel("card_not_delivered")
        markup = None
        if payload.get("view") == "list":
            shown = await self.work.list_view(chat_id, message_id)
            text, markup = render_leads_list(shown, self.settings), self.buttons.leads_list(shown)
            what = "a list"
        elif lead.status != "active":
            text, what = render_redacted_card(lead.id, str(payload.get("reason") or "withdrawal")), "a card"
        else:
            text, markup, what = render_lead_card(lead, self.settings), self.buttons.lead(lead), "a card"
        what = f"{what} of lead {lead.id}"
        return await self._edit(bot, chat_id, message_id, text, item, what, markup)

    async def _edit_question(self, bot: Bot, item: aiosqlite.Row) -> tuple[int | None, int | None]:
        question = await self.outbox.get(item["ref_id"]) if item["ref_id"] is not None else None
        if question is None or question["result_message_id"] is None:
            raise Cancel("card_not_delivered")
        reason = "withdrawal"
        if item["payload"]:
            with contextlib.suppress(ValueError, AttributeError):
                reason = json.loads(item["payload"]).get("reason", reason)
        text = render_redacted_question(question["id"], reason)
        return await self._edit(bot, question["result_chat_id"], question["result_message_id"], text, item,
                                f"question {question['id']} card")

    async def _remove_copy(self, bot: Bot, item: aiosqlite.Row) -> tuple[int | None, int | None]:
        """Deletes a second copy of a card; one older than Telegram's 48 h delete window is
        edited to a short note instead. Never touches the copy the outbox recorded as the card."""
        payload = entry_payload(item)
        card = await self.outbox.get(item["ref_id"]) if item["ref_id"] is not None else None
        chat_id, message_id = payload.get("chat_id"), payload.get("message_id")
        if card is None or not isinstance(chat_id, int) or not isinstance(message_id, int):
            raise Cancel("bad_payload")
        if (card["result_chat_id"], card["result_message_id"]) == (chat_id, message_id):
            raise Cancel("is_the_card")
        if not await self._delete(bot, chat_id, message_id, gone="copy_gone"):
            note = render_duplicate_note(card["kind"], card["lead_id"], card["id"])
            await self._edit(bot, chat_id, message_id, note, item, f"copy of outbox {card['id']}")
        await self.outbox.count_duplicate(card["id"])
        log.info("outbox %d: a second copy of outbox %d (%s) removed", item["id"], card["id"], card["kind"])
        return chat_id, message_id

    async def _delete(self, bot: Bot, chat_id: int, message_id: int, *, gone: str) -> bool:
        """Deletes a message of the bot's in the agency chat. False when Telegram no longer lets
        the bot delete it (48 h, not an admin); Cancel(`gone`) when it is gone already, and
        Cancel('card_chat_migrated') when the chat moved to a supergroup."""
        try:
            await self._call(lambda cid: bot.delete_message(chat_id=cid, message_id=message_id), chat_id,
                             follow_migration=False)
        except TelegramMigrateToChat:
            raise Cancel("card_chat_migrated") from None
        except TelegramBadRequest as exc:
            description = exc.message.lower()
            if any(s in description for s in DELETE_GONE):
                raise Cancel(gone) from None
            if any(s in description for s in DELETE_IMPOSSIBLE):
                return False
            raise
        return True

    @staticmethod
    def _probe_call(bot: Bot, message_id: int, lost: Lost) -> Callable[[int], Awaitable[Any]]:
        def call(chat_id: int) -> Awaitable[Any]:
            return bot.edit_message_text(chat_id=chat_id, message_id=message_id, text=lost.text,
                                         parse_mode=ParseMode.HTML, reply_markup=lost.markup)

        return call

    async def _probe(self, bot: Bot, item: aiosqlite.Row, lost: Lost, message_id: int) -> None:
        """Looks for the copies an uncertain send of `item` may have left (see the module
        docstring): ids between the last known message and the accepted one, minus those the
        bot knows as its own, edited to the lost attempt's exact text. Bounded: PROBE_MAX ids."""
        candidates = self.sent_log.unknown_between(lost.chat_id, lost.above, message_id)
        if candidates is None:
            log.info("outbox %d: %d uncertain send(s); a copy cannot be looked for (nothing known about "
                     "the chat before it)", item["id"], lost.count)
            return
        found = 0
        for candidate in candidates[:PROBE_MAX]:
            try:
                await self._call(self._probe_call(bot, candidate, lost), lost.chat_id, follow_migration=False)
            except TelegramBadRequest as exc:
                if NOT_MODIFIED not in exc.message.lower():
                    continue  # not the bot's message, a service message, or no message at all
                ours = True  # shows exactly the lost attempt's text: this entry's copy
            except Stopping:
                return
            except TelegramAPIError as exc:  # flood control, network, chat gone: stop here
                log.info("outbox %d: probe for a copy stopped (%s)", item["id"], type(exc).__name__)
                return
            else:
                ours = False  # the bot's and unaccounted for: a lost copy of another entry
            self.sent_log.record(lost.chat_id, candidate)  # accounted for: later probes skip it
            await self.outbox.add_duplicate_cleanup(item, lost.chat_id, candidate)
            if ours:
                found += 1
                if found >= lost.count:
                    break
        log.info("outbox %d: %d uncertain send(s), %d copies found among %d ids",
                 item["id"], lost.count, found, min(len(candidates), PROBE_MAX))

