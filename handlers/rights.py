"""Data-subject rights (152-FZ): /withdraw, /mydata with correction, /unsubscribe, /privacy.

This router sits before `common` and `brief`, so every command here works at any step of the
brief. The erasure itself lives in storage/erasure.py (shared with the retention job).
"""

from __future__ import annotations

import html
import json
import re
import secrets
import time
from typing import Any

from aiogram import Bot, F, Router
from aiogram.filters import Command, Filter, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InaccessibleMessage,
    InlineKeyboardMarkup,
    Message,
    ReplyKeyboardRemove,
)
from aiogram.utils.keyboard import InlineKeyboardBuilder
from aiogram.utils.text_decorations import html_decoration as hd

from bot.cards import field_text
from bot.consent import marketing_consent, pd_consent
from bot.dates import human_datetime
from bot.plural import days_ru
from bot.relay import RelayService
from bot.settings import Settings
from bot.texts import brief as brief_texts
from bot.texts import rights as texts
from bot.validation import Invalid, normalize_contact_phone, normalize_email, normalize_name, normalize_phone
from faq import normalize
from handlers import brief as brief_handlers
from handlers.callbacks import FixCb, MenuCb, WithdrawCb
from handlers.filters import PRIVATE, ChatType, HasContact, HasText, IsCommand
from handlers.keyboards import phone_keyboard
from handlers.relay_private import mydata_lines, pending_media_lines
from storage.consent import ConsentRepo
from storage.db import Database
from storage.leads import Lead, LeadsRepo
from storage.rights import Question, RightsRepo, UserData
from storage.stats import StatsRepo

MAX_TEXT = 4096
FIX_FIELDS = ("name", "phone", "email")
FIX_LIMITS = {"name": brief_handlers.LIMITS["name"], "phone": brief_handlers.LIMITS["phone"],
              "email": brief_handlers.LIMITS["email"]}
BRIEF_STATES = (*brief_handlers.STEP_OF, brief_handlers.Brief.summary.state)
PROMPT_MAX_AGE = 86400.0  # a /withdraw confirmation older than a day is stale
ASK_KEY = "ask"  # FSM data of a question the FAQ could not answer, offered to a manager (handlers/faq.py)


class Correction(StatesGroup):
    name = State()
    phone = State()
    email = State()


FIX_STATE = {"name": Correction.name, "phone": Correction.phone, "email": Correction.email}
FIELD_OF_STATE = {s.state: f for f, s in FIX_STATE.items()}



async def _drop_buttons(query: CallbackQuery) -> None:
    if query.message is not None and not isinstance(query.message, InaccessibleMessage):
        try:
            await query.message.edit_reply_markup(reply_markup=None)
        except Exception:  # noqa: BLE001 - cosmetic; every button is re-checked on press
            pass


# --- /withdraw -------------------------------------------------------------------------


def withdraw_keyboard(nonce: str) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=texts.BTN_WITHDRAW_YES, callback_data=WithdrawCb(ok=1, n=nonce))
    kb.button(text=texts.BTN_WITHDRAW_NO, callback_data=WithdrawCb(ok=0, n=nonce))
    kb.adjust(1)
    return kb.as_markup()


async def cmd_withdraw(message: Message, db: Database, rights: RightsRepo) -> None:
    """Shows the confirmation. Its buttons carry a fresh nonce, stored (with the prompt's
    message id once sent) so that only this prompt, pressed on this message, erases."""
    assert message.from_user is not None
    repo = rights
    user_id = message.from_user.id
    if not await repo.has_anything_to_withdraw(user_id):
        await message.answer(texts.WITHDRAW_NOTHING)
        return
    nonce = secrets.token_hex(4)
    await repo.open_prompt(user_id, nonce)
    shown = await message.answer(texts.WITHDRAW_ASK, reply_markup=withdraw_keyboard(nonce))
    await repo.prompt_shown(user_id, nonce, shown.message_id)


def _unanswered_norms(data: UserData, fsm_data: dict[str, Any]) -> list[str]:
    """The user's question texts as the FAQ counts them unanswered (handlers/faq.py)."""
    texts_ = [q.text for q in data.stored_questions if q.text]
    pending = fsm_data.get(ASK_KEY)
    if isinstance(pending, dict) and isinstance(pending.get("q"), str):
        texts_.append(pending["q"])
    return [normalize(t) for t in texts_]


async def on_withdraw(
    query: CallbackQuery, callback_data: WithdrawCb, bot: Bot, state: FSMContext, settings: Settings,
    db: Database, stats: StatsRepo, rights: RightsRepo,
) -> None:
    user_id = query.from_user.id
    repo = rights
    shown_on = query.message.message_id if query.message is not None else None
    if callback_data.ok not in (0, 1) or not await repo.take_prompt(
        user_id, callback_data.n, shown_on, PROMPT_MAX_AGE
    ):
        await query.answer(texts.WITHDRAW_STALE, show_alert=True)  # forged, old or already used
        return
    if callback_data.ok != 1:
        await query.answer()
        await _drop_buttons(query)
        # Nothing changes; a brief in progress simply goes on.
        if await state.get_state() in BRIEF_STATES:
            await brief_handlers.reprompt(bot, user_id, state, texts.WITHDRAW_CANCELLED)
        else:
            await bot.send_message(user_id, texts.WITHDRAW_CANCELLED)
        return
    if not await repo.has_anything_to_withdraw(user_id):  # erased meanwhile (retention)
        await query.answer()
        await _drop_buttons(query)
        await bot.send_message(user_id, texts.WITHDRAW_NOTHING, reply_markup=ReplyKeyboardRemove())
        return
    await stats.flush()  # counters held in memory reach the table before their rows are dropped
    norms = _unanswered_norms(await repo.collect(user_id), await state.get_data())
    result = await repo.withdraw(
        user_id, pd_consent(settings), marketing_consent(settings), unanswered_norms=norms
    )
    await query.answer(texts.WITHDRAW_ALERT_DONE)
    await _drop_buttons(query)
    text = texts.WITHDRAW_DONE + (texts.WITHDRAW_DONE_CARDS if result.notice else "")
    # ReplyKeyboardRemove: the brief's "share my phone" keyboard may still be on screen.
    await bot.send_message(user_id, text, reply_markup=ReplyKeyboardRemove())


class _DataPrefix(Filter):
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    async def __call__(self, query: CallbackQuery) -> bool:
        return (query.data or "").startswith(self.prefix)


async def on_withdraw_stale(query: CallbackQuery) -> None:
    """A confirmation button in an old format, or malformed: nothing is erased."""
    await query.answer(texts.WITHDRAW_STALE, show_alert=True)


# --- /mydata ---------------------------------------------------------------------------


def _value(key: str, value: Any, record: dict[str, Any] | None = None) -> str:
    if key in brief_handlers.STEPS:
        return field_text(key, value, record) or texts.EMPTY
    return texts.EMPTY if value in (None, "", []) else str(value)


def _lead_lines(lead: Lead, erased_at: str | None, tz: str) -> list[str]:
    q = hd.quote
    created = q(human_datetime(lead.created_at, tz))
    if lead.status != "active":
        erased = q(human_datetime(erased_at, tz) if erased_at else "")
        return [texts.MYDATA_LEAD_ERASED.format(id=lead.id, created=created, erased=erased)]
    lines = [texts.MYDATA_LEAD.format(id=lead.id, created=created)]
    f = lead.fields
    lines.append(texts.MYDATA_FIELD.format(label=texts.MYDATA_TG_NAME, value=q(_value("", f.get("tg_name")))))
    lines.append(texts.MYDATA_FIELD.format(label=texts.MYDATA_USERNAME, value=q(_value("", f.get("username")))))
    for step in brief_handlers.STEPS:
        value = q(_value(step, f.get(step), f))
        lines.append(texts.MYDATA_FIELD.format(label=brief_texts.FIELD_LABELS[step], value=value))
    for addition in f.get("additions") or []:
        lines.append(texts.MYDATA_FIELD.format(label=brief_texts.ADDITIONS_LABEL, value=q(str(addition))))
    if lead.source:
        lines.append(texts.MYDATA_SOURCE.format(source=q(lead.source)))
    if lead.delivered_at:
        lines.append(texts.MYDATA_DELIVERED.format(when=q(human_datetime(lead.delivered_at, tz))))
    return lines


def _question_line(question: Question, tz: str) -> str:
    q = hd.quote

    def when(value: str | None) -> str:
        return q(human_datetime(value, tz) if value else "")

    if question.text is None:
        return texts.MYDATA_QUESTION_ERASED.format(created=when(question.created_at), erased=when(question.erased_at))
    if question.status == "pending":
        return texts.MYDATA_QUESTION_QUEUED.format(created=when(question.created_at), text=q(question.text))
    name = (question.tg_name or "") + (f", @{question.username}" if question.username else "")
    return texts.MYDATA_QUESTION_SENT.format(
        sent=when(question.sent_at or question.created_at), name=q(name or texts.EMPTY), text=q(question.text)
    )


def render_mydata(data: UserData, tz: str = "UTC", now: float | None = None) -> str:
    """Everything stored, dates in the time zone `tz` ("5 марта 2025, 14:07"); `now` (the bot's
    clock) tells whether the conversation with a manager is still open."""
    q = hd.quote
    blocks = [[texts.MYDATA_TITLE, texts.MYDATA_USER_ID.format(user_id=data.user_id)]]
    for lead in data.leads:
        blocks.append(_lead_lines(lead, data.erased_at.get(lead.id), tz))
    if data.draft or data.draft_state:
        draft = data.draft or {}
        lines = [texts.MYDATA_DRAFT]
        for step in brief_handlers.STEPS:
            if draft.get(step) not in (None, "", []):
                lines.append(texts.MYDATA_FIELD.format(
                    label=brief_texts.FIELD_LABELS[step], value=q(_value(step, draft.get(step), draft))))
        if draft.get("source"):
            lines.append(texts.MYDATA_DRAFT_SOURCE.format(source=q(str(draft["source"]))))
        pending = draft.get("ask")
        if isinstance(pending, dict) and pending.get("q"):
            lines.append(texts.MYDATA_DRAFT_QUESTION.format(question=q(str(pending["q"]))))
        lines += pending_media_lines(draft)
        if len(lines) > 1 or data.draft_state:  # not for the nonce of a marketing offer alone
            blocks.append(lines)
    if data.questions:
        blocks.append([texts.MYDATA_QUESTIONS, *(_question_line(x, tz) for x in data.questions)])
    if not data.relay.empty:
        blocks.append(mydata_lines(data.relay, tz, time.time() if now is None else now))
    if data.consent_events:
        lines = [texts.MYDATA_CONSENTS]
        for e in data.consent_events:
            what = texts.EVENT_NAMES.get((e["kind"], e["action"]), f"{e['kind']} {e['action']}")
            lines.append(texts.MYDATA_EVENT.format(when=q(human_datetime(e["created_at"], tz)), what=q(what),
                                                   version=q(e["text_version"])))
        blocks.append(lines)
    blocks.append([texts.MYDATA_MARKETING_ON.format(since=q(human_datetime(data.marketing_since, tz)))
                   if data.marketing_since
                   else texts.MYDATA_MARKETING_OFF])
    latest = latest_active(data)
    blocks.append([texts.MYDATA_FOOTER if latest else texts.MYDATA_FOOTER_NO_LEAD])
    return "\n\n".join("\n".join(b) for b in blocks)


def parsed_length(html_text: str) -> int:
    """Length Telegram counts (UTF-16 units) once the tags are parsed and entities unescaped."""
    plain = html.unescape(re.sub(r"<[^>]*>", "", html_text))
    return len(plain.encode("utf-16-le")) // 2


def latest_active(data: UserData) -> Lead | None:
    active = [lead for lead in data.leads if lead.status == "active"]
    return active[-1] if active else None


def fix_keyboard(lead: Lead | None) -> InlineKeyboardMarkup | None:
    if lead is None:
        return None
    kb = InlineKeyboardBuilder()
    kb.button(text=texts.BTN_FIX_NAME, callback_data=FixCb(f="name", lead=lead.id))
    kb.button(text=texts.BTN_FIX_PHONE, callback_data=FixCb(f="phone", lead=lead.id))
    kb.button(text=texts.BTN_FIX_EMAIL, callback_data=FixCb(f="email", lead=lead.id))
    kb.adjust(3)
    return kb.as_markup()


async def cmd_mydata(
    message: Message, bot: Bot, db: Database, settings: Settings, rights: RightsRepo, relay: RelayService,
) -> None:
    assert message.from_user is not None
    data = await rights.collect(message.from_user.id)
    if data.empty:
        await message.answer(texts.MYDATA_NOTHING)
        return
    latest = latest_active(data)
    markup = fix_keyboard(latest)
    text = render_mydata(data, settings.timezone, relay.clock.time())
    if parsed_length(text) <= MAX_TEXT:
        await message.answer(text, reply_markup=markup)
        return
    document = json.dumps(data.as_json(), ensure_ascii=False, indent=2).encode("utf-8")
    caption = texts.MYDATA_FILE_CAPTION if latest else texts.MYDATA_FILE_CAPTION_NO_LEAD
    await bot.send_document(
        message.chat.id, BufferedInputFile(document, filename=texts.MYDATA_FILENAME),
        caption=caption, reply_markup=markup,
    )


# --- correction ------------------------------------------------------------------------


async def on_fix(
    query: CallbackQuery, callback_data: FixCb, bot: Bot, state: FSMContext, leads: LeadsRepo,
) -> None:
    user_id = query.from_user.id
    field = callback_data.f
    lead = await leads.get(callback_data.lead)
    if field not in FIX_FIELDS or lead is None or lead.user_id != user_id or lead.status != "active":
        await query.answer(texts.FIX_STALE, show_alert=True)
        return
    await query.answer()
    current = await state.get_state()
    data = await state.get_data()
    if current not in FIELD_OF_STATE:  # pressing another field while correcting keeps the way back
        data["fix_back"] = current if current in BRIEF_STATES else None
    data["fix_lead"] = lead.id
    await state.set_data(data)
    await state.set_state(FIX_STATE[field])
    text = texts.FIX_PROMPT[field].format(id=lead.id)
    if lead.fields.get(field):
        text += texts.FIX_NOW.format(value=hd.quote(str(lead.fields[field])))
    markup = phone_keyboard() if field == "phone" else None
    await bot.send_message(user_id, text, reply_markup=markup)


async def _finish_fix(bot: Bot, chat_id: int, state: FSMContext, text: str) -> None:
    """Leaves the correction: back to the brief step it interrupted, or to no state."""
    data = await state.get_data()
    back = data.pop("fix_back", None)
    data.pop("fix_lead", None)
    await state.set_data(data)
    await state.set_state(back)
    await bot.send_message(chat_id, text, reply_markup=ReplyKeyboardRemove())
    if back:
        await brief_handlers.reprompt(bot, chat_id, state, texts.BACK_TO_BRIEF)


async def _apply_fix(
    message: Message, bot: Bot, state: FSMContext, leads: LeadsRepo, field: str, value: str,
) -> None:
    assert message.from_user is not None
    lead_id = (await state.get_data()).get("fix_lead")
    lead = await leads.get(lead_id) if isinstance(lead_id, int) else None
    if lead is None or lead.user_id != message.from_user.id or lead.status != "active":
        await _finish_fix(bot, message.chat.id, state, texts.FIX_STALE)
        return
    if not await leads.update_fields(lead.id, message.from_user.id, {field: value}):
        await _finish_fix(bot, message.chat.id, state, texts.FIX_STALE)
        return
    done = texts.FIX_DONE.format(id=lead.id) + (texts.FIX_DONE_CARD if lead.card_message_id is not None else "")
    await _finish_fix(bot, message.chat.id, state, done)


async def on_fix_text(
    message: Message, bot: Bot, state: FSMContext, leads: LeadsRepo,
) -> None:
    field = FIELD_OF_STATE[await state.get_state() or ""]
    text = (message.text or "").strip()
    if len(text) > FIX_LIMITS[field]:
        await message.answer(texts.FIX_TOO_LONG.format(limit=FIX_LIMITS[field]))
        return
    try:
        if field == "name":
            value = normalize_name(text, FIX_LIMITS["name"])
        elif field == "phone":
            value = normalize_phone(text)
        else:
            value = normalize_email(text)
    except Invalid:
        await message.answer(texts.FIX_BAD[field], reply_markup=phone_keyboard() if field == "phone" else None)
        return
    await _apply_fix(message, bot, state, leads, field, value)


async def on_fix_contact(
    message: Message, bot: Bot, state: FSMContext, leads: LeadsRepo,
) -> None:
    contact = message.contact
    assert contact is not None
    if message.from_user is None or contact.user_id != message.from_user.id:
        await message.answer(texts.FIX_FOREIGN_CONTACT, reply_markup=phone_keyboard())
        return
    try:
        value = normalize_contact_phone(contact.phone_number)
    except Invalid:
        await message.answer(texts.FIX_BAD["phone"], reply_markup=phone_keyboard())
        return
    await _apply_fix(message, bot, state, leads, "phone", value)


async def fix_cancel(message: Message, bot: Bot, state: FSMContext) -> None:
    await _finish_fix(bot, message.chat.id, state, texts.FIX_CANCELLED)


async def fix_need_text(message: Message) -> None:
    await message.answer(texts.FIX_NEED_TEXT)


# --- /unsubscribe and /privacy ---------------------------------------------------------


async def cmd_unsubscribe(message: Message, settings: Settings, consent: ConsentRepo, leads: LeadsRepo) -> None:
    assert message.from_user is not None
    if not await consent.withdraw_marketing(message.from_user.id, marketing_consent(settings)):
        await message.answer(texts.NOT_SUBSCRIBED)
        return
    has_lead = bool(await leads.by_user(message.from_user.id))
    await message.answer(texts.UNSUBSCRIBED if has_lead else texts.UNSUBSCRIBED_NO_LEAD)


def privacy_text(settings: Settings) -> str:
    if settings.lead_retention_days:
        retention = texts.RETENTION_DAYS.format(days=days_ru(settings.lead_retention_days))
    else:
        retention = texts.RETENTION_FOREVER
    return texts.PRIVACY.format(
        operator=hd.quote(settings.operator_name), email=hd.quote(settings.operator_email),
        policy_url=hd.quote(settings.policy_url), retention=retention,
    )


async def cmd_privacy(message: Message, settings: Settings) -> None:
    await message.answer(privacy_text(settings))


async def menu_privacy(query: CallbackQuery, bot: Bot, settings: Settings) -> None:
    await query.answer()
    await bot.send_message(query.from_user.id, privacy_text(settings))


def create_router() -> Router:
    router = Router(name="rights")
    router.message.filter(ChatType(PRIVATE))
    router.callback_query.filter(ChatType(PRIVATE))
    # Commands first: they work in any state, the correction included.
    router.message.register(cmd_withdraw, Command("withdraw"))
    router.message.register(cmd_mydata, Command("mydata"))
    router.message.register(cmd_unsubscribe, Command("unsubscribe"))
    router.message.register(cmd_privacy, Command("privacy"))
    router.callback_query.register(menu_privacy, MenuCb.filter(F.action == "privacy"))
    router.callback_query.register(on_withdraw, WithdrawCb.filter())
    router.callback_query.register(on_withdraw_stale, _DataPrefix(WithdrawCb.__prefix__ + WithdrawCb.__separator__))
    router.callback_query.register(on_fix, FixCb.filter())

    correcting = StateFilter(Correction)
    router.message.register(fix_cancel, correcting, Command("cancel"))
    router.message.register(on_fix_contact, StateFilter(Correction.phone), HasContact())
    # Other commands fall through (/start, /brief ...); plain text is the new value.
    router.message.register(on_fix_text, correcting, HasText(), ~IsCommand())
    router.message.register(fix_need_text, correcting, ~IsCommand())
    return router

