"""The brief: consent first, one state per question, answers read with care.

Shaped after aiogram's examples/finite_state_machine.py: a StatesGroup, a handler per state,
fallbacks for invalid input. /start, /help, /cancel and the rights commands live in routers
registered before this one, so they work at any step. A text the FAQ answers (or a greeting,
thanks ...) is answered and the step asked again; it is never stored as the answer. The summary,
submit, the returning prospect and the marketing offer are in handlers/brief_finish.py.
"""

from __future__ import annotations

import uuid
from typing import Any

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, ReplyKeyboardRemove
from aiogram.utils.text_decorations import html_decoration as hd
from rapidfuzz import fuzz, process, utils

from bot import brief_form as form
from bot.consent import pd_consent
from bot.contacts import Email, digits_in, display_phone, parse_email, parse_links, parse_name, parse_phone
from bot.pastes import Part, Pastes
from bot.settings import Settings
from bot.texts import brief as texts
from bot.texts import consent as consent_texts
from bot.validation import Invalid, normalize_contact_phone
from faq import FaqIndex
from handlers import brief_finish
from handlers.brief_view import consent_view, reprompt, resume, show, step_prompt
from handlers.callbacks import ConsentCb, MenuCb, StepCb
from handlers.draft import KEEP, unfinished
from handlers.filters import PRIVATE, ChatType, HasContact, HasText, IsCommand
from handlers.keyboards import drop_buttons
from handlers.states import IN_FORM, STATE_OF, STEP_OF, SUMMARY, Brief, state_of, step_of
from handlers.turns import JOINABLE, Turn, answer_changes, answered, joined
from storage.consent import ConsentRepo
from storage.leads import LeadsRepo
from storage.stats import StatsRepo

# Names the rights router and older callers use.
STEPS = form.FIELDS
LIMITS = form.LIMITS
field_text = form.field_text
__all__ = ["STATE_OF", "STEP_OF", "STEPS", "LIMITS", "Brief", "field_text", "reprompt", "create_router"]

PHONE_MIN_DIGITS = 5  # fewer digits in a sentence: it is not an attempt at a number
MATCH_CUTOFF = 90  # rapidfuzz WRatio for a typed text to be taken as one of the step's options


def asks(text: str) -> bool:
    """At a contact step a statement is about the contact ("нет", "пишите в телеграм"); only a
    question mark makes it a question for the FAQ."""
    return "?" in text


# --- moving through the form -------------------------------------------------------------


async def advance(bot: Bot, chat_id: int, state: FSMContext, step: str, prefix: str | None = None,
                  **changes: Any) -> int:
    """Stores the step's answer and moves on: to the next step, or back to the summary.
    Returns the id of the message showing where the prospect is now."""
    data = await state.get_data()
    data.update(changes)
    data.pop("held", None)
    data.pop("email_fix", None)
    nxt = form.next_step(step, data)
    target = SUMMARY
    if step == "contact" and nxt in form.CONTACT_VALUE.values():
        target = str(nxt)  # the value of the chosen channel comes next, also when editing
    elif not data.pop("editing", False) and nxt is not None:
        target = nxt
    await state.set_data(data)
    await state.set_state(state_of(target))
    return await show(bot, chat_id, target, data, prefix)


async def go_back(bot: Bot, chat_id: int, state: FSMContext, step: str, prefix: str | None = None) -> None:
    data = await state.get_data()
    data.pop("held", None)
    if data.pop("editing", False):
        target = SUMMARY
    else:
        target = form.prev_step(step) or step
    await state.set_data(data)
    await state.set_state(state_of(target))
    await show(bot, chat_id, target, data, prefix)


# --- entry and consent -----------------------------------------------------------------


async def start_brief(bot: Bot, user_id: int, state: FSMContext, settings: Settings, leads: LeadsRepo) -> None:
    """/brief and its buttons: the draft where it stopped, a returning prospect's choice, or
    the consent screen (always first for a new brief)."""
    current = await state.get_state()
    if current in IN_FORM:
        await reprompt(bot, user_id, state, texts.RESUME)
        return
    if current == Brief.paused.state:
        await resume(bot, user_id, state)
        return
    if await brief_finish.offer_returning(bot, user_id, settings, leads):
        return
    text, keyboard = consent_view(settings)
    await bot.send_message(user_id, text, reply_markup=keyboard)


async def cmd_brief(message: Message, bot: Bot, state: FSMContext, settings: Settings, leads: LeadsRepo) -> None:
    await start_brief(bot, message.chat.id, state, settings, leads)


async def menu_brief(query: CallbackQuery, bot: Bot, state: FSMContext, settings: Settings, leads: LeadsRepo) -> None:
    await query.answer()
    await start_brief(bot, query.from_user.id, state, settings, leads)


async def menu_call(query: CallbackQuery, bot: Bot, state: FSMContext, settings: Settings, leads: LeadsRepo) -> None:
    """"Перезвоните мне": consent, then a phone number, then the request goes to the agency."""
    await query.answer()
    if await unfinished(state) is not None:
        await start_brief(bot, query.from_user.id, state, settings, leads)
        return
    text, keyboard = consent_view(settings, "c")
    await bot.send_message(query.from_user.id, text, reply_markup=keyboard)


async def on_consent(
    query: CallbackQuery, callback_data: ConsentCb, bot: Bot, state: FSMContext,
    settings: Settings, consent: ConsentRepo,
) -> None:
    chat_id = query.from_user.id
    current = await state.get_state()
    if current in IN_FORM or current == Brief.paused.state:
        await query.answer()
        if current == Brief.paused.state:
            await resume(bot, chat_id, state)
        else:
            await reprompt(bot, chat_id, state, texts.RESUME)
        return
    doc = pd_consent(settings)
    await query.answer()
    if callback_data.v != doc.version:
        text, keyboard = consent_view(settings, callback_data.k)  # the wording changed: show the current one
        await bot.send_message(chat_id, text, reply_markup=keyboard)
        return
    await drop_buttons(query)
    if not callback_data.ok:
        await bot.send_message(chat_id, consent_texts.DECLINED)
        return
    event_id = await consent.grant_pd(query.from_user.id, doc)
    submit_key = uuid.uuid4().hex
    old = await state.get_data()
    data: dict[str, Any] = {k: old[k] for k in KEEP if k in old}
    callback = callback_data.k == "c"
    data.update(d=submit_key[:8], submit_key=submit_key, consent_event_id=event_id,
                kind="callback" if callback else "brief")
    first = "phone" if callback else form.QUESTIONS[0]
    await state.set_data(data)
    await state.set_state(STATE_OF[first])
    await show(bot, chat_id, first, data)


def turn_of(message: Message, bot: Bot, state: FSMContext, faq: FaqIndex, stats: StatsRepo, pastes: Pastes) -> Turn:
    return Turn(message, bot, state, faq, stats, pastes)


async def store_text(turn: Turn, step: str, text: str) -> None:
    """Stores a free-text answer and moves on; the next part of a paste will join it."""
    changes, cut = answer_changes(step, text)
    reply_id = await advance(turn.bot, turn.chat_id, turn.state, step, cut, **changes)
    if step in JOINABLE:
        turn.pastes.remember(turn.chat_id, Part(turn.date, step, await turn.state.get_state(), text, reply_id))


# --- free-text steps ---------------------------------------------------------------------


async def on_business(message: Message, bot: Bot, state: FSMContext, faq: FaqIndex, stats: StatsRepo,
                      pastes: Pastes) -> None:
    turn = turn_of(message, bot, state, faq, stats, pastes)
    if await joined(turn) or await answered(turn, "business"):
        return
    if len(turn.text) < form.MIN_BUSINESS:
        await reprompt(bot, turn.chat_id, state, texts.TOO_SHORT)
        return
    await store_text(turn, "business", turn.text)


async def on_comment(message: Message, bot: Bot, state: FSMContext, faq: FaqIndex, stats: StatsRepo,
                     pastes: Pastes) -> None:
    turn = turn_of(message, bot, state, faq, stats, pastes)
    if await joined(turn) or await answered(turn, "comment"):
        return
    await store_text(turn, "comment", turn.text)


async def on_name(message: Message, bot: Bot, state: FSMContext, faq: FaqIndex, stats: StatsRepo,
                  pastes: Pastes) -> None:
    turn = turn_of(message, bot, state, faq, stats, pastes)
    if await joined(turn):
        return
    try:
        name = parse_name(turn.text, form.LIMITS["name"])
    except Invalid as exc:
        if not await answered(turn, "name"):
            await reprompt(bot, turn.chat_id, state, texts.NAME_ERRORS[exc.code])
        return
    if await answered(turn, "name"):
        return
    await advance(bot, turn.chat_id, state, "name", name=name)


async def on_links(message: Message, bot: Bot, state: FSMContext, faq: FaqIndex, stats: StatsRepo,
                   pastes: Pastes) -> None:
    turn = turn_of(message, bot, state, faq, stats, pastes)
    if await joined(turn):
        return
    try:
        links = parse_links(turn.text)
    except Invalid as exc:
        if not await answered(turn, "links"):
            await reprompt(bot, turn.chat_id, state, texts.LINK_ERRORS[exc.code])
        return
    await advance(bot, turn.chat_id, state, "links", links=links)


# --- contact: the channel, then its value -------------------------------------------------


async def to_telegram(turn: Turn, step: str, note: str, settings: Settings, leads: LeadsRepo,
                      consent: ConsentRepo, delivery: Any) -> None:
    """The prospect declines a phone or an e-mail: Telegram is the channel. The note carries the
    removal of the phone step's keyboard."""
    await turn.say(note, reply_markup=ReplyKeyboardRemove())
    changes = {"contact_method": "tg", "phone": None, "email": None}
    if (await turn.state.get_data()).get("kind") == "callback":
        await brief_finish.submit_callback(turn.message, turn.bot, turn.state, changes, settings, leads, consent,
                                           delivery)
        return
    await advance(turn.bot, turn.chat_id, turn.state, step, **changes)


async def phone_given(turn: Turn, phone: str, settings: Settings, leads: LeadsRepo, consent: ConsentRepo,
                      delivery: Any) -> None:
    await turn.say(texts.PHONE_SAVED.format(phone=hd.quote(display_phone(phone))), reply_markup=ReplyKeyboardRemove())
    changes = {"contact_method": "phone", "phone": phone, "email": None}
    if (await turn.state.get_data()).get("kind") == "callback":
        await brief_finish.submit_callback(turn.message, turn.bot, turn.state, changes, settings, leads, consent,
                                           delivery)
        return
    await advance(turn.bot, turn.chat_id, turn.state, "phone", **changes)


async def email_given(turn: Turn, email: Email, note: str | None = None) -> None:
    """Stores the e-mail channel and address, after offering a fix for a domain typo."""
    if email.suggestion:
        await turn.state.update_data(contact_method="email", phone=None,
                                     email_fix={"typed": email.address, "fix": email.suggestion})
        await turn.state.set_state(Brief.email)
        await brief_finish.ask_email_fix(turn.bot, turn.chat_id, await turn.state.get_data())
        return
    await advance(turn.bot, turn.chat_id, turn.state, "email", note,
                  contact_method="email", email=email.address, phone=None)


def email_in(text: str) -> Email | None:
    try:
        return parse_email(text)
    except Invalid:
        return None


async def on_contact_text(message: Message, bot: Bot, state: FSMContext, faq: FaqIndex, stats: StatsRepo,
                          pastes: Pastes, settings: Settings, leads: LeadsRepo, consent: ConsentRepo,
                          delivery: Any = None) -> None:
    """Typed at the channel question: a number or an address is taken as the channel and its
    value; an option's name picks it; a question is answered; anything else (a refusal to give
    a phone or an e-mail) means Telegram."""
    turn = turn_of(message, bot, state, faq, stats, pastes)
    if await joined(turn):
        return
    text = turn.text
    if digits_in(text) >= form.CONTACT_PHONE_DIGITS:
        try:
            phone = parse_phone(text)
        except Invalid:
            pass
        else:
            note = texts.CONTACT_PHONE_FOUND.format(phone=hd.quote(display_phone(phone)))
            await advance(bot, turn.chat_id, state, "phone", note, contact_method="phone", phone=phone, email=None)
            return
    if "@" in text and (email := email_in(text)) is not None:
        await email_given(turn, email, texts.CONTACT_EMAIL_FOUND.format(email=hd.quote(email.address)))
        return
    code = match_option("contact", text)
    if code is not None:
        await pick(bot, turn.chat_id, state, "contact", code)
        return
    if asks(text) and await answered(turn, "contact"):
        return
    await to_telegram(turn, "contact", texts.CONTACT_TG, settings, leads, consent, delivery)


async def on_phone_text(message: Message, bot: Bot, state: FSMContext, faq: FaqIndex, stats: StatsRepo,
                        pastes: Pastes, settings: Settings, leads: LeadsRepo, consent: ConsentRepo,
                        delivery: Any = None) -> None:
    turn = turn_of(message, bot, state, faq, stats, pastes)
    if await joined(turn):
        return
    text = turn.text
    callback = (await state.get_data()).get("kind") == "callback"
    if text == texts.BTN_BACK and not callback:
        await turn.say(texts.CONTACT_BACK, reply_markup=ReplyKeyboardRemove())
        await go_back(bot, turn.chat_id, state, "phone")
        return
    if text == texts.BTN_PREFER_TG:
        await to_telegram(turn, "phone", texts.CONTACT_REFUSED, settings, leads, consent, delivery)
        return
    if digits_in(text) >= PHONE_MIN_DIGITS or (digits_in(text) and not any(ch.isalpha() for ch in text)):
        try:
            phone = parse_phone(text)
        except Invalid as exc:
            await reprompt(bot, turn.chat_id, state, texts.PHONE_ERRORS[exc.code].format(detail=exc.detail))
            return
        await phone_given(turn, phone, settings, leads, consent, delivery)
        return
    if "@" in text and not callback and (email := email_in(text)) is not None:
        await turn.say(texts.CONTACT_EMAIL_FOUND.format(email=hd.quote(email.address)),
                       reply_markup=ReplyKeyboardRemove())
        await email_given(turn, email)
        return
    if asks(text) and await answered(turn, "phone"):
        return
    await to_telegram(turn, "phone", texts.CONTACT_REFUSED, settings, leads, consent, delivery)


async def on_phone_contact(message: Message, bot: Bot, state: FSMContext, settings: Settings, leads: LeadsRepo,
                           consent: ConsentRepo, faq: FaqIndex, stats: StatsRepo, pastes: Pastes,
                           delivery: Any = None) -> None:
    contact = message.contact
    assert contact is not None
    if message.from_user is None or contact.user_id != message.from_user.id:
        await reprompt(bot, message.chat.id, state, texts.FOREIGN_CONTACT)
        return
    try:
        phone = normalize_contact_phone(contact.phone_number)
    except Invalid:
        await reprompt(bot, message.chat.id, state, texts.PHONE_ERRORS["invalid"])
        return
    await phone_given(turn_of(message, bot, state, faq, stats, pastes), phone, settings, leads, consent, delivery)


async def on_email_text(message: Message, bot: Bot, state: FSMContext, faq: FaqIndex, stats: StatsRepo,
                        pastes: Pastes, settings: Settings, leads: LeadsRepo, consent: ConsentRepo,
                        delivery: Any = None) -> None:
    turn = turn_of(message, bot, state, faq, stats, pastes)
    if await joined(turn):
        return
    text = turn.text
    if "@" in text:
        try:
            email = parse_email(text)
        except Invalid as exc:
            await reprompt(bot, turn.chat_id, state, texts.EMAIL_ERRORS[exc.code].format(detail=hd.quote(exc.detail)))
            return
        await email_given(turn, email)
        return
    if digits_in(text) >= form.CONTACT_PHONE_DIGITS:
        try:
            phone = parse_phone(text)
        except Invalid:
            pass
        else:
            note = texts.CONTACT_PHONE_FOUND.format(phone=hd.quote(display_phone(phone)))
            await advance(bot, turn.chat_id, state, "email", note, contact_method="phone", phone=phone, email=None)
            return
    if len(text.split()) == 1 and "." in text:  # "anna.mail.ru": an address missing its "@"
        await reprompt(bot, turn.chat_id, state, texts.EMAIL_ERRORS["no_at"])
        return
    if asks(text) and await answered(turn, "email"):
        return
    await to_telegram(turn, "email", texts.CONTACT_REFUSED_EMAIL, settings, leads, consent, delivery)


# --- button steps: typed text and presses --------------------------------------------------


def match_option(step: str, text: str) -> str | None:
    """The option whose label the text names (rapidfuzz against the step's own labels)."""
    labels = dict(form.PICK.get(step) or form.MULTI.get(step) or {})
    if step == "contact":
        labels = {code: f"{label} {texts.CONTACT_METHODS[code]}" for code, label in labels.items()}
    labels.pop(form.OTHER, None)
    found = process.extractOne(text, labels, scorer=fuzz.WRatio, processor=utils.default_process,
                               score_cutoff=MATCH_CUTOFF)
    return found[2] if found else None


async def pick(bot: Bot, chat_id: int, state: FSMContext, step: str, code: str) -> None:
    changes: dict[str, Any] = {form.field_of(step): code}
    if step == "contact":  # a phone or an e-mail is kept only for the channel chosen
        changes.update({k: None for k in form.CONTACT_VALUE if k != code})
    await advance(bot, chat_id, state, step, **changes)


async def on_choice_text(message: Message, bot: Bot, state: FSMContext, faq: FaqIndex, stats: StatsRepo,
                         pastes: Pastes) -> None:
    """Typed at a multi-choice step: an option's name ticks it; other text (not a question)
    is "Другое: <text>". At a single-choice step: the option it names, or the options listed."""
    turn = turn_of(message, bot, state, faq, stats, pastes)
    step = step_of(await state.get_state())
    if step is None or await joined(turn):
        return
    code = match_option(step, turn.text)  # an option's own name first: then it is not a question
    if code is None and await answered(turn, step):
        return
    if step in form.PICK:
        if code is not None:
            await pick(bot, turn.chat_id, state, step, code)
            return
        options = ", ".join(f"«{label}»" for label in form.PICK[step].values())
        await reprompt(bot, turn.chat_id, state, texts.NEED_CHOICE.format(options=options))
        return
    data = await state.get_data()
    chosen = list(data.get(step) or [])
    if code is None:
        code = form.OTHER
        other = turn.text[:form.LIMITS["other"]]
        await state.update_data({form.OTHER_FIELD[step]: other})
        note = texts.OTHER_ADDED.format(text=hd.quote(other))
    else:
        note = texts.OTHER_ADDED.format(text=hd.quote(form.MULTI[step][code]))
    if code not in chosen:
        chosen.append(code)
    await state.update_data({step: chosen})
    await reprompt(bot, turn.chat_id, state, note)


async def on_step_button(query: CallbackQuery, callback_data: StepCb, bot: Bot, state: FSMContext,
                         settings: Settings, leads: LeadsRepo, consent: ConsentRepo, delivery: Any = None) -> None:
    step = callback_data.s
    data = await brief_finish.guard(query, bot, state, callback_data.d, step)
    if data is None:
        return
    chat_id = query.from_user.id
    action, value = callback_data.a, callback_data.v
    if action == "back":
        await query.answer()
        await go_back(bot, chat_id, state, step)
    elif action == "skip" and step in form.OPTIONAL:
        await query.answer()
        await drop_buttons(query)
        await advance(bot, chat_id, state, step, **{step: None})
    elif action == "t" and step in form.MULTI and value in form.MULTI[step]:
        chosen = list(data.get(step) or [])
        chosen.remove(value) if value in chosen else chosen.append(value)
        changes: dict[str, Any] = {step: chosen}
        if value == form.OTHER and value not in chosen:
            changes[form.OTHER_FIELD[step]] = None
        await state.update_data(changes)
        await query.answer()
        _, keyboard = step_prompt(step, {**data, **changes})
        if isinstance(query.message, Message) and isinstance(keyboard, InlineKeyboardMarkup):
            await query.message.edit_reply_markup(reply_markup=keyboard)
    elif action == "done" and step in form.MULTI:
        if not data.get(step):
            await query.answer(texts.NEED_ONE, show_alert=True)
            return
        await query.answer()
        await drop_buttons(query)
        await advance(bot, chat_id, state, step)
    elif action == "p" and step in form.PICK and value in form.PICK[step]:
        await query.answer(form.PICK[step][value])
        await drop_buttons(query)
        await pick(bot, chat_id, state, step, value)
    elif action == "tg" and step == "email":
        await query.answer()
        await drop_buttons(query)
        await bot.send_message(chat_id, texts.CONTACT_REFUSED_EMAIL)
        await advance(bot, chat_id, state, "email", contact_method="tg", email=None, phone=None)
    elif action == "keep" and isinstance(held := data.get("held"), dict) and held.get("s") == step:
        await query.answer()
        await drop_buttons(query)
        await keep_held(query, bot, state, step, str(held.get("t") or ""))
    elif action == "ef" and step == "email" and isinstance(fix := data.get("email_fix"), dict):
        await query.answer()
        await drop_buttons(query)
        email = fix.get("fix") if value == "1" else fix.get("typed")
        await advance(bot, chat_id, state, "email", texts.EMAIL_SAVED.format(email=hd.quote(str(email))),
                      contact_method="email", email=email, phone=None)
    else:  # forged: right draft and step, but an action or value this step does not have
        await query.answer(texts.STALE_STEP)
        await reprompt(bot, chat_id, state)


async def keep_held(query: CallbackQuery, bot: Bot, state: FSMContext, step: str, text: str) -> None:
    """"Это мой ответ": a text the FAQ took for a question is stored as the step's answer."""
    chat_id = query.from_user.id
    if step == "name":
        try:
            text = parse_name(text, form.LIMITS["name"])
        except Invalid as exc:
            await reprompt(bot, chat_id, state, texts.NAME_ERRORS[exc.code])
            return
    changes, cut = answer_changes(step, text)
    await advance(bot, chat_id, state, step, cut, **changes)


# --- fallbacks inside the form --------------------------------------------------------


MEDIA = ("photo", "voice", "video_note", "sticker", "document", "video", "animation", "audio")


def media_kind(message: Message) -> str | None:
    for kind in MEDIA:
        if getattr(message, kind, None) is not None:
            return {"video": "video_note", "animation": "photo", "audio": "voice"}.get(kind, kind)
    return None


async def in_form_command(message: Message, bot: Bot, state: FSMContext) -> None:
    await reprompt(bot, message.chat.id, state, texts.IN_FORM_COMMAND)


async def need_button(message: Message, bot: Bot, state: FSMContext) -> None:
    current = await state.get_state()
    await reprompt(bot, message.chat.id, state,
                   texts.SUMMARY_NEED_BUTTON if current == Brief.summary.state else texts.NEED_BUTTON)


async def need_text(message: Message, bot: Bot, state: FSMContext) -> None:
    prefix = texts.NEED_TEXT_MEDIA.get(media_kind(message) or "", texts.NEED_TEXT)
    await reprompt(bot, message.chat.id, state, prefix)


def create_router() -> Router:
    router = Router(name="brief")
    router.message.filter(ChatType(PRIVATE))
    router.callback_query.filter(ChatType(PRIVATE))
    in_form = StateFilter(*IN_FORM)
    text = (HasText(), ~IsCommand())

    router.message.register(cmd_brief, Command("brief"))
    router.callback_query.register(menu_brief, MenuCb.filter(F.action == "brief"))
    router.callback_query.register(menu_call, MenuCb.filter(F.action == "call"))
    router.callback_query.register(on_consent, ConsentCb.filter())
    router.callback_query.register(on_step_button, StepCb.filter())
    brief_finish.register(router)

    router.message.register(in_form_command, in_form, IsCommand())
    router.message.register(on_business, StateFilter(Brief.business), *text)
    router.message.register(on_links, StateFilter(Brief.links), *text)
    router.message.register(on_name, StateFilter(Brief.name), *text)
    router.message.register(on_contact_text, StateFilter(Brief.contact), *text)
    router.message.register(on_phone_contact, StateFilter(Brief.phone), HasContact())
    router.message.register(on_phone_text, StateFilter(Brief.phone), *text)
    router.message.register(on_email_text, StateFilter(Brief.email), *text)
    router.message.register(on_comment, StateFilter(Brief.comment), *text)
    choice_states = [STATE_OF[s] for s in (*form.MULTI, *form.PICK) if s != "contact"]
    router.message.register(on_choice_text, StateFilter(*choice_states), *text)
    router.message.register(brief_finish.on_summary_text, StateFilter(Brief.summary), *text)
    router.message.register(brief_finish.on_addition_text, StateFilter(Brief.addition), *text)
    router.message.register(need_button, StateFilter(*choice_states, Brief.contact, Brief.summary))
    router.message.register(need_text, in_form)
    router.message.register(brief_finish.addition_need_text, StateFilter(Brief.addition))
    return router
