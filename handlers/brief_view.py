"""How the brief looks: each step's question and buttons, the summary, the consent screen."""

from __future__ import annotations

import json
import zlib
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.fsm.context import FSMContext
from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    ReplyKeyboardMarkup,
)
from aiogram.utils.text_decorations import html_decoration as hd

from bot import brief_form as form
from bot.cards import field_text
from bot.consent import pd_consent
from bot.settings import Settings
from bot.texts import brief as texts
from bot.texts import consent as consent_texts
from handlers.callbacks import ConsentCb, LeadCb, StepCb, SummaryCb
from handlers.keyboards import button, grid, markup, phone_keyboard
from handlers.states import STATE_OF, SUMMARY, Brief, state_of, step_of

Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup
REPLY_KEYBOARD_STEPS = frozenset({"phone"})  # steps whose buttons live under the input field


def revision(data: dict[str, Any]) -> str:
    """A short hash of the answers: a summary's buttons act only on what that summary showed."""
    answers = json.dumps(form.lead_fields(data), ensure_ascii=False, sort_keys=True)
    return f"{zlib.crc32(answers.encode()):08x}"


def header(step: str, *, cont: bool = False) -> str:
    n = form.number(step)
    if n is None:
        return texts.CONTINUE_PLAIN if cont else ""
    return (texts.CONTINUE_HEADER if cont else texts.STEP_HEADER).format(n=n, total=form.TOTAL)


def _option_label(step: str, code: str, label: str, data: dict[str, Any]) -> str:
    other = data.get(form.OTHER_FIELD.get(step, ""))
    if code == form.OTHER and other:
        text = str(other)
        if len(text) > texts.OTHER_BUTTON_MAX:
            text = text[:texts.OTHER_BUTTON_MAX - 1] + "…"
        label = texts.OTHER_LABEL.format(text=text)
    return label


def step_prompt(step: str, data: dict[str, Any], *, cont: bool = False) -> tuple[str, Markup]:
    callback = data.get("kind") == "callback"
    prompt = texts.CALLBACK_PROMPT if callback and step == "phone" else texts.PROMPTS[step]
    text = ("" if callback else header(step, cont=cont)) + prompt
    value = data.get(form.field_of(step))
    if data.get("editing") and value not in (None, "", []):
        shown = field_text(form.field_of(step), value, data) or texts.EMPTY_VALUE
        text += texts.NOW_VALUE.format(value=hd.quote(shown))
    text += texts.WAY_OUT
    if step == "phone":
        return text, phone_keyboard(texts.BTN_PREFER_TG, *(() if callback else (texts.BTN_BACK,)))
    d = data["d"]
    rows: list[list[InlineKeyboardButton]] = []
    if step in form.MULTI:
        chosen = set(data.get(step) or [])
        options = [
            button((texts.CHECK_ON if code in chosen else texts.CHECK_OFF) + _option_label(step, code, label, data),
                   StepCb(d=d, s=step, a="t", v=code))
            for code, label in form.MULTI[step].items()
        ]
        rows += grid(options, 2)
        rows.append([button(texts.BTN_DONE, StepCb(d=d, s=step, a="done"))])
    elif step in form.PICK:
        rows += [[button(label, StepCb(d=d, s=step, a="p", v=code))] for code, label in form.PICK[step].items()]
    elif step == "email":
        rows.append([button(texts.BTN_PREFER_TG, StepCb(d=d, s=step, a="tg"))])
    held = data.get("held")
    if isinstance(held, dict) and held.get("s") == step:
        rows.append([button(texts.BTN_KEEP_HELD, StepCb(d=d, s=step, a="keep"))])
    nav = []
    if form.prev_step(step) is not None or data.get("editing"):
        nav.append(button(texts.BTN_BACK, StepCb(d=d, s=step, a="back")))
    if step in form.OPTIONAL:
        nav.append(button(texts.BTN_SKIP, StepCb(d=d, s=step, a="skip")))
    rows.append(nav)
    return text, markup(rows)


def summary_view(data: dict[str, Any]) -> tuple[str, InlineKeyboardMarkup]:
    lines = [texts.SUMMARY_TITLE]
    for field in form.FIELDS:
        value = hd.quote(field_text(field, data.get(field), data) or texts.EMPTY_VALUE)
        lines.append(f"<b>{texts.FIELD_LABELS[field]}:</b> {value}")
    lines.append(texts.SUMMARY_FOOTER)
    d, r = data["d"], revision(data)
    edits = []
    for step in form.EDITABLE:
        label = texts.EDIT_LABELS.get(step) or texts.FIELD_LABELS[form.field_of(step)]
        edits.append(button(texts.BTN_EDIT.format(label=label), SummaryCb(d=d, a="edit", f=step, r=r)))
    rows = [[button(texts.BTN_SUBMIT, SummaryCb(d=d, a="submit", r=r))], *grid(edits, 2),
            [button(texts.BTN_CANCEL, SummaryCb(d=d, a="cancel", r=r))]]
    return "\n".join(lines), markup(rows)


def cancel_confirm_view(data: dict[str, Any]) -> tuple[str, InlineKeyboardMarkup]:
    d = data["d"]
    rows = [[button(texts.BTN_CANCEL_NO, SummaryCb(d=d, a="keep"))],
            [button(texts.BTN_CANCEL_YES, SummaryCb(d=d, a="drop"))]]
    return texts.CANCEL_CONFIRM, markup(rows)


def addition_view(data: dict[str, Any], *, cont: bool = False) -> tuple[str, InlineKeyboardMarkup]:
    """The question of a returning prospect adding details to lead data["add_lead"]."""
    lead_id = int(data.get("add_lead") or 0)
    rows = []
    held = data.get("held")
    if isinstance(held, dict) and held.get("s") == "addition":
        rows.append([button(texts.BTN_ADD_HELD, LeadCb(a="held", lead=lead_id))])
    text = texts.ADD_PROMPT.format(lead_id=lead_id)
    return (texts.CONTINUE_PLAIN + text if cont else text), markup(rows)


def consent_view(settings: Settings, kind: str = "b") -> tuple[str, InlineKeyboardMarkup]:
    doc = pd_consent(settings)
    rows = [[button(consent_texts.BTN_AGREE, ConsentCb(ok=1, v=doc.version, k=kind)),
             button(consent_texts.BTN_DECLINE, ConsentCb(ok=0, v=doc.version, k=kind))]]
    return doc.text, markup(rows)


def view(step: str, data: dict[str, Any], prefix: str | None = None, *, cont: bool = False) -> tuple[str, Markup]:
    """The step's (or the summary's) message, optionally after an explanation."""
    text, keyboard = summary_view(data) if step == SUMMARY else step_prompt(step, data, cont=cont)
    return (f"{prefix}\n\n{text}" if prefix else text), keyboard


async def show(bot: Bot, chat_id: int, step: str, data: dict[str, Any], prefix: str | None = None,
               *, cont: bool = False) -> int:
    text, keyboard = view(step, data, prefix, cont=cont)
    return (await bot.send_message(chat_id, text, reply_markup=keyboard)).message_id


async def reprompt(bot: Bot, chat_id: int, state: FSMContext, prefix: str | None = None,
                   *, cont: bool = False) -> int | None:
    """Shows the current step (or the summary, or the addition question) again, optionally
    after an explanation."""
    current = await state.get_state()
    if current == Brief.addition.state:
        text, keyboard = addition_view(await state.get_data(), cont=cont)
        text = f"{prefix}\n\n{text}" if prefix else text
        return (await bot.send_message(chat_id, text, reply_markup=keyboard)).message_id
    step = step_of(current)
    if step is None:
        return None
    return await show(bot, chat_id, step, await state.get_data(), prefix, cont=cont)


async def refresh(bot: Bot, chat_id: int, message_id: int, step: str, data: dict[str, Any], prefix: str) -> int:
    """Turns the bot's message `message_id` (the current step or summary) into its view after a
    change; a new message when it cannot be edited (a reply keyboard, or gone)."""
    text, keyboard = view(step, data, prefix)
    if step not in REPLY_KEYBOARD_STEPS and isinstance(keyboard, InlineKeyboardMarkup):
        try:
            await bot.edit_message_text(text, chat_id=chat_id, message_id=message_id, reply_markup=keyboard)
            return message_id
        except TelegramBadRequest:
            pass
    return (await bot.send_message(chat_id, text, reply_markup=keyboard)).message_id


async def resume(bot: Bot, chat_id: int, state: FSMContext) -> None:
    """Back to the step a paused draft stopped at."""
    data = await state.get_data()
    step = str(data.pop("paused", None) or "")
    if step != SUMMARY and step not in STATE_OF:
        step = form.QUESTIONS[0]
    await state.set_data(data)
    await state.set_state(state_of(step))
    await show(bot, chat_id, step, data, texts.RESUME)


async def back_to_draft(bot: Bot, chat_id: int, state: FSMContext) -> bool:
    """Shows an unfinished draft where it stopped ("Продолжим заполнение брифа"); False when
    there is none."""
    current = await state.get_state()
    if current == Brief.paused.state:
        await resume(bot, chat_id, state)
        return True
    if step_of(current) is not None:
        await reprompt(bot, chat_id, state, texts.RESUME)
        return True
    return False
