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
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.text_decorations import html_decoration as hd

from bot import brief_form as form
from bot.consent import pd_consent
from bot.contacts import parse_links, parse_name
from bot.faq_service import FaqService
from bot.funnel import Funnel
from bot.pastes import Pastes
from bot.settings import Settings
from bot.texts import brief as texts
from bot.texts import consent as consent_texts
from bot.validation import Invalid
from handlers import brief_contact, brief_finish, talk
from handlers.brief_steps import advance, go_back, match_option, pick, store_text
from handlers.brief_view import back_to_draft, consent_view, reprompt, show, step_prompt
from handlers.callbacks import ConsentCb, MenuCb, StepCb
from handlers.draft import kept, unfinished
from handlers.filters import PRIVATE, ChatType, HasText, IsCommand
from handlers.keyboards import drop_buttons
from handlers.states import IN_FORM, STATE_OF, STEP_OF, Brief, step_of
from handlers.turns import Turn, answer_changes, answered, joined
from storage.consent import ConsentRepo
from storage.leads import LeadsRepo
from storage.stats import StatsRepo

# Names the rights router and older callers use.
STEPS = form.FIELDS
LIMITS = form.LIMITS
__all__ = ["STATE_OF", "STEP_OF", "STEPS", "LIMITS", "Brief", "reprompt", "create_router"]


# --- entry and consent -----------------------------------------------------------------


async def start_brief(bot: Bot, user_id: int, state: FSMContext, settings: Settings, leads: LeadsRepo,
                      funnel: Funnel) -> None:
    """/brief and its buttons: the draft where it stopped, a returning prospect's choice, or
    the consent screen (always first for a new brief)."""
    if await back_to_draft(bot, user_id, state) or await brief_finish.offer_returning(bot, user_id, settings, leads):
        return
    text, keyboard = consent_view(settings)
    await bot.send_message(user_id, text, reply_markup=keyboard)
    await funnel.record("brief", user_id, state=state)


async def cmd_brief(message: Message, bot: Bot, state: FSMContext, settings: Settings, leads: LeadsRepo,
                    funnel: Funnel) -> None:
    await start_brief(bot, message.chat.id, state, settings, leads, funnel)


async def menu_brief(query: CallbackQuery, bot: Bot, state: FSMContext, settings: Settings, leads: LeadsRepo,
                     funnel: Funnel) -> None:
    await query.answer()
    await start_brief(bot, query.from_user.id, state, settings, leads, funnel)


async def menu_call(query: CallbackQuery, bot: Bot, state: FSMContext, settings: Settings, leads: LeadsRepo,
                    funnel: Funnel) -> None:
    """"Перезвоните мне": consent, then a phone number, then the request goes to the agency."""
    await query.answer()
    if await unfinished(state) is not None:
        await start_brief(bot, query.from_user.id, state, settings, leads, funnel)
        return
    text, keyboard = consent_view(settings, "c")
    await bot.send_message(query.from_user.id, text, reply_markup=keyboard)
    await funnel.record("brief", query.from_user.id, state=state)


async def on_consent(
    query: CallbackQuery, callback_data: ConsentCb, bot: Bot, state: FSMContext,
    settings: Settings, consent: ConsentRepo, funnel: Funnel,
) -> None:
    chat_id = query.from_user.id
    await query.answer()
    if await back_to_draft(bot, chat_id, state):
        return
    doc = pd_consent(settings)
    if callback_data.v != doc.version:
        text, keyboard = consent_view(settings, callback_data.k)  # the wording changed: show the current one
        await bot.send_message(chat_id, text, reply_markup=keyboard)
        return
    await drop_buttons(query)
    if not callback_data.ok:
        await bot.send_message(chat_id, consent_texts.DECLINED)
        return
    event_id = await consent.grant_pd(query.from_user.id, doc)
    await funnel.record("consent", chat_id, state=state)
    submit_key = uuid.uuid4().hex
    data = await kept(state)
    callback = callback_data.k == "c"
    data.update(d=submit_key[:8], submit_key=submit_key, consent_event_id=event_id,
                kind="callback" if callback else "brief")
    first = "phone" if callback else form.QUESTIONS[0]
    await state.set_data(data)
    await state.set_state(STATE_OF[first])
    await show(bot, chat_id, first, data)


# --- free-text steps ---------------------------------------------------------------------


async def on_business(message: Message, bot: Bot, state: FSMContext, faq: FaqService, stats: StatsRepo,
                      pastes: Pastes) -> None:
    turn = Turn(message, bot, state, faq, stats, pastes)
    if await joined(turn) or await answered(turn, "business"):
        return
    if len(turn.text) < form.MIN_BUSINESS:
        await reprompt(bot, turn.chat_id, state, texts.TOO_SHORT)
        return
    await store_text(turn, "business", turn.text)


async def on_comment(message: Message, bot: Bot, state: FSMContext, faq: FaqService, stats: StatsRepo,
                     pastes: Pastes) -> None:
    turn = Turn(message, bot, state, faq, stats, pastes)
    if await joined(turn) or await answered(turn, "comment"):
        return
    await store_text(turn, "comment", turn.text)


async def on_name(message: Message, bot: Bot, state: FSMContext, faq: FaqService, stats: StatsRepo,
                  pastes: Pastes) -> None:
    turn = Turn(message, bot, state, faq, stats, pastes)
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


async def on_links(message: Message, bot: Bot, state: FSMContext, faq: FaqService, stats: StatsRepo,
                   pastes: Pastes) -> None:
    turn = Turn(message, bot, state, faq, stats, pastes)
    if await joined(turn):
        return
    try:
        links = parse_links(turn.text)
    except Invalid as exc:
        if not await answered(turn, "links"):
            await reprompt(bot, turn.chat_id, state, texts.LINK_ERRORS[exc.code])
        return
    await advance(bot, turn.chat_id, state, "links", links=links)


# --- button steps: typed text and presses --------------------------------------------------


async def on_choice_text(message: Message, bot: Bot, state: FSMContext, faq: FaqService, stats: StatsRepo,
                         pastes: Pastes) -> None:
    """Typed at a multi-choice step: an option's name ticks it; a question is answered (or
    passed to a manager); other text is "Другое: <text>". At a single-choice step: the option it
    names, or the options listed."""
    turn = Turn(message, bot, state, faq, stats, pastes)
    step = step_of(await state.get_state())
    if step is None or await joined(turn):
        return
    code = match_option(step, turn.text)  # an option's own name first: then it is not a question
    if code is None and await answered(turn, step, questions=True):
        return
    if code is None and not talk.wordy(turn.text):  # only emoji: not a "Другое"
        await reprompt(bot, turn.chat_id, state, texts.NEED_BUTTON)
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
                         settings: Settings, leads: LeadsRepo, consent: ConsentRepo) -> None:
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
    brief_contact.register(router)
    router.message.register(on_comment, StateFilter(Brief.comment), *text)
    choice_states = [STATE_OF[s] for s in (*form.MULTI, *form.PICK) if s != "contact"]
    router.message.register(on_choice_text, StateFilter(*choice_states), *text)
    router.message.register(brief_finish.on_summary_text, StateFilter(Brief.summary), *text)
    router.message.register(brief_finish.on_addition_text, StateFilter(Brief.addition), *text)
    router.message.register(need_button, StateFilter(*choice_states, Brief.contact, Brief.summary))
    router.message.register(need_text, in_form)
    router.message.register(brief_finish.addition_need_text, StateFilter(Brief.addition))
    return router
