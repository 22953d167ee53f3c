"""The contact question: the channel first (Telegram is enough on its own), then a phone or an
e-mail only for the channel chosen. A refusal ("нет", "не хочу", "пишите в телеграм") means
Telegram; a number or an address typed anywhere on the way is taken as what it is."""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import Message, ReplyKeyboardRemove
from aiogram.utils.text_decorations import html_decoration as hd

from bot import brief_form as form
from bot.contacts import Email, digits_in, display_phone, names_a_domain, parse_email, parse_phone
from bot.faq_service import FaqService
from bot.pastes import Pastes
from bot.settings import Settings
from bot.texts import brief as texts
from bot.validation import Invalid, normalize_contact_phone
from handlers import brief_finish
from handlers.brief_steps import advance, go_back, match_option, pick
from handlers.brief_view import reprompt
from handlers.filters import HasContact, HasText, IsCommand
from handlers.states import Brief
from handlers.turns import Turn, answered, joined
from storage.consent import ConsentRepo
from storage.leads import LeadsRepo
from storage.stats import StatsRepo

PHONE_MIN_DIGITS = 5  # fewer digits in a sentence: it is not an attempt at a number


async def to_telegram(turn: Turn, step: str, note: str, settings: Settings, leads: LeadsRepo,
                      consent: ConsentRepo) -> None:
    """The prospect declines a phone or an e-mail: Telegram is the channel. At the phone step the
    note is a message of its own, to take the step's reply keyboard away."""
    changes = {"contact_method": "tg", "phone": None, "email": None}
    if (await turn.state.get_data()).get("kind") == "callback":  # its confirmation says it all
        await brief_finish.submit_callback(turn.message, turn.bot, turn.state, changes, settings, leads, consent)
        return
    if step == "phone":
        await turn.say(note, reply_markup=ReplyKeyboardRemove())
    await advance(turn.bot, turn.chat_id, turn.state, step, None if step == "phone" else note, **changes)


async def phone_given(turn: Turn, phone: str, settings: Settings, leads: LeadsRepo, consent: ConsentRepo) -> None:
    await turn.say(texts.PHONE_SAVED.format(phone=hd.quote(display_phone(phone))), reply_markup=ReplyKeyboardRemove())
    changes = {"contact_method": "phone", "phone": phone, "email": None}
    if (await turn.state.get_data()).get("kind") == "callback":
        await brief_finish.submit_callback(turn.message, turn.bot, turn.state, changes, settings, leads, consent)
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


def phone_in(text: str) -> str | None:
    """A full phone number among other words (at the channel or e-mail question)."""
    if digits_in(text) < form.CONTACT_PHONE_DIGITS:
        return None
    try:
        return parse_phone(text)
    except Invalid:
        return None


async def phone_found(turn: Turn, step: str, phone: str) -> None:
    note = texts.CONTACT_PHONE_FOUND.format(phone=hd.quote(display_phone(phone)))
    await advance(turn.bot, turn.chat_id, turn.state, step, note, contact_method="phone", phone=phone, email=None)


def email_in(text: str) -> Email | None:
    try:
        return parse_email(text)
    except Invalid:
        return None


async def on_contact_text(message: Message, bot: Bot, state: FSMContext, faq: FaqService, stats: StatsRepo,
                          pastes: Pastes, settings: Settings, leads: LeadsRepo, consent: ConsentRepo) -> None:
    """Typed at the channel question: a number or an address is taken as the channel and its
    value; an option's name picks it; a question is answered; anything else (a refusal to give
    a phone or an e-mail) means Telegram."""
    turn = Turn(message, bot, state, faq, stats, pastes)
    if await joined(turn):
        return
    text = turn.text
    if (phone := phone_in(text)) is not None:
        await phone_found(turn, "phone", phone)
        return
    if "@" in text and (email := email_in(text)) is not None:
        await email_given(turn, email, texts.CONTACT_EMAIL_FOUND.format(email=hd.quote(email.address)))
        return
    code = match_option("contact", text)
    reading = faq.search(text)
    if code is None and reading.intent == "callback":
        code = "phone"  # "позвоните мне"
    if code is not None:
        await pick(bot, turn.chat_id, state, "contact", code)
        return
    if await answered(turn, "contact", reading=reading, sure_answers=False, questions=True):
        return
    await to_telegram(turn, "contact", texts.CONTACT_TG, settings, leads, consent)


async def on_phone_text(message: Message, bot: Bot, state: FSMContext, faq: FaqService, stats: StatsRepo,
                        pastes: Pastes, settings: Settings, leads: LeadsRepo, consent: ConsentRepo) -> None:
    turn = Turn(message, bot, state, faq, stats, pastes)
    if await joined(turn):
        return
    text = turn.text
    callback = (await state.get_data()).get("kind") == "callback"
    if text == texts.BTN_BACK and not callback:
        await turn.say(texts.CONTACT_BACK, reply_markup=ReplyKeyboardRemove())
        await go_back(bot, turn.chat_id, state, "phone")
        return
    if text == texts.BTN_PREFER_TG:
        await to_telegram(turn, "phone", texts.CONTACT_REFUSED, settings, leads, consent)
        return
    if digits_in(text) >= PHONE_MIN_DIGITS or (digits_in(text) and not any(ch.isalpha() for ch in text)):
        try:
            phone = parse_phone(text)
        except Invalid as exc:
            await reprompt(bot, turn.chat_id, state, texts.PHONE_ERRORS[exc.code].format(detail=exc.detail))
            return
        await phone_given(turn, phone, settings, leads, consent)
        return
    if "@" in text and not callback and (email := email_in(text)) is not None:
        await turn.say(texts.CONTACT_EMAIL_FOUND.format(email=hd.quote(email.address)),
                       reply_markup=ReplyKeyboardRemove())
        await email_given(turn, email)
        return
    reading = faq.search(text)
    if reading.intent == "callback":  # "перезвоните мне": then a number is needed
        await reprompt(bot, turn.chat_id, state, texts.CALLBACK_NEEDS_PHONE)
        return
    if await answered(turn, "phone", reading=reading, sure_answers=False, questions=True):
        return
    await to_telegram(turn, "phone", texts.CONTACT_REFUSED, settings, leads, consent)


async def on_phone_contact(message: Message, bot: Bot, state: FSMContext, settings: Settings, leads: LeadsRepo,
                           consent: ConsentRepo, faq: FaqService, stats: StatsRepo, pastes: Pastes) -> None:
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
    await phone_given(Turn(message, bot, state, faq, stats, pastes), phone, settings, leads, consent)


async def on_email_text(message: Message, bot: Bot, state: FSMContext, faq: FaqService, stats: StatsRepo,
                        pastes: Pastes, settings: Settings, leads: LeadsRepo, consent: ConsentRepo) -> None:
    turn = Turn(message, bot, state, faq, stats, pastes)
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
    if (phone := phone_in(text)) is not None:
        await phone_found(turn, "email", phone)
        return
    if names_a_domain(text):  # "anna.mail.ru", "anna собака mail.ru": an address missing its "@"
        await reprompt(bot, turn.chat_id, state, texts.EMAIL_ERRORS["no_at"])
        return
    reading = faq.search(text)
    if reading.intent == "callback":  # "лучше позвоните": the phone instead
        await pick(bot, turn.chat_id, state, "contact", "phone")
        return
    if await answered(turn, "email", reading=reading, sure_answers=False, questions=True):
        return
    await to_telegram(turn, "email", texts.CONTACT_REFUSED_EMAIL, settings, leads, consent)


def register(router: Router) -> None:
    text = (HasText(), ~IsCommand())
    router.message.register(on_contact_text, StateFilter(Brief.contact), *text)
    router.message.register(on_phone_contact, StateFilter(Brief.phone), HasContact())
    router.message.register(on_phone_text, StateFilter(Brief.phone), *text)
    router.message.register(on_email_text, StateFilter(Brief.email), *text)
