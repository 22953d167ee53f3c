"""The agency chat: teaching the FAQ. "➕ Добавить в FAQ" under a question card or a "➕ N" under
/stats posts a picker of the FAQ's topics (paged in place) and "Не про нас"; the choice is stored
and the model retrained in the background (bot/faq_service.py), which reports how it went.
/taught lists what was taught, with a delete button per phrasing."""

from __future__ import annotations

import logging

from aiogram import Bot, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InaccessibleMessage, InlineKeyboardMarkup, Message, ReplyParameters

from bot.cards import cut, question_tag, quote
from bot.faq_service import FaqService
from bot.followups import Cancel, entry_payload
from bot.texts import agency as t
from handlers.callbacks import TaughtCb, TeachCb
from handlers.keyboards import button, edit_text, grid, markup
from storage.outbox import OutboxRepo
from storage.stats import StatsRepo, scrub
from storage.teach import OFFTOPIC_TARGET, Addition, TeachRepo

log = logging.getLogger(__name__)

PAGE = 8
TAUGHT_PAGE = 10
SHOWN_CHARS = 200
ALERT_CHARS = 150


# --- the picker ------------------------------------------------------------------------------

def picker(cb: TeachCb, faq: FaqService, page: int) -> tuple[int, int, InlineKeyboardMarkup]:
    entries = faq.corpus.entries
    pages = max(1, -(-len(entries) // PAGE))
    page = min(max(page, 0), pages - 1)
    rows = [[button(e.title, TeachCb(src=cb.src, id=cb.id, a="e", v=i))]
            for i, e in enumerate(entries) if page * PAGE <= i < (page + 1) * PAGE]
    nav = []
    if page > 0:
        nav.append(button(t.BTN_PREV, TeachCb(src=cb.src, id=cb.id, a="p", v=page - 1)))
    if page < pages - 1:
        nav.append(button(t.BTN_NEXT, TeachCb(src=cb.src, id=cb.id, a="p", v=page + 1)))
    rows += [nav, [button(t.BTN_OFFTOPIC, TeachCb(src=cb.src, id=cb.id, a="o"))],
             [button(t.BTN_CANCEL, TeachCb(src=cb.src, id=cb.id, a="x"))]]
    return page, pages, markup(rows)


async def phrasing(cb: TeachCb, outbox: OutboxRepo, stats: StatsRepo) -> str | None:
    """The text to teach: a question card's question (scrubbed of phones, e-mails and @names),
    or an unanswered question (stored scrubbed); None when it is gone (erased, already taught)."""
    if cb.src == "u":
        found = await stats.unanswered_by_id(cb.id)
        return found.text if found is not None else None
    row = await outbox.get(cb.id)
    if row is None or row["kind"] != "question" or row["erased_at"] is not None:
        return None
    try:
        text = str(entry_payload(row).get("text") or "").strip()
    except Cancel:  # no payload: erased
        return None
    return scrub(text) or None


def picker_text(cb: TeachCb, text: str, page: int, pages: int) -> str:
    if cb.src == "q":  # the card above shows the question; this message does not repeat it
        return t.TEACH_PICK_QUESTION.format(tag=question_tag(cb.id), page=page + 1, pages=pages)
    return t.TEACH_PICK.format(text=quote(cut(text, SHOWN_CHARS)), page=page + 1, pages=pages)


async def on_teach(query: CallbackQuery, callback_data: TeachCb, bot: Bot, faq: FaqService, teach: TeachRepo,
                   outbox: OutboxRepo, stats: StatsRepo) -> None:
    cb = callback_data
    msg = query.message
    text = await phrasing(cb, outbox, stats)
    if text is None or msg is None or isinstance(msg, InaccessibleMessage):
        await query.answer(t.TEACH_STALE, show_alert=True)
        return
    if cb.src == "q" and await teach.question_taught(cb.id):
        await query.answer(t.TEACH_ALREADY, show_alert=True)
        return
    if cb.a == "s":
        await query.answer()
        page, pages, keyboard = picker(cb, faq, 0)
        await bot.send_message(msg.chat.id, picker_text(cb, text, page, pages), reply_markup=keyboard,
                               reply_parameters=ReplyParameters(message_id=msg.message_id,
                                                                allow_sending_without_reply=True))
        return
    if cb.a == "p":
        await query.answer()
        page, pages, keyboard = picker(cb, faq, cb.v)
        await edit_text(msg, picker_text(cb, text, page, pages), keyboard)
        return
    if cb.a == "x":
        await query.answer()
        await edit_text(msg, t.TEACH_CANCELLED)
        return
    entries = faq.corpus.entries
    if cb.a == "e" and cb.v >= len(entries):
        await query.answer(t.TEACH_NO_TOPIC, show_alert=True)
        return
    target = entries[cb.v].id if cb.a == "e" else OFFTOPIC_TARGET
    added = await teach.add(text, target, query.from_user.id, cb.id if cb.src == "q" else None)
    if added is None:
        await query.answer(t.TEACH_ALREADY, show_alert=True)
        return
    await query.answer()
    if cb.src == "u":
        await stats.forget_unanswered(cb.id)
    else:
        await stats.forget_unanswered_text(text)
    title = t.TEACH_OFFTOPIC if target == OFFTOPIC_TARGET else f"«{quote(entries[cb.v].title)}»"
    done = (t.TEACH_QUEUED_QUESTION.format(tag=question_tag(cb.id), target=title) if cb.src == "q"
            else t.TEACH_QUEUED.format(text=quote(cut(text, SHOWN_CHARS)), target=title))
    await edit_text(msg, done)
    log.info("FAQ phrasing %d taught", added.id)
    faq.request()


# --- /taught ---------------------------------------------------------------------------------

def taught_line(n: int, a: Addition, faq: FaqService) -> str:
    what = question_tag(a.question_id) if a.question_id is not None else f"«{quote(cut(a.text, SHOWN_CHARS))}»"
    target = t.TEACH_OFFTOPIC if a.target == OFFTOPIC_TARGET else f"«{quote(faq.title(a.target))}»"
    state = {"pending": t.TAUGHT_PENDING,
             "failed": t.TAUGHT_FAILED.format(reason=t.NOTICE_REASONS.get(a.error or "", t.NOTICE_REASONS["failed"]))}
    return t.TAUGHT_LINE.format(n=n, text=what, target=target, state=state.get(a.status, ""))


async def taught_view(teach: TeachRepo, faq: FaqService, page: int) -> tuple[str, InlineKeyboardMarkup | None]:
    items, total = await teach.page(page * TAUGHT_PAGE, TAUGHT_PAGE)
    if total and not items and page > 0:  # the last item of the last page went
        page = max(0, (total - 1) // TAUGHT_PAGE)
        items, total = await teach.page(page * TAUGHT_PAGE, TAUGHT_PAGE)
    if not total:
        return t.TAUGHT_EMPTY, None
    pages = -(-total // TAUGHT_PAGE)
    first = page * TAUGHT_PAGE + 1
    lines = [t.TAUGHT_TITLE.format(n=total, page=page + 1, pages=pages), ""]
    lines += [taught_line(first + i, a, faq) for i, a in enumerate(items)]
    lines += ["", t.TAUGHT_FOOTER, t.TAUGHT_EXPORT_HINT]
    rows = grid([button(f"🗑 {first + i}", TaughtCb(a="d", v=a.id, p=page)) for i, a in enumerate(items)], 5)
    nav = []
    if page > 0:
        nav.append(button(t.BTN_PREV, TaughtCb(a="p", v=page - 1)))
    if page < pages - 1:
        nav.append(button(t.BTN_NEXT, TaughtCb(a="p", v=page + 1)))
    return "\n".join(lines), markup([*rows, nav])


async def cmd_taught(message: Message, teach: TeachRepo, faq: FaqService) -> None:
    text, keyboard = await taught_view(teach, faq, 0)
    await message.answer(text, reply_markup=keyboard)


async def on_taught(query: CallbackQuery, callback_data: TaughtCb, teach: TeachRepo, faq: FaqService) -> None:
    msg = query.message
    page = callback_data.v if callback_data.a == "p" else callback_data.p
    if callback_data.a == "d":
        removed = await teach.remove(callback_data.v)
        if removed is None:
            await query.answer(t.TAUGHT_GONE, show_alert=True)
        else:
            shown = question_tag(removed.question_id) if removed.question_id is not None else removed.text
            await query.answer(cut(t.TAUGHT_REMOVED.format(text=shown), ALERT_CHARS))
            log.info("FAQ phrasing %d removed", removed.id)
            faq.request()
    else:
        await query.answer()
    if msg is not None and not isinstance(msg, InaccessibleMessage):
        text, keyboard = await taught_view(teach, faq, page)
        await edit_text(msg, text, keyboard)


def create_router() -> Router:
    router = Router(name="agency_teach")
    router.callback_query.register(on_teach, TeachCb.filter())
    router.callback_query.register(on_taught, TaughtCb.filter())
    router.message.register(cmd_taught, Command("taught"))
    return router
