"""Fuzzing the real Dispatcher: thousands of random and mutated updates (messages, commands,
media, contacts, edits, chat member changes and button presses with forged data of every
registered CallbackData class), seeded. No handler may raise, and every private message and
every button press is answered."""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import random
import re
import string
from collections.abc import Iterator
from typing import Any

import pytest
from aiogram.filters.callback_data import CallbackData
from aiogram.methods import TelegramMethod
from aiogram.types import (
    CallbackQuery,
    Chat,
    Contact,
    Document,
    InaccessibleMessage,
    InlineKeyboardMarkup,
    Location,
    Message,
    Update,
    User,
)

import handlers
from bot.texts import common as common_texts
from handlers.faq import topics_view
from tests import fakes
from tests.conftest import AGENCY_CHAT_ID, Harness

SEED = 18_06
UPDATES = 3000
INT64 = 2**63
# The error handler's logger, and aiogram's for an exception the error handler did not take.
HANDLER_FAILURE_LOGGERS = ("bot.errors", "aiogram.event", "aiogram.dispatcher")

COMMANDS = ["/start", "/start fb_ads", "/start ../../etc", "/brief", "/cancel", "/withdraw", "/mydata",
            "/privacy", "/unsubscribe", "/faq", "/help", "/stats", "/start@kosmmos_bot", "/brief@other_bot",
            "/nonsense", "/", "/ start", " /brief", "/START", "/stats extra words"]
PHRASES = ["сколько стоит продвижение", "что такое смм", "привет", "спасибо!", "Анна", "Иван Петров",
           "+7 999 123-45-67", "89991234567", "12", "anna@mebel.ru", "not-an-email@", "mebel.ru vk.com/x",
           "Интернет-магазин <b>мебели</b> & декор", "да", "нет", "0", "-1", "9" * 30, "<script>", "&amp;",
           "😀😀😀", "\u200b", " ", "ok", "https://t.me/x", "@someone", "skolko stoit smm"]
# Plausible answers by brief step number (1 business ... 11 comment); others get PHRASES.
# Typed answers by the brief's step number ("Шаг N из 8"): business, name, the contact's value
# (phone or e-mail, asked as step 7 too) and the comment; the other steps are buttons.
STEP_ANSWERS = {1: ["Интернет-магазин мебели", "ок", "Кофейня <у дома> & выпечка"],
                6: ["Анна", "<b>Анна</b>", "A" * 150],
                7: ["+7 999 123-45-67", "12345", "<contact>", "anna@mebel.ru", "anna@", "a@b.c"],
                8: ["Хотим начать до Нового года", "нет", "x" * 2000]}
NAMES = ["Иван", "<b>Анна</b>", "O'Neil", "😀", "Ъ" * 64, "A & B", "Мария-Луиза"]
INT_POOL = [0, 1, -1, 2, 3, 7, 42, 1000, 2**31, INT64 - 1, INT64, -INT64 - 1, 10**30]
STR_POOL = ["", "a", "0", "1", "faq", "brief", "home", "privacy", "name", "phone", "email", "submit", "edit",
            "cancel", "back", "skip", "done", "t", "p", "ask", "send", "no", "deadbeef", "zzzzzzzz",
            "x" * 60, "ъ", "%", "-1", "1e9", "None", "null", "../", "<b>"]


def callback_classes() -> list[type[CallbackData]]:
    """Every CallbackData subclass the handlers define (new ones are fuzzed automatically)."""
    found: list[type[CallbackData]] = []
    stack = list(CallbackData.__subclasses__())
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if cls.__module__.split(".")[0] == handlers.__name__:
            found.append(cls)
    return sorted(found, key=lambda c: c.__prefix__)


class Fuzzer:
    def __init__(self, h: Harness, rng: random.Random) -> None:
        self.h, self.rng = h, rng
        self.users = [fakes.user(uid, rng.choice(NAMES), rng.choice([None, f"user{uid}"]))
                      for uid in [1001, 1002, 1003, 2_000_000_001, 7_777_777_777, *range(3001, 3016)]]
        self.classes = callback_classes()
        self.walkers = self.users[:6]  # users who mostly follow the conversation
        self.seen: dict[str, list[str]] = {}  # prefix -> callback_data of buttons the bot showed
        self.bot_messages: dict[int, list[int]] = {}  # chat -> ids of messages the bot sent
        self.keyboards: dict[int, tuple[int, list[str]]] = {}  # chat -> the last inline keyboard
        self.last_text: dict[int, str] = {}  # chat -> the bot's last text there
        self.ids = itertools.count(10_000)

    # --- what the bot showed ---------------------------------------------------------
    def record(self, calls: list[TelegramMethod[Any]]) -> None:
        for call in calls:
            chat_id = getattr(call, "chat_id", None)
            result = self.h.session.result_of(call)
            message_id = result.message_id if isinstance(result, Message) else getattr(call, "message_id", None)
            if isinstance(chat_id, int) and isinstance(message_id, int):
                self.bot_messages.setdefault(chat_id, []).append(message_id)
                if getattr(call, "text", None):
                    self.last_text[chat_id] = call.text
            markup = getattr(call, "reply_markup", None)
            if not isinstance(markup, InlineKeyboardMarkup):
                continue
            data = [b.callback_data for b in itertools.chain.from_iterable(markup.inline_keyboard) if b.callback_data]
            for item in data:
                bucket = self.seen.setdefault(item.split(":")[0], [])
                bucket.append(item)
                del bucket[:-40]
            if isinstance(chat_id, int) and isinstance(message_id, int) and data:
                self.keyboards[chat_id] = (message_id, data)

    def guided(self, user: User) -> Update:
        """What a person in the middle of a conversation does: press a button of the bot's
        last keyboard, or answer the step they are at."""
        uid = next(self.ids)
        keyboard = self.keyboards.get(user.id)
        step = re.search(r"Шаг (\d+) из", self.last_text.get(user.id, ""))
        text_step = step is not None and int(step.group(1)) in STEP_ANSWERS
        if keyboard and self.rng.random() < (0.15 if text_step else 0.8):
            message_id, data = keyboard
            msg = Message(message_id=message_id, date=self.now(), chat=fakes.private_chat(user.id),
                          from_user=fakes.BOT_USER, text="…")
            return Update(update_id=uid, callback_query=CallbackQuery(
                id=str(next(self.ids)), from_user=user, chat_instance="ci", message=msg,
                data=self.rng.choice(data)))
        if step is not None and text_step and self.rng.random() < 0.9:
            text = self.rng.choice(STEP_ANSWERS[int(step.group(1))])
        else:
            text = self.rng.choice(["/brief", "/brief", "/mydata", "/withdraw", "/start", *PHRASES])
        if text == "<contact>":
            contact = Contact(phone_number="79991234567", first_name=user.first_name, user_id=user.id)
            return Update(update_id=uid, message=fakes.message(from_user=user, contact=contact))
        return Update(update_id=uid, message=fakes.message(text, from_user=user))

    # --- building blocks ---------------------------------------------------------------
    def text(self) -> str:
        r = self.rng.random()
        if r < 0.3:
            return self.rng.choice(COMMANDS)
        if r < 0.75:
            return self.rng.choice(PHRASES)
        if r < 0.85:
            return "".join(self.rng.choice(string.printable + "абвгдеёжзийклмнопрстуфхцчшщъыьэюя")
                           for _ in range(self.rng.randint(1, 80)))
        if r < 0.92:
            return self.rng.choice(PHRASES) * self.rng.randint(20, 400)  # long pastes
        return "".join(chr(self.rng.randint(0x20, 0x2FFF)) for _ in range(self.rng.randint(1, 40)))

    def chat_for(self, user: User) -> Chat:
        r = self.rng.random()
        if r < 0.86:
            return fakes.private_chat(user.id)
        if r < 0.95:
            return fakes.group_chat(AGENCY_CHAT_ID)
        return fakes.group_chat(-100_999)

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    def message(self, user: User) -> Message:
        chat = self.chat_for(user)
        r = self.rng.random()
        if r < 0.7:
            return fakes.message(self.text(), from_user=user, chat=chat)
        if r < 0.78:
            phone = self.rng.choice(["79991234567", "+7 (999) 123-45-67", "1", "+1 202 555 0100", "abc", ""])
            contact = Contact(phone_number=phone, first_name=self.rng.choice(NAMES),
                              user_id=self.rng.choice([user.id, None, 5, INT64 - 1]))
            return fakes.message(from_user=user, chat=chat, contact=contact)
        kind = self.rng.choice(["photo", "sticker", "voice", "document", "location", "caption"])
        if kind == "photo":
            return fakes.photo_message(from_user=user, chat=chat)
        if kind == "sticker":
            return fakes.sticker_message(from_user=user, chat=chat)
        if kind == "voice":
            return fakes.voice_message(from_user=user, chat=chat)
        if kind == "document":
            return fakes.message(from_user=user, chat=chat,
                                 document=Document(file_id="d", file_unique_id="du", file_name="brief.pdf"))
        if kind == "location":
            return fakes.message(from_user=user, chat=chat, location=Location(latitude=55.7, longitude=37.6))
        return fakes.message(from_user=user, chat=chat, caption=self.text(),
                             document=Document(file_id="d", file_unique_id="du"))

    def field_value(self, annotation: Any) -> str:
        if annotation is int or self.rng.random() < 0.3:
            value: Any = self.rng.choice(INT_POOL)
        else:
            value = self.rng.choice(STR_POOL)
        return str(value)

    def callback_data(self) -> str:
        r = self.rng.random()
        seen = [d for bucket in self.seen.values() for d in bucket]
        if r < 0.45 and seen:
            return self.rng.choice(seen)  # a real button, maybe stale by now
        cls = self.rng.choice(self.classes)
        fields = list(cls.model_fields.items())
        if r < 0.75 and self.seen.get(cls.__prefix__):
            parts = self.rng.choice(self.seen[cls.__prefix__]).split(cls.__separator__)[1:]
        else:
            parts = [self.field_value(f.annotation) for _, f in fields]
        if parts:
            i = self.rng.randrange(len(parts))
            mutation = self.rng.random()
            if mutation < 0.6:
                parts[i] = self.field_value(fields[i][1].annotation if i < len(fields) else str)
            elif mutation < 0.7:
                del parts[i]
            elif mutation < 0.8:
                parts.append(self.field_value(str))
            elif mutation < 0.9:
                parts[i] += cls.__separator__
        if r > 0.95:
            return "".join(self.rng.choice(string.printable) for _ in range(self.rng.randint(0, 70)))
        return cls.__separator__.join([cls.__prefix__, *parts])

    def callback(self, user: User) -> CallbackQuery:
        r = self.rng.random()
        own = fakes.private_chat(user.id)
        msg: Any
        if r < 0.72:
            ids = self.bot_messages.get(user.id) or [1]
            msg = Message(message_id=self.rng.choice(ids[-20:]), date=self.now(), chat=own,
                          from_user=fakes.BOT_USER, text="…")
        elif r < 0.82:
            msg = InaccessibleMessage(chat=own, message_id=self.rng.randint(1, 10**6))
        elif r < 0.9:
            msg = Message(message_id=self.rng.randint(1, 10**6), date=self.now(), chat=own, from_user=user,
                          text="the user's own message")
        elif r < 0.96:
            msg = Message(message_id=self.rng.randint(1, 10**6), date=self.now(),
                          chat=fakes.group_chat(AGENCY_CHAT_ID), from_user=fakes.BOT_USER, text="card")
        else:
            msg = None
        return CallbackQuery(id=str(next(self.ids)), from_user=user, chat_instance="ci", message=msg,
                             data=self.callback_data(),
                             inline_message_id=None if msg is not None else "inline-1")

    def update(self) -> Update:
        user = self.rng.choice(self.users if self.rng.random() < 0.15 else self.users[len(self.walkers):])
        r = self.rng.random()
        uid = next(self.ids)
        if r < 0.5:
            return Update(update_id=uid, message=self.message(user))
        if r < 0.92:
            return Update(update_id=uid, callback_query=self.callback(user))
        if r < 0.96:
            return Update(update_id=uid, edited_message=fakes.message(self.text(), from_user=user,
                                                                      chat=self.chat_for(user)))
        chat = self.rng.choice([fakes.private_chat(user.id), fakes.group_chat(AGENCY_CHAT_ID),
                                fakes.group_chat(-100_999)])
        return Update(update_id=uid, my_chat_member=fakes.my_chat_member(
            chat, user, self.rng.choice(["kicked", "member"])))

    def flows(self) -> Iterator[Update]:
        """Mostly random updates; now and then a user walks into the brief, so that the
        handlers of each state are fuzzed too."""
        while True:
            if self.rng.random() < 0.4:
                yield self.guided(self.rng.choice(self.walkers))
            else:
                yield self.update()


EDIT_METHODS = ("editMessageText", "editMessageReplyMarkup", "editMessageCaption", "deleteMessage")


def _foreign_message(update: Update) -> str | None:
    """Telegram's refusal to edit the message a button press came from, if it would refuse."""
    query = update.callback_query
    if query is None:
        return None
    if isinstance(query.message, InaccessibleMessage):
        return "Bad Request: message to edit not found"
    if isinstance(query.message, Message) and query.message.from_user != fakes.BOT_USER:
        return "Bad Request: message can't be edited"
    return None


def answered(update: Update, calls: list[TelegramMethod[Any]]) -> bool:
    if update.callback_query is not None:
        return any(c.__api_method__ == "answerCallbackQuery" and c.callback_query_id == update.callback_query.id
                   for c in calls)
    assert update.message is not None
    return any(c.__api_method__.startswith("send") and getattr(c, "chat_id", None) == update.message.chat.id
               for c in calls)


@pytest.fixture
def errors(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.ERROR)
    return caplog


async def test_random_and_forged_updates_never_crash_and_are_answered(
    harness: Harness, errors: pytest.LogCaptureFixture
) -> None:
    rng = random.Random(SEED)
    fuzzer = Fuzzer(harness, rng)
    assert {c.__prefix__ for c in fuzzer.classes} >= {"m", "c", "b", "s", "mk", "f", "fp", "q", "wd", "fx"}
    unanswered: list[str] = []
    failed: list[str] = []
    twice: list[str] = []
    for _, update in zip(range(UPDATES), fuzzer.flows(), strict=False):
        start = len(harness.session.calls)
        errors.clear()
        foreign = _foreign_message(update)
        if foreign:  # Telegram refuses to edit a message that is not the bot's, or is gone
            for method in EDIT_METHODS:
                harness.session.fail(method, error_code=400, description=foreign, times=100)
        await harness.dp.feed_update(harness.bot, update)
        harness.session.injected.clear()
        calls = harness.session.calls[start:]
        fuzzer.record(calls)
        kind = update.event_type
        event = update.event
        what = f"{kind} {getattr(event, 'data', None) or getattr(event, 'text', None) or ''!r}"[:120]
        raised = [r.getMessage().splitlines()[0] for r in errors.records if r.name in HANDLER_FAILURE_LOGGERS]
        if raised or common_texts.ERROR_APOLOGY in Harness.texts(calls):
            failed.append(f"{what}: {raised}")
        private_message = kind == "message" and update.message is not None and update.message.chat.type == "private"
        if (private_message or kind == "callback_query") and not answered(update, calls):
            unanswered.append(what)
        if kind == "callback_query" and len(harness.answers(calls)) > 1:
            twice.append(what)  # Telegram refuses a second answer (TelegramBadRequest)
        too_long = [c for c in calls if len(getattr(c, "text", None) or "") > 4096]
        assert not too_long, f"{what}: a message over 4096 characters"
    assert not failed, f"{len(failed)} updates made a handler raise, e.g. {failed[:8]}"
    assert not unanswered, f"{len(unanswered)} updates got no answer, e.g. {unanswered[:8]}"
    assert not twice, f"{len(twice)} button presses were answered twice, e.g. {twice[:8]}"
    # The fuzz went deep: people walked the whole brief and submitted it, between the noise.
    row = await harness.services.db.fetchone("SELECT COUNT(*) FROM leads")
    assert row is not None and row[0] >= 1


# --- the failures the first fuzz runs found, one by one -------------------------------


async def test_fix_button_with_a_lead_id_beyond_int64_is_a_stale_button(harness: Harness) -> None:
    calls = await harness.press(f"fx:name:{INT64}")
    answers = harness.answers(calls)
    assert len(answers) == 1 and answers[0].text == common_texts.STALE_BUTTON
    assert common_texts.ERROR_APOLOGY not in harness.texts(calls)


async def test_topics_page_from_an_inaccessible_message_is_sent_anew(harness: Harness) -> None:
    gone = InaccessibleMessage(chat=fakes.private_chat(harness.user.id), message_id=77)
    calls = await harness.press("fp:1", message_obj=gone)
    assert len(harness.answers(calls)) == 1
    sent = [c for c in calls if c.__api_method__ == "sendMessage"]
    assert len(sent) == 1 and sent[0].text == topics_view(harness.services.faq, 1)[0]


async def test_topics_page_from_a_message_that_is_not_the_bots_is_sent_anew(harness: Harness) -> None:
    theirs = fakes.message("my own message", from_user=harness.user)
    harness.session.fail("editMessageText", error_code=400, description="Bad Request: message can't be edited")
    calls = await harness.press("fp:1", message_obj=theirs)
    assert len(harness.answers(calls)) == 1
    assert [c.__api_method__ for c in calls if c.__api_method__ != "answerCallbackQuery"] == [
        "editMessageText", "sendMessage"]
    assert calls[-1].text == topics_view(harness.services.faq, 1)[0]
    assert common_texts.ERROR_APOLOGY not in harness.texts(calls)
