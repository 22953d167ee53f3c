"""One text message inside the brief, and what is checked before it counts as an answer:
is it the next part of a long paste, is it a question (or a greeting ...) for the FAQ."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiogram import Bot
from aiogram.fsm.context import FSMContext
from aiogram.types import Message

from bot import brief_form as form
from bot.contacts import find_links
from bot.faq_service import FaqService
from bot.pastes import Part, Pastes
from bot.texts import brief as texts
from bot.texts import common as common_texts
from faq import SearchResult
from handlers import talk
from handlers.brief_view import refresh, reprompt
from handlers.states import step_of
from storage.stats import StatsRepo

JOINABLE = frozenset({"business", "comment"})  # stored free-text answers a paste's next part extends
SHORT_WORDS = {"greeting": common_texts.IN_FORM_GREETING, "thanks": common_texts.IN_FORM_THANKS}
# Inside the brief a text is first an answer to the step: the FAQ answers it instead only when it
# asks ("?") or the model is sure. The bar is the model's margin (score): on the eval splits it
# keeps 92% of the right answers and drops most of the unsure ones, while brief answers that
# read as questions ("Бюджет обсудим", "Нужно срочно, до конца месяца") stay below 0.2.
SURE = 0.5


def asks(text: str) -> bool:
    return "?" in text


@dataclass
class Turn:
    message: Message
    bot: Bot
    state: FSMContext
    faq: FaqService
    stats: StatsRepo
    pastes: Pastes

    @property
    def chat_id(self) -> int:
        return self.message.chat.id

    @property
    def text(self) -> str:
        return (self.message.text or "").strip()

    @property
    def date(self) -> float:
        return self.message.date.timestamp()

    async def say(self, text: str, **kwargs: Any) -> Message:
        return await self.bot.send_message(self.chat_id, text, **kwargs)


def answer_changes(step: str, text: str) -> tuple[dict[str, Any], str | None]:
    """A free-text answer as stored (kept to the field's limit, with the note saying so); the
    business description also gives the links found in it."""
    limit = form.LIMITS[step]
    changes: dict[str, Any] = {step: text[:limit]}
    if step == "business" and (links := find_links(text)):
        changes["links"] = links
    return changes, (texts.CUT.format(limit=limit) if len(text) > limit else None)


async def joined(turn: Turn) -> bool:
    """A part of a long paste whose previous part was a stored answer: joined to that answer,
    and the bot's message after it shows the result."""
    current = await turn.state.get_state()
    part = turn.pastes.previous(turn.chat_id, turn.date, current)
    step = step_of(current)
    if part is None or part.where not in JOINABLE or step is None or part.reply_id is None:
        return False
    text = f"{part.text}\n{turn.text}"
    changes, cut = answer_changes(part.where, text)
    await turn.state.update_data(changes)
    prefix = texts.JOINED + (" " + cut if cut else "")
    reply_id = await refresh(turn.bot, turn.chat_id, part.reply_id, step, await turn.state.get_data(), prefix)
    turn.pastes.remember(turn.chat_id, Part(turn.date, part.where, current, text, reply_id))
    return True


async def answered(turn: Turn, step: str, text: str | None = None, *, reading: SearchResult | None = None,
                   sure_answers: bool = True, questions: bool = False) -> bool:
    """A text the FAQ answers, or a greeting, thanks, a request for a person, is answered, then
    the step asked again ("Продолжим: шаг N"); on steps where it may still be the answer, a
    button keeps it as such. A greeting or thanks is a word before the step, in one message.
    An FAQ answer is given when the text asks ("?") or the model is sure (SURE); with
    `sure_answers=False` (the contact steps) only when it asks. `questions`: a text that asks is
    a question whatever the FAQ makes of it (steps with buttons, where it cannot be the answer):
    "no answer" and "did you mean" come with "Спросить менеджера"."""
    text = turn.text if text is None else text
    reading = turn.faq.search(text) if reading is None else reading
    question = questions and asks(text) and reading.status != "intent"
    if not (talk.answers_in_form(reading) or question):
        return False
    if reading.status == "answer" and not (asks(text) or (sure_answers and reading.score >= SURE)):
        return False
    await talk.count(reading, text, turn.stats)
    if reading.status == "answer" and (step in form.HOLDABLE or step == "addition"):
        await turn.state.update_data(held={"s": step, "t": text})
    if reading.status == "intent" and reading.intent in SHORT_WORDS:
        await reprompt(turn.bot, turn.chat_id, turn.state, SHORT_WORDS[reading.intent], cont=True)
        return True
    pending = (await turn.state.get_data()).get(talk.PENDING)
    sent = await talk.reply(turn.bot, turn.chat_id, text, reading, turn.faq, pending=pending)
    await reprompt(turn.bot, turn.chat_id, turn.state, cont=True)
    await talk.keep_pending(turn.state, sent.pending)
    return True
