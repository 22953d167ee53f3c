"""The brief: consent first, one state per question, summary with edits, idempotent submit.

Shaped after aiogram's examples/finite_state_machine.py: a StatesGroup, a handler per state,
fallbacks for invalid input. /cancel and the rights commands live in routers registered
before this one, so they work at any step.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import (
    CallbackQuery,
    InaccessibleMessage,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    User,
)
from aiogram.utils.text_decorations import html_decoration as hd

from bot.consent import marketing_consent, pd_consent
from bot.settings import Settings
from bot.texts import brief as texts
from bot.texts import common as common_texts
from bot.texts import consent as consent_texts
from bot.validation import (
    MAX_LINKS,
    Invalid,
    normalize_contact_phone,
    normalize_email,
    normalize_links,
    normalize_name,
    normalize_phone,
)
from handlers.callbacks import ConsentCb, MarketingCb, MenuCb, StepCb, SummaryCb
from handlers.filters import PRIVATE, ChatType, HasContact, HasText, IsCommand
from handlers.keyboards import button, grid, markup
from storage.consent import ConsentRepo
from storage.leads import LeadsRepo


class Brief(StatesGroup):
    business = State()
    links = State()
    networks = State()
    goals = State()
    budget = State()
    start_when = State()
    name = State()
    phone = State()
    email = State()
    contact_method = State()
    comment = State()
    summary = State()


STEPS = [
    "business", "links", "networks", "goals", "budget", "start_when",
    "name", "phone", "email", "contact_method", "comment",
]
STATE_OF = {step: getattr(Brief, step) for step in STEPS}
STEP_OF = {state.state: step for step, state in STATE_OF.items()}
OPTIONAL = {"links", "comment"}
MULTI = {"networks": texts.NETWORKS, "goals": texts.GOALS}
PICK = {"budget": texts.BUDGETS, "start_when": texts.START_WHEN, "contact_method": texts.CONTACT_METHODS}
LIMITS = {"business": 1000, "links": 1000, "name": 100, "phone": 40, "email": 254, "comment": 1000}
MIN_BUSINESS = 3
TEXT_STEPS = [s for s in STEPS if s not in MULTI and s not in PICK]
BUTTON_STEPS = [*MULTI, *PICK]


# --- rendering ---------------------------------------------------------------------


def field_text(step: str, value: Any) -> str:
    if value in (None, "", []):
        return texts.EMPTY_VALUE
    if step in MULTI:
        return ", ".join(MULTI[step].get(code, code) for code in value)
    if step in PICK:
        return PICK[step].get(value, value)
    if step == "links":
        return " ".join(value)
    return str(value)


def step_prompt(step: str, data: dict[str, Any]) -> tuple[str, InlineKeyboardMarkup | ReplyKeyboardMarkup]:
    n = STEPS.index(step) + 1
    text = texts.STEP_HEADER.format(n=n, total=len(STEPS)) + texts.PROMPTS[step]
    if data.get("editing") and data.get(step) not in (None, "", []):
        text += f"\n\nСейчас: {hd.quote(field_text(step, data.get(step)))}"
    d = data["d"]
    if step == "phone":
        reply_rows = [[KeyboardButton(text=texts.BTN_SHARE_PHONE, request_contact=True)],
                      [KeyboardButton(text=texts.BTN_BACK)]]
        return text, ReplyKeyboardMarkup(keyboard=reply_rows, resize_keyboard=True, one_time_keyboard=False,
                                         input_field_placeholder="+7 999 123-45-67")
    rows: list[list[InlineKeyboardButton]] = []
    if step in MULTI:
        chosen = set(data.get(step) or [])
        options = [
            button((texts.CHECK_ON if code in chosen else texts.CHECK_OFF) + label,
                   StepCb(d=d, s=step, a="t", v=code))
            for code, label in MULTI[step].items()
        ]
        rows += grid(options, 2)
        rows.append([button(texts.BTN_DONE, StepCb(d=d, s=step, a="done"))])
    elif step in PICK:
        rows += [[button(label, StepCb(d=d, s=step, a="p", v=code))] for code, label in PICK[step].items()]
    nav = []
    if n > 1 or data.get("editing"):
        nav.append(button(texts.BTN_BACK, StepCb(d=d, s=step, a="back")))
    if step in OPTIONAL:
        nav.append(button(texts.BTN_SKIP, StepCb(d=d, s=step, a="skip")))
    rows.append(nav)
    return text, markup(rows)


def summary_view(data: dict[str, Any]) -> tuple[str, InlineKeyboardMarkup]:
    lines = [texts.SUMMARY_TITLE]
    for step in STEPS:
        value = hd.quote(field_text(step, data.get(step)))
        lines.append(f"<b>{texts.FIELD_LABELS[step]}:</b> {value}")
    lines.append(texts.SUMMARY_FOOTER)
    d = data["d"]
    edits = [button(texts.BTN_EDIT.format(label=texts.FIELD_LABELS[step]), SummaryCb(d=d, a="edit", f=step))
             for step in STEPS]
    rows = [*grid(edits, 2), [button(texts.BTN_SUBMIT, SummaryCb(d=d, a="submit"))],
            [button(texts.BTN_CANCEL, SummaryCb(d=d, a="cancel"))]]
    return "\n".join(lines), markup(rows)


def consent_view(settings: Settings) -> tuple[str, InlineKeyboardMarkup]:
    doc = pd_consent(settings)
    rows = [[button(consent_texts.BTN_AGREE, ConsentCb(ok=1, v=doc.version)),
             button(consent_texts.BTN_DECLINE, ConsentCb(ok=0, v=doc.version))]]
    return doc.text, markup(rows)


async def show_step(bot: Bot, chat_id: int, step: str, data: dict[str, Any], prefix: str | None = None) -> None:
    text, keyboard = step_prompt(step, data)
    if prefix:
        text = f"{prefix}\n\n{text}"
    await bot.send_message(chat_id, text, reply_markup=keyboard)


async def show_summary(bot: Bot, chat_id: int, data: dict[str, Any]) -> None:
    text, keyboard = summary_view(data)
    await bot.send_message(chat_id, text, reply_markup=keyboard)


async def reprompt(bot: Bot, chat_id: int, state: FSMContext, prefix: str | None = None) -> None:
    """Shows the current step (or the summary) again, optionally after an explanation."""
    current = await state.get_state()
    data = await state.get_data()
    if current == Brief.summary.state:
        if prefix:
            await bot.send_message(chat_id, prefix)
        await show_summary(bot, chat_id, data)
    elif current in STEP_OF:
        await show_step(bot, chat_id, STEP_OF[current], data, prefix)


async def advance(bot: Bot, chat_id: int, state: FSMContext, step: str, **changes: Any) -> None:
    """Stores the step's answer and moves on: to the next step, or back to the summary."""
    data = await state.get_data()
    data.update(changes)
    editing = data.pop("editing", False)
    index = STEPS.index(step)
    if editing or index == len(STEPS) - 1:
        await state.set_data(data)
        await state.set_state(Brief.summary)
        await show_summary(bot, chat_id, data)
        return
    nxt = STEPS[index + 1]
    await state.set_data(data)
    await state.set_state(STATE_OF[nxt])
    await show_step(bot, chat_id, nxt, data)


# --- entry and consent -----------------------------------------------------------------


async def start_brief(bot: Bot, chat_id: int, state: FSMContext, settings: Settings) -> None:
    if await state.get_state() in (*STEP_OF, Brief.summary.state):
        await reprompt(bot, chat_id, state, texts.RESUME)
        return
    text, keyboard = consent_view(settings)
    await bot.send_message(chat_id, text, reply_markup=keyboard)


async def cmd_brief(message: Message, bot: Bot, state: FSMContext, settings: Settings) -> None:
    await start_brief(bot, message.chat.id, state, settings)


async def menu_brief(query: CallbackQuery, bot: Bot, state: FSMContext, settings: Settings) -> None:
    await query.answer()
    await start_brief(bot, query.from_user.id, state, settings)


async def on_consent(
    query: CallbackQuery, callback_data: ConsentCb, bot: Bot, state: FSMContext,
    settings: Settings, consent: ConsentRepo,
) -> None:
    chat_id = query.from_user.id
    if await state.get_state() in (*STEP_OF, Brief.summary.state):
        await query.answer()
        await reprompt(bot, chat_id, state, texts.RESUME)
        return
    doc = pd_consent(settings)
    if callback_data.v != doc.version:
        await query.answer()
        text, keyboard = consent_view(settings)  # the wording changed: show the current one
        await bot.send_message(chat_id, text, reply_markup=keyboard)
        return
    await query.answer()
    await _drop_buttons(query)
    if not callback_data.ok:
        await bot.send_message(chat_id, consent_texts.DECLINED)
        return
    event_id = await consent.grant_pd(query.from_user.id, doc)
    submit_key = uuid.uuid4().hex
    source = (await state.get_data()).get("source")
    data = {"d": submit_key[:8], "submit_key": submit_key, "consent_event_id": event_id}
    if source:
        data["source"] = source
    await state.set_data(data)
    await state.set_state(Brief.business)
    await show_step(bot, chat_id, "business", data)


async def _drop_buttons(query: CallbackQuery) -> None:
    """Removes the keyboard of an answered question so it cannot be pressed again."""
    if query.message is not None and not isinstance(query.message, InaccessibleMessage):
        try:
            await query.message.edit_reply_markup(reply_markup=None)
        except Exception:  # noqa: BLE001 - cosmetic; the state check guards stale buttons anyway
            pass


# --- text steps: one handler per state -------------------------------------------------


async def _text_answer(message: Message, bot: Bot, state: FSMContext, step: str) -> str | None:
    """Common checks for free-text steps; returns the stripped text or None after a re-prompt."""
    text = (message.text or "").strip()
    limit = LIMITS[step]
    if len(text) > limit:
        await reprompt(bot, message.chat.id, state, texts.TOO_LONG.format(limit=limit))
        return None
    return text


async def on_business(message: Message, bot: Bot, state: FSMContext) -> None:
    text = await _text_answer(message, bot, state, "business")
    if text is None:
        return
    if len(text) < MIN_BUSINESS:
        await reprompt(bot, message.chat.id, state, texts.TOO_SHORT)
        return
    await advance(bot, message.chat.id, state, "business", business=text)


async def _validated(
    message: Message, bot: Bot, state: FSMContext, step: str,
    normalize: Callable[[str], Any], error: Callable[[Invalid, str], str],
) -> Any | None:
    """The step's text, normalised; None after re-prompting with the error (nothing stored)."""
    text = await _text_answer(message, bot, state, step)
    if text is None:
        return None
    try:
        return normalize(text)
    except Invalid as exc:
        await reprompt(bot, message.chat.id, state, error(exc, text))
        return None


def _links_error(exc: Invalid, text: str) -> str:
    if exc.code == "too_many_links":
        return texts.TOO_MANY_LINKS.format(limit=MAX_LINKS)
    return texts.BAD_LINKS.format(bad=hd.quote(exc.detail or text[:60]))


async def on_links(message: Message, bot: Bot, state: FSMContext) -> None:
    links = await _validated(message, bot, state, "links", normalize_links, _links_error)
    if links is not None:
        await advance(bot, message.chat.id, state, "links", links=links)


async def on_name(message: Message, bot: Bot, state: FSMContext) -> None:
    name = await _validated(message, bot, state, "name", lambda t: normalize_name(t, LIMITS["name"]),
                            lambda *_: texts.BAD_NAME)
    if name is not None:
        await advance(bot, message.chat.id, state, "name", name=name)


async def _phone_accepted(message: Message, bot: Bot, state: FSMContext, phone: str) -> None:
    await message.answer(texts.PHONE_SAVED.format(phone=hd.quote(phone)), reply_markup=ReplyKeyboardRemove())
    await advance(bot, message.chat.id, state, "phone", phone=phone)


async def on_phone_text(message: Message, bot: Bot, state: FSMContext) -> None:
    if (message.text or "").strip() == texts.BTN_BACK:
        await message.answer(texts.BTN_BACK, reply_markup=ReplyKeyboardRemove())
        await go_back(bot, message.chat.id, state, "phone")
        return
    phone = await _validated(message, bot, state, "phone", normalize_phone, lambda *_: texts.BAD_PHONE)
    if phone is not None:
        await _phone_accepted(message, bot, state, phone)


async def on_phone_contact(message: Message, bot: Bot, state: FSMContext) -> None:
    contact = message.contact
    assert contact is not None
    if message.from_user is None or contact.user_id != message.from_user.id:
        await reprompt(bot, message.chat.id, state, texts.FOREIGN_CONTACT)
        return
    try:
        phone = normalize_contact_phone(contact.phone_number)
    except Invalid:
        await reprompt(bot, message.chat.id, state, texts.BAD_PHONE)
        return
    await _phone_accepted(message, bot, state, phone)


async def on_email(message: Message, bot: Bot, state: FSMContext) -> None:
    email = await _validated(message, bot, state, "email", normalize_email, lambda *_: texts.BAD_EMAIL)
    if email is not None:
        await advance(bot, message.chat.id, state, "email", email=email)


async def on_comment(message: Message, bot: Bot, state: FSMContext) -> None:
    text = await _text_answer(message, bot, state, "comment")
    if text is None:
        return
    await advance(bot, message.chat.id, state, "comment", comment=text)


# --- button steps ------------------------------------------------------------------


async def _guard(query: CallbackQuery, bot: Bot, state: FSMContext, d: str, step: str) -> dict[str, Any] | None:
    """A button counts only if it belongs to the current draft and the current step."""
    current = await state.get_state()
    data = await state.get_data()
    if current is None:
        await query.answer(common_texts.STALE_BUTTON, show_alert=True)
        return None
    if data.get("d") != d or STEP_OF.get(current) != step:
        await query.answer(texts.STALE_STEP)
        await reprompt(bot, query.from_user.id, state, texts.STALE_STEP)
        return None
    return data


async def on_step_button(query: CallbackQuery, callback_data: StepCb, bot: Bot, state: FSMContext) -> None:
    step = callback_data.s
    data = await _guard(query, bot, state, callback_data.d, step)
    if data is None:
        return
    chat_id = query.from_user.id
    action, value = callback_data.a, callback_data.v
    if action == "back":
        await query.answer()
        await go_back(bot, chat_id, state, step)
    elif action == "skip" and step in OPTIONAL:
        await query.answer()
        await _drop_buttons(query)
        await advance(bot, chat_id, state, step, **{step: None})
    elif action == "t" and step in MULTI and value in MULTI[step]:
        chosen = list(data.get(step) or [])
        chosen.remove(value) if value in chosen else chosen.append(value)
        await state.update_data({step: chosen})
        await query.answer()
        _, keyboard = step_prompt(step, {**data, step: chosen})
        if isinstance(keyboard, InlineKeyboardMarkup) and isinstance(query.message, Message):
            await query.message.edit_reply_markup(reply_markup=keyboard)
    elif action == "done" and step in MULTI:
        if not data.get(step):
            await query.answer(texts.NEED_ONE, show_alert=True)
            return
        await query.answer()
        await _drop_buttons(query)
        await advance(bot, chat_id, state, step)
    elif action == "p" and step in PICK and value in PICK[step]:
        await query.answer(PICK[step][value])
        await _drop_buttons(query)
        await advance(bot, chat_id, state, step, **{step: value})
    else:  # forged: right draft and step, but an action or value this step does not have
        await query.answer(texts.STALE_STEP)
        await reprompt(bot, chat_id, state)


async def go_back(bot: Bot, chat_id: int, state: FSMContext, step: str) -> None:
    data = await state.get_data()
    if data.pop("editing", False):
        await state.set_data(data)
        await state.set_state(Brief.summary)
        await show_summary(bot, chat_id, data)
        return
    index = STEPS.index(step)
    prev = STEPS[max(index - 1, 0)]
    await state.set_state(STATE_OF[prev])
    await show_step(bot, chat_id, prev, data)


# --- summary and submit ---------------------------------------------------------------


async def on_summary_button(
    query: CallbackQuery, callback_data: SummaryCb, bot: Bot, state: FSMContext,
    settings: Settings, leads: LeadsRepo, consent: ConsentRepo, delivery: Any = None,
) -> None:
    chat_id = query.from_user.id
    current = await state.get_state()
    data = await state.get_data()
    if current != Brief.summary.state or data.get("d") != callback_data.d:
        if current is None:
            await query.answer(texts.ALREADY_SUBMITTED if callback_data.a == "submit"
                               else common_texts.STALE_BUTTON, show_alert=True)
        else:
            await query.answer(texts.STALE_STEP)
            await reprompt(bot, chat_id, state, texts.STALE_STEP)
        return
    if callback_data.a == "edit" and callback_data.f in STATE_OF:
        await query.answer()
        data["editing"] = True
        await state.set_data(data)
        await state.set_state(STATE_OF[callback_data.f])
        await show_step(bot, chat_id, callback_data.f, data)
    elif callback_data.a == "cancel":
        await query.answer()
        await _drop_buttons(query)
        source = data.get("source")
        await state.clear()
        if source:
            await state.update_data(source=source)
        await bot.send_message(chat_id, common_texts.CANCELLED)
    elif callback_data.a == "submit":
        await query.answer()
        await _drop_buttons(query)
        await submit(query.from_user, bot, state, data, settings, leads, consent, delivery)
    else:
        await query.answer(texts.STALE_STEP)
        await reprompt(bot, chat_id, state)


async def submit(
    user: User, bot: Bot, state: FSMContext, data: dict[str, Any], settings: Settings,
    leads: LeadsRepo, consent: ConsentRepo, delivery: Any,
) -> None:
    fields = {step: data.get(step) for step in STEPS}
    fields["username"] = user.username
    fields["tg_name"] = user.full_name
    lead_id, _created = await leads.submit(
        user_id=user.id, submit_key=data["submit_key"], consent_event_id=data["consent_event_id"],
        source=data.get("source"), fields=fields,
    )
    await state.clear()
    if delivery is not None:
        delivery.notify()
    promise = texts.CONTACT_PROMISE.get(data.get("contact_method") or "", texts.CONTACT_PROMISE_DEFAULT)
    await bot.send_message(user.id, texts.SUBMITTED.format(lead_id=lead_id, contact=promise))
    if not await consent.is_subscribed(user.id):
        doc = marketing_consent(settings)
        rows = [[button(consent_texts.BTN_MARKETING_YES, MarketingCb(ok=1)),
                 button(consent_texts.BTN_MARKETING_NO, MarketingCb(ok=0))]]
        await bot.send_message(user.id, doc.text, reply_markup=markup(rows))


async def on_marketing(
    query: CallbackQuery, callback_data: MarketingCb, bot: Bot, settings: Settings, consent: ConsentRepo,
) -> None:
    await query.answer()
    await _drop_buttons(query)
    if callback_data.ok:
        if not await consent.is_subscribed(query.from_user.id):
            await consent.grant_marketing(query.from_user.id, marketing_consent(settings))
        await bot.send_message(query.from_user.id, consent_texts.MARKETING_ON)
    else:
        await bot.send_message(query.from_user.id, consent_texts.MARKETING_OFF)


# --- fallbacks inside the form --------------------------------------------------------


async def in_form_command(message: Message, bot: Bot, state: FSMContext) -> None:
    await reprompt(bot, message.chat.id, state, texts.IN_FORM_COMMAND)


async def need_button(message: Message, bot: Bot, state: FSMContext) -> None:
    await reprompt(bot, message.chat.id, state, texts.NEED_BUTTON)


async def need_text(message: Message, bot: Bot, state: FSMContext) -> None:
    await reprompt(bot, message.chat.id, state, texts.NEED_TEXT)


def create_router() -> Router:
    router = Router(name="brief")
    router.message.filter(ChatType(PRIVATE))
    router.callback_query.filter(ChatType(PRIVATE))
    in_form = StateFilter(*STEP_OF, Brief.summary)

    router.message.register(cmd_brief, Command("brief"))
    router.callback_query.register(menu_brief, MenuCb.filter(F.action == "brief"))
    router.callback_query.register(on_consent, ConsentCb.filter())
    router.callback_query.register(on_marketing, MarketingCb.filter())
    router.callback_query.register(on_step_button, StepCb.filter())
    router.callback_query.register(on_summary_button, SummaryCb.filter())

    router.message.register(in_form_command, in_form, IsCommand())
    router.message.register(on_business, StateFilter(Brief.business), HasText())
    router.message.register(on_links, StateFilter(Brief.links), HasText())
    router.message.register(on_name, StateFilter(Brief.name), HasText())
    router.message.register(on_phone_contact, StateFilter(Brief.phone), HasContact())
    router.message.register(on_phone_text, StateFilter(Brief.phone), HasText())
    router.message.register(on_email, StateFilter(Brief.email), HasText())
    router.message.register(on_comment, StateFilter(Brief.comment), HasText())
    router.message.register(need_button, StateFilter(*(STATE_OF[s] for s in BUTTON_STEPS), Brief.summary))
    router.message.register(need_text, in_form)
    return router

