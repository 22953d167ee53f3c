"""The agency chat: working leads — status buttons on the cards, /leads, /lead N, /export.

Card edits go through the outbox (its pacing and error handling); answers to a command or a
press (a list, a card posted again, a file) are sent at once. Every press and command here
comes from the agency chat (the parent router checks the chat id).
"""

from __future__ import annotations

import contextlib
import logging
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, FSInputFile, InaccessibleMessage, InlineKeyboardMarkup, Message

from bot.agency_views import lead_name, render_erased_lead, render_leads_list
from bot.cards import cut, render_lead_card
from bot.export import write_csv
from bot.followups import CardButtons
from bot.plural import days_ru
from bot.settings import Settings
from bot.texts import agency as t
from bot.texts import cards as card_texts
from handlers.callbacks import LeadOpenCb, LeadsPageCb, LeadStatusCb, TeachCb
from handlers.keyboards import button, grid, markup
from storage.leads import Lead, LeadsRepo
from storage.work import WORK_STATUSES, WorkRepo

log = logging.getLogger(__name__)

LIST_SIZE = 10
MAX_DAYS = 3650
BUTTON_NAME_CHARS = 18
# What /leads accepts after the command, lower-cased, "ё" as "е": codes and Russian words.
STATUS_WORDS = {
    "new": "new", "новые": "new", "новая": "new", "новый": "new",
    "work": "work", "в работе": "work", "работа": "work", "взять в работу": "work",
    "kp": "kp", "кп": "kp", "кп отправлено": "kp", "предложение": "kp",
    "success": "success", "успех": "success", "успешные": "success",
    "refused": "refused", "отказ": "refused", "отказы": "refused",
    "spam": "spam", "спам": "spam",
}


# --- keyboards (also given to the outbox worker for the cards it posts) ----------------------

def lead_markup(lead: Lead) -> InlineKeyboardMarkup | None:
    """A card's status buttons, the current status marked; none for an erased lead."""
    if lead.status != "active":
        return None
    current = lead.work.status if lead.work else "new"
    buttons = [
        button(card_texts.STATUS_CURRENT.format(label=label) if code == current else label,
               LeadStatusCb(lead=lead.id, s=code))
        for code, label in card_texts.STATUS_BUTTONS.items()
    ]
    return markup([buttons[:2], buttons[2:]])


def question_markup(question_id: int) -> InlineKeyboardMarkup:
    return markup([[button(card_texts.BTN_TEACH, TeachCb(src="q", id=question_id, a="s"))]])


def list_markup(leads: list[Lead], status: str | None = None, more: bool = False) -> InlineKeyboardMarkup | None:
    """A button per active lead of a list (posts its card), and "older" when there are more."""
    opens = [button(f"{lead.id} · {cut(lead_name(lead), BUTTON_NAME_CHARS) or t.LEADS_NO_NAME}",
                    LeadOpenCb(lead=lead.id)) for lead in leads if lead.status == "active"]
    rows = grid(opens, 2)
    if more and leads:
        rows.append([button(t.LEADS_MORE, LeadsPageCb(s=status or "all", before=leads[-1].id))])
    return markup(rows) if rows else None


def card_buttons() -> CardButtons:
    return CardButtons(lead=lead_markup, question=question_markup, leads_list=list_markup)


# --- statuses --------------------------------------------------------------------------------

async def on_status(query: CallbackQuery, callback_data: LeadStatusCb, work: WorkRepo) -> None:
    msg = query.message
    pressed = None if msg is None or isinstance(msg, InaccessibleMessage) else (msg.chat.id, msg.message_id)
    change = await work.set_status(callback_data.lead, callback_data.s, query.from_user.id,
                                   query.from_user.full_name, pressed)
    label = card_texts.STATUS_LABELS[callback_data.s]
    if change.outcome == "missing":
        await query.answer(t.LEAD_MISSING.format(id=callback_data.lead), show_alert=True)
    elif change.outcome == "erased":
        await query.answer(t.STATUS_ERASED.format(id=callback_data.lead), show_alert=True)
    elif change.outcome == "same":
        await query.answer(t.STATUS_SAME.format(status=label))
    else:
        log.info("lead %d: status %s set", callback_data.lead, callback_data.s)
        await query.answer(t.STATUS_SET.format(id=callback_data.lead, status=label))


# --- /leads, /lead N ----------------------------------------------------------------------------

def parse_status(args: str | None) -> tuple[bool, str | None]:
    """(understood, status code or None for all)."""
    words = " ".join((args or "").lower().replace("ё", "е").split())
    if not words:
        return True, None
    code = STATUS_WORDS.get(words)
    return code is not None, code


async def show_list(bot: Bot, chat_id: int, work: WorkRepo, settings: Settings, status: str | None,
                    before: int | None = None) -> None:
    leads = await work.recent(status, LIST_SIZE + 1, before)
    more, leads = len(leads) > LIST_SIZE, leads[:LIST_SIZE]
    if not leads:
        label = card_texts.STATUS_LABELS.get(status or "", "")
        await bot.send_message(chat_id, t.LEADS_EMPTY_STATUS.format(status=label) if status else t.LEADS_EMPTY)
        return
    title = t.LEADS_TITLE_STATUS.format(status=card_texts.STATUS_LABELS[status]) if status else t.LEADS_TITLE
    footer = t.LEADS_FOOTER.format(total=await work.count(status))
    sent = await bot.send_message(chat_id, render_leads_list(leads, settings, title, footer),
                                  reply_markup=list_markup(leads, status, more))
    await work.record_view("list", sent.chat.id, sent.message_id, [lead.id for lead in leads])


async def cmd_leads(message: Message, command: CommandObject, bot: Bot, work: WorkRepo, settings: Settings) -> None:
    understood, status = parse_status(command.args)
    if not understood:
        names = ", ".join(card_texts.STATUS_LABELS[c].split(" ", 1)[1].lower() for c in WORK_STATUSES)
        await message.answer(t.LEADS_BAD_STATUS.format(statuses=names))
        return
    await show_list(bot, message.chat.id, work, settings, status)


async def on_leads_page(query: CallbackQuery, callback_data: LeadsPageCb, bot: Bot, work: WorkRepo,
                        settings: Settings) -> None:
    await query.answer()
    status = None if callback_data.s == "all" else callback_data.s
    if query.message is not None:
        await show_list(bot, query.message.chat.id, work, settings, status, callback_data.before)


async def post_card(bot: Bot, chat_id: int, lead_id: int, leads: LeadsRepo, work: WorkRepo,
                    settings: Settings) -> None:
    """The lead's card again, with its buttons (an erased lead: only its number, status and
    when its data was erased)."""
    lead = await leads.get(lead_id)
    if lead is None:
        await bot.send_message(chat_id, t.LEAD_MISSING.format(id=lead_id))
        return
    if lead.status != "active":
        await bot.send_message(chat_id, render_erased_lead(lead, settings))
        return
    sent = await bot.send_message(chat_id, render_lead_card(lead, settings), reply_markup=lead_markup(lead))
    await work.record_view("card", sent.chat.id, sent.message_id, [lead.id])


async def cmd_lead(message: Message, command: CommandObject, bot: Bot, leads: LeadsRepo, work: WorkRepo,
                   settings: Settings) -> None:
    arg = (command.args or "").strip().lstrip("#№").removeprefix("lead_")
    if not arg.isdecimal() or not 1 <= int(arg) < 2**63:
        await message.answer(t.LEAD_USAGE)
        return
    await post_card(bot, message.chat.id, int(arg), leads, work, settings)


async def on_open(query: CallbackQuery, callback_data: LeadOpenCb, bot: Bot, leads: LeadsRepo, work: WorkRepo,
                  settings: Settings) -> None:
    await query.answer()
    if query.message is not None:
        await post_card(bot, query.message.chat.id, callback_data.lead, leads, work, settings)


# --- /export --------------------------------------------------------------------------------

def parse_days(args: str | None) -> tuple[bool, int | None]:
    arg = (args or "").strip()
    if not arg:
        return True, None
    if arg.isdecimal() and 1 <= int(arg) <= MAX_DAYS:
        return True, int(arg)
    return False, None


async def cmd_export(message: Message, command: CommandObject, bot: Bot, work: WorkRepo, settings: Settings) -> None:
    ok, days = parse_days(command.args)
    if not ok:
        await message.answer(t.EXPORT_USAGE)
        return
    since = (datetime.now(UTC) - timedelta(days=days)).isoformat(timespec="seconds") if days else ""
    period = t.EXPORT_DAYS.format(days=days_ru(days)) if days else t.EXPORT_ALL
    folder = settings.db_path.parent  # the file holds personal data: next to the database, not in /tmp
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=folder, prefix=".export-", suffix=".csv", delete=False) as tmp:
        path = Path(tmp.name)
    try:
        n = await write_csv(work, path, since, settings.timezone)
        if n == 0:
            await message.answer(t.EXPORT_EMPTY.format(period=period))
            return
        name = f"leads-{datetime.now(UTC).strftime('%Y-%m-%d')}{f'-{days}d' if days else ''}.csv"
        await bot.send_document(message.chat.id, FSInputFile(path, filename=name),
                                caption=t.EXPORT_CAPTION.format(period=period, n=n))
    finally:
        with contextlib.suppress(OSError):
            path.unlink()


def create_router() -> Router:
    router = Router(name="agency_leads")
    router.callback_query.register(on_status, LeadStatusCb.filter())
    router.callback_query.register(on_open, LeadOpenCb.filter())
    router.callback_query.register(on_leads_page, LeadsPageCb.filter())
    router.message.register(cmd_leads, Command("leads"))
    router.message.register(cmd_lead, Command("lead"))
    router.message.register(cmd_export, Command("export"))
    return router

