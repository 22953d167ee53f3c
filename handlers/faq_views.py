"""What the FAQ shows: an answer, "did you mean", "no answer", the topics menu.

Every view that does not answer carries "Спросить менеджера"; an answer to a long message
carries "Передать менеджеру целиком". Those buttons refer to the pending question by its nonce.
"""

from __future__ import annotations

from typing import Any

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.text_decorations import html_decoration as hd

from bot.faq_service import FaqService
from bot.texts import common as common_texts
from bot.texts import faq as texts
from faq import Entry
from handlers.callbacks import AskCb, FaqCb, FaqPageCb, MenuCb
from handlers.keyboards import button, main_menu, markup

PAGE_SIZE = 8
MAX_TEXT = 4096

# answer_view results by (id(entry), related ids); the entry and corpus are kept and compared by
# identity, so a hit is always for this very entry in this very corpus (markups are frozen models).
_ANSWER_VIEWS: dict[tuple[int, tuple[str, ...]], tuple[Entry, Any, str, InlineKeyboardMarkup]] = {}
ANSWER_VIEWS_MAX = 4096


def ask_button(nonce: str, *, full: bool = False) -> InlineKeyboardButton:
    return button(texts.BTN_ASK_FULL if full else texts.BTN_ASK_MANAGER, AskCb(a="ask", n=nonce))


def topics_button() -> InlineKeyboardButton:
    """Opens the topics menu as a new message (its pages then turn in place)."""
    return button(texts.BTN_TOPICS, MenuCb(action="faq"))


def brief_button() -> InlineKeyboardButton:
    return button(texts.BTN_BRIEF, MenuCb(action="brief"))


def answer_view(
    entry: Entry, index: FaqService, related: tuple[Entry, ...] | None = None,
) -> tuple[str, InlineKeyboardMarkup]:
    """The answer with buttons for `related` entries (default: the model's related entries)."""
    related = index.related(entry.id) if related is None else related
    key = (id(entry), tuple(e.id for e in related))
    cached = _ANSWER_VIEWS.get(key)
    if cached is not None and cached[0] is entry and cached[1] is index.corpus:
        return cached[2], cached[3]
    text = texts.ANSWER.format(question=hd.quote(entry.question), answer=hd.quote(entry.answer))
    rows = [[button(rel.title, FaqCb(id=rel.id))] for rel in related[:3]]
    rows += [[brief_button()], [topics_button()]]
    view = text[:MAX_TEXT], markup(rows)
    if len(_ANSWER_VIEWS) >= ANSWER_VIEWS_MAX:
        _ANSWER_VIEWS.clear()
    _ANSWER_VIEWS[key] = (entry, index.corpus, *view)
    return view


def long_answer_view(entry: Entry, index: FaqService, related: tuple[Entry, ...], nonce: str,
                     ) -> tuple[str, InlineKeyboardMarkup]:
    """The answer to a long message, with a button that passes the whole message on."""
    text, keyboard = answer_view(entry, index, related)
    note = texts.LONG_NOTE
    rows = [[ask_button(nonce, full=True)], *keyboard.inline_keyboard]
    return text[:MAX_TEXT - len(note)] + note, markup(rows)


def unsure_view(suggestions: tuple[Entry, ...], nonce: str) -> tuple[str, InlineKeyboardMarkup]:
    rows = [[button(entry.title, FaqCb(id=entry.id))] for entry in suggestions[:3]]
    rows += [[ask_button(nonce)], [topics_button()]]
    return texts.UNSURE, markup(rows)


def no_answer_view(nonce: str) -> tuple[str, InlineKeyboardMarkup]:
    rows = [[ask_button(nonce)], [brief_button()], [topics_button()]]
    return texts.NO_ANSWER, markup(rows)


def long_no_answer_view(nonce: str) -> tuple[str, InlineKeyboardMarkup]:
    """A long message (a request, a story) the FAQ has no answer for: a person is the way."""
    return texts.LONG_NO_ANSWER, markup([[ask_button(nonce, full=True)], [brief_button()]])


def topics_view(index: FaqService, page: int) -> tuple[str, InlineKeyboardMarkup]:
    entries = index.corpus.entries
    pages = max(1, -(-len(entries) // PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    rows = [[button(e.title, FaqCb(id=e.id))] for e in entries[page * PAGE_SIZE:(page + 1) * PAGE_SIZE]]
    nav = []
    if page > 0:
        nav.append(button(texts.BTN_PREV, FaqPageCb(p=page - 1)))
    if page < pages - 1:
        nav.append(button(texts.BTN_NEXT, FaqPageCb(p=page + 1)))
    if nav:
        rows.append(nav)
    rows.append([brief_button(), button(texts.BTN_MENU, MenuCb(action="home"))])
    return texts.TOPICS.format(page=page + 1, pages=pages), markup(rows)


def intent_view(intent: str, nonce: str, policy_url: str | None) -> tuple[str, InlineKeyboardMarkup]:
    """What the bot says to a greeting, thanks, a request for a person ... (the FAQ model's
    conversation intents). `policy_url` None: inside the brief, where the step follows."""
    in_form = policy_url is None
    if intent == "greeting":
        return common_texts.INTENT_GREETING, markup([]) if in_form else main_menu(str(policy_url))
    if intent == "thanks":
        rows = [[button(common_texts.BTN_FAQ, MenuCb(action="faq"))], [brief_button()]]
        return common_texts.INTENT_THANKS, markup([] if in_form else rows)
    if intent in ("human", "bot"):
        text = common_texts.INTENT_HUMAN if intent == "human" else common_texts.INTENT_BOT
        return text, markup([[ask_button(nonce)]] if in_form else [[ask_button(nonce)], [brief_button()]])
    call = button(common_texts.BTN_CALL_ME, MenuCb(action="call"))
    if intent == "callback":
        return common_texts.INTENT_CALLBACK, markup([[call], [brief_button()]])
    return common_texts.INTENT_ORDER, markup([[brief_button()], [call]])
