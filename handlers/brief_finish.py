"""The end of the brief: the summary and its buttons, submit (committed before the screen
changes), the marketing offer bound to its message, a returning prospect's choice between adding
to their lead and a new one, and the call-back request."""

from __future__ import annotations

import secrets
from typing import Any

from aiogram import Bot, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message, ReplyKeyboardRemove, User
from aiogram.utils.text_decorations import html_decoration as hd

from bot import brief_form as form
from bot.consent import marketing_consent
from bot.dates import human_date
from bot.faq_service import FaqService
from bot.funnel import Funnel
from bot.pastes import Part, Pastes
from bot.settings import Settings
from bot.texts import brief as texts
from bot.texts import common as common_texts
from bot.texts import consent as consent_texts
from handlers.brief_view import (
    addition_view,
    back_to_draft,
    cancel_confirm_view,
    consent_view,
    reprompt,
    revision,
    show,
)
from handlers.callbacks import LeadCb, MarketingCb, StepCb, SummaryCb
from handlers.draft import clear_draft, kept
from handlers.keyboards import button, drop_buttons, markup
from handlers.states import IN_FORM, SUMMARY, Brief, state_of, step_of
from handlers.turns import Turn, answered, joined
from storage.consent import ConsentRepo
from storage.leads import Lead, LeadsRepo
from storage.stats import StatsRepo


async def guard(query: CallbackQuery, bot: Bot, state: FSMContext, d: str, step: str) -> dict[str, Any] | None:
    """A form button counts only if it belongs to the current draft and its current step; a
    button of a paused draft's step takes the prospect back into the brief."""
    current = await state.get_state()
    data = await state.get_data()
    if current == Brief.paused.state and data.get("d") == d and data.get("paused") == step:
        data.pop("paused", None)
        await state.set_data(data)
        await state.set_state(state_of(step))
        current = await state.get_state()
    if current not in IN_FORM or data.get("d") != d:
        await query.answer(texts.STALE_FORM, show_alert=True)
        return None
    if step_of(current) != step:
        await query.answer(texts.STALE_STEP)
        await reprompt(bot, query.from_user.id, state, texts.STALE_STEP)
        return None
    return data


async def ask_email_fix(bot: Bot, chat_id: int, data: dict[str, Any]) -> None:
    """"anna@gmial.con — может быть, anna@gmail.com?" before the address is stored."""
    fix = data["email_fix"]
    domain = str(fix["typed"]).rpartition("@")[2]
    rows = [[button(texts.BTN_EMAIL_FIX.format(address=fix["fix"]), StepCb(d=data["d"], s="email", a="ef", v="1"))],
            [button(texts.BTN_EMAIL_KEEP, StepCb(d=data["d"], s="email", a="ef", v="0"))]]
    text = texts.EMAIL_TYPO.format(suggestion=hd.quote(str(fix["fix"])), domain=hd.quote(domain))
    await bot.send_message(chat_id, text, reply_markup=markup(rows))


# --- the summary ---------------------------------------------------------------------------


async def on_summary_text(message: Message, bot: Bot, state: FSMContext, faq: FaqService, stats: StatsRepo,
                          pastes: Pastes) -> None:
    turn = Turn(message, bot, state, faq, stats, pastes)
    if await joined(turn) or await answered(turn, SUMMARY, questions=True):
        return
    await reprompt(bot, message.chat.id, state, texts.SUMMARY_NEED_BUTTON)


async def on_summary_button(
    query: CallbackQuery, callback_data: SummaryCb, bot: Bot, state: FSMContext,
    settings: Settings, leads: LeadsRepo, consent: ConsentRepo,
) -> None:
    chat_id = query.from_user.id
    current = await state.get_state()
    data = await state.get_data()
    if current == Brief.paused.state and data.get("d") == callback_data.d and data.get("paused") == SUMMARY:
        data.pop("paused", None)
        await state.set_data(data)
        await state.set_state(Brief.summary)
        current = Brief.summary.state
    if current not in IN_FORM or data.get("d") != callback_data.d:
        stale = texts.ALREADY_SUBMITTED if callback_data.a == "submit" else texts.STALE_FORM
        await query.answer(stale, show_alert=True)
        return
    if current != Brief.summary.state:
        await query.answer(texts.STALE_STEP)
        await reprompt(bot, chat_id, state, texts.STALE_STEP)
        return
    action = callback_data.a
    if action in ("edit", "submit", "cancel") and callback_data.r != revision(data):
        await query.answer(texts.STALE_SUMMARY)
        await show(bot, chat_id, SUMMARY, data, texts.STALE_SUMMARY)
        return
    if action == "submit":
        await submit(query.from_user, bot, state, data, settings, leads, consent, query)
    elif action == "edit" and callback_data.f in form.EDITABLE:
        await query.answer()
        data["editing"] = True
        await state.set_data(data)
        await state.set_state(state_of(callback_data.f))
        await show(bot, chat_id, callback_data.f, data)
    elif action == "cancel":
        await query.answer()
        text, keyboard = cancel_confirm_view(data)
        await bot.send_message(chat_id, text, reply_markup=keyboard)
    elif action == "keep":
        await query.answer()
        await drop_buttons(query)
        await show(bot, chat_id, SUMMARY, data, texts.KEPT)
    elif action == "drop":
        await query.answer()
        await drop_buttons(query)
        await clear_draft(state)
        await bot.send_message(chat_id, common_texts.CANCELLED, reply_markup=ReplyKeyboardRemove())
    else:
        await query.answer(texts.STALE_STEP)
        await reprompt(bot, chat_id, state)


# --- submit ----------------------------------------------------------------------------------


async def submit(
    user: User, bot: Bot, state: FSMContext, data: dict[str, Any], settings: Settings,
    leads: LeadsRepo, consent: ConsentRepo, query: CallbackQuery | None = None,
) -> None:
    """Commits the lead first, then ends the draft, then changes the screen: a crash at any
    point loses nothing (the draft stays at the summary until the lead is stored, and a repeated
    submit of the same draft returns the same lead)."""
    fields = form.lead_fields(data)
    fields["username"] = user.username
    fields["tg_name"] = user.full_name
    kind = "callback" if data.get("kind") == "callback" else "brief"
    lead_id, _created = await leads.submit(
        user_id=user.id, submit_key=data["submit_key"], consent_event_id=data["consent_event_id"],
        source=data.get("source"), fields=fields, kind=kind,
    )
    offer = None if await consent.is_subscribed(user.id) else marketing_consent(settings)
    nonce = secrets.token_hex(4)
    await clear_draft(state, **({"mk": {"n": nonce, "v": offer.version}} if offer else {}))
    if query is not None:
        await query.answer()
        await drop_buttons(query)
    method = str(data.get("contact_method") or "")
    if kind == "callback":
        text = texts.CALLBACK_SUBMITTED.format(lead_id=lead_id, contact=texts.CALLBACK_PROMISE.get(
            method, texts.CONTACT_PROMISE_DEFAULT))
    else:
        text = texts.SUBMITTED.format(lead_id=lead_id, contact=texts.CONTACT_PROMISE.get(
            method, texts.CONTACT_PROMISE_DEFAULT))
    # A call-back request ends at the phone step: its confirmation takes that keyboard away.
    await bot.send_message(user.id, text, reply_markup=ReplyKeyboardRemove() if kind == "callback" else None)
    if offer is not None:
        rows = [[button(consent_texts.BTN_MARKETING_YES, MarketingCb(ok=1, n=nonce)),
                 button(consent_texts.BTN_MARKETING_NO, MarketingCb(ok=0, n=nonce))]]
        await bot.send_message(user.id, offer.text, reply_markup=markup(rows))


async def submit_callback(message: Message, bot: Bot, state: FSMContext, changes: dict[str, Any],
                          settings: Settings, leads: LeadsRepo, consent: ConsentRepo) -> None:
    """A call-back request is sent as soon as its contact is known."""
    assert message.from_user is not None
    data = {**await state.get_data(), **changes}
    await submit(message.from_user, bot, state, data, settings, leads, consent)


async def on_marketing(
    query: CallbackQuery, callback_data: MarketingCb, bot: Bot, state: FSMContext, settings: Settings,
    consent: ConsentRepo,
) -> None:
    """The offer's buttons work once, on the message that showed it, and not after /withdraw
    (which deletes the FSM data holding its nonce)."""
    data = await state.get_data()
    shown = data.get("mk")
    if not callback_data.n or not isinstance(shown, dict) or shown.get("n") != callback_data.n:
        await query.answer(texts.MARKETING_STALE, show_alert=True)
        return
    await query.answer()
    await drop_buttons(query)
    data.pop("mk", None)
    await state.set_data(data)
    user_id = query.from_user.id
    doc = marketing_consent(settings)
    if callback_data.ok and shown.get("v") != doc.version:
        nonce = secrets.token_hex(4)  # the wording changed since: agree to the current text
        await state.update_data(mk={"n": nonce, "v": doc.version})
        rows = [[button(consent_texts.BTN_MARKETING_YES, MarketingCb(ok=1, n=nonce)),
                 button(consent_texts.BTN_MARKETING_NO, MarketingCb(ok=0, n=nonce))]]
        await bot.send_message(user_id, doc.text, reply_markup=markup(rows))
        return
    if callback_data.ok:
        if not await consent.is_subscribed(user_id):
            await consent.grant_marketing(user_id, doc)
        await bot.send_message(user_id, consent_texts.MARKETING_ON)
    else:
        await bot.send_message(user_id, consent_texts.MARKETING_OFF)


# --- a returning prospect ----------------------------------------------------------------


async def latest_lead(leads: LeadsRepo, user_id: int) -> Lead | None:
    active = await leads.by_user(user_id)
    return active[-1] if active else None


async def offer_returning(bot: Bot, user_id: int, settings: Settings, leads: LeadsRepo, *,
                          waiting: bool = False) -> bool:
    """"У вас уже есть заявка №N": add to it, or start a new one (`waiting`: said to someone who
    asks for a call or to order, "the specialist will get back to you"). False: no lead."""
    lead = await latest_lead(leads, user_id)
    if lead is None:
        return False
    rows = [[button(texts.BTN_ADD_TO_LEAD.format(lead_id=lead.id), LeadCb(a="add", lead=lead.id))],
            [button(texts.BTN_NEW_LEAD, LeadCb(a="new", lead=lead.id))]]
    if waiting:
        contact = texts.LEAD_CONTACT.get(str(lead.fields.get("contact_method")), texts.CONTACT_PROMISE_DEFAULT)
        text = texts.LEAD_WAITING.format(lead_id=lead.id, contact=contact)
    else:
        text = texts.HAS_LEAD.format(lead_id=lead.id, created=human_date(lead.created_at, settings.timezone))
    await bot.send_message(user_id, text, reply_markup=markup(rows))
    return True


async def on_lead_button(query: CallbackQuery, callback_data: LeadCb, bot: Bot, state: FSMContext,
                         settings: Settings, leads: LeadsRepo, funnel: Funnel) -> None:
    user_id = query.from_user.id
    lead = await leads.get(callback_data.lead)
    if lead is None or lead.user_id != user_id or lead.status != "active":
        await query.answer(texts.ADD_GONE.format(lead_id=callback_data.lead), show_alert=True)
        return
    current = await state.get_state()
    if callback_data.a == "held" and current == Brief.addition.state:
        data = await state.get_data()
        held = data.get("held")
        await query.answer()
        await drop_buttons(query)
        if isinstance(held, dict) and held.get("s") == "addition":
            await add_to_lead(bot, user_id, state, leads, lead, str(held.get("t") or ""), None)
        return
    await query.answer()
    await drop_buttons(query)
    if await back_to_draft(bot, user_id, state):
        return
    if callback_data.a == "add":
        data = await kept(state)
        data["add_lead"] = lead.id
        await state.set_data(data)
        await state.set_state(Brief.addition)
        text, keyboard = addition_view(data)
        await bot.send_message(user_id, text, reply_markup=keyboard)
    else:
        text, keyboard = consent_view(settings)
        await bot.send_message(user_id, text, reply_markup=keyboard)
        await funnel.record("brief", user_id, state=state)


async def add_to_lead(bot: Bot, chat_id: int, state: FSMContext, leads: LeadsRepo, lead: Lead,
                      text: str, pastes: Pastes | None, date: float = 0.0, *, edit_id: int | None = None) -> None:
    """Appends the text to the lead's additions (the agency's card is edited and a notice sent
    when the card is already out) and ends the addition. `edit_id`: the bot's reply to the
    previous part of a paste, whose addition this text replaces, joined."""
    limit = form.LIMITS["addition"]
    additions = list(lead.fields.get("additions") or [])
    if edit_id is not None and additions:
        additions.pop()
    additions.append(text[:limit])
    ok = await leads.update_fields(lead.id, chat_id, {"additions": additions})
    if await state.get_state() == Brief.addition.state:
        await clear_draft(state)
    if not ok:
        await bot.send_message(chat_id, texts.ADD_GONE.format(lead_id=lead.id))
        return
    note = texts.ADDED.format(lead_id=lead.id)
    if len(text) > limit:
        note = f"{texts.CUT.format(limit=limit)}\n\n{note}"
    reply_id = None
    if edit_id is not None:
        try:
            await bot.edit_message_text(f"{texts.JOINED}\n\n{note}", chat_id=chat_id, message_id=edit_id)
            reply_id = edit_id
        except TelegramBadRequest:
            pass
    if reply_id is None:
        reply_id = (await bot.send_message(chat_id, note)).message_id
    if pastes is not None:
        pastes.remember(chat_id, Part(date, "addition", None, text, reply_id))


async def on_addition_text(message: Message, bot: Bot, state: FSMContext, faq: FaqService, stats: StatsRepo,
                           pastes: Pastes, leads: LeadsRepo) -> None:
    turn = Turn(message, bot, state, faq, stats, pastes)
    data = await state.get_data()
    lead = await leads.get(int(data.get("add_lead") or 0))
    if lead is None or lead.user_id != turn.chat_id or lead.status != "active":
        await clear_draft(state)
        await bot.send_message(turn.chat_id, texts.ADD_GONE.format(lead_id=data.get("add_lead")))
        return
    if await answered(turn, "addition"):
        return
    await add_to_lead(bot, turn.chat_id, state, leads, lead, turn.text, pastes, turn.date)


async def join_addition(message: Message, bot: Bot, part: Part, pastes: Pastes, leads: LeadsRepo,
                        state: FSMContext) -> bool:
    """The next part of a pasted addition replaces the part stored before it, joined."""
    assert message.from_user is not None
    active = await leads.by_user(message.from_user.id)
    if not active:
        return False
    text = f"{part.text}\n{(message.text or '').strip()}"
    await add_to_lead(bot, message.chat.id, state, leads, active[-1], text, pastes,
                      message.date.timestamp(), edit_id=part.reply_id)
    return True


async def addition_need_text(message: Message, bot: Bot, state: FSMContext) -> None:
    await reprompt(bot, message.chat.id, state, texts.NEED_TEXT)


def register(router: Router) -> None:
    router.callback_query.register(on_summary_button, SummaryCb.filter())
    router.callback_query.register(on_marketing, MarketingCb.filter())
    router.callback_query.register(on_lead_button, LeadCb.filter())

