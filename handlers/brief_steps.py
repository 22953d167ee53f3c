"""Moving through the brief: storing an answer and showing the next step (or the summary),
going back, picking an option (also by typing its name)."""

from __future__ import annotations

from typing import Any

from aiogram import Bot
from aiogram.fsm.context import FSMContext
from rapidfuzz import fuzz, process, utils

from bot import brief_form as form
from bot.pastes import Part
from bot.texts import brief as texts
from handlers.brief_view import show
from handlers.states import SUMMARY, state_of
from handlers.turns import JOINABLE, Turn, answer_changes

MATCH_CUTOFF = 90  # rapidfuzz WRatio for a typed text to be taken as one of the step's options


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


async def store_text(turn: Turn, step: str, text: str) -> None:
    """Stores a free-text answer and moves on; the next part of a paste will join it."""
    changes, cut = answer_changes(step, text)
    reply_id = await advance(turn.bot, turn.chat_id, turn.state, step, cut, **changes)
    if step in JOINABLE:
        turn.pastes.remember(turn.chat_id, Part(turn.date, step, await turn.state.get_state(), text, reply_id))


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


