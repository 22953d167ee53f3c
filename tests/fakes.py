"""A fake Bot API session (records every call, answers like Telegram, injects errors) and
builders of real aiogram update objects. Modelled on aiogram's own tests/mocked_bot.py."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.base import BaseSession
from aiogram.enums import ParseMode
from aiogram.exceptions import TelegramNetworkError
from aiogram.methods import TelegramMethod
from aiogram.methods.base import Response
from aiogram.types import (
    Animation,
    Audio,
    CallbackQuery,
    Chat,
    ChatMemberBanned,
    ChatMemberMember,
    ChatMemberUpdated,
    Contact,
    Document,
    FSInputFile,
    Message,
    MessageEntity,
    MessageId,
    PhotoSize,
    Sticker,
    Update,
    User,
    Video,
    VideoNote,
    Voice,
)

from bot.session import pin_response_type

BOT_ID = 42
BOT_TOKEN = f"{BOT_ID}:TEST-token-for-tests-only"
RESULTS_KEPT = 10_000  # results of the latest calls kept for result_of()
BOT_USER = User(id=BOT_ID, is_bot=True, first_name="Kosmmos", username="kosmmos_bot")


@dataclass
class Injected:
    method: str  # API method name, e.g. "sendMessage"; "*" for any
    error_code: int | None = None
    description: str = ""
    retry_after: int | None = None
    migrate_to_chat_id: int | None = None
    network: bool = False
    chat_id: int | None = None  # only calls to this chat
    times: int = 1


class FakeSession(BaseSession):
    """Records every Bot API call; returns plausible results or the errors it was told to."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[TelegramMethod[Any]] = []
        self._results: dict[int, tuple[TelegramMethod[Any], Any]] = {}  # id(call) -> (call, result), latest
        self.injected: list[Injected] = []
        self._uploads: dict[int, tuple[TelegramMethod[Any], int, bytes]] = {}  # id(call) -> (call, size, bytes)
        self.keep_uploads = True  # False: only the sizes of uploaded files are kept (a bench of big files)
        self._message_ids = itertools.count(1000)

    def next_message_id(self) -> int:
        """The next message id in the fake's one sequence (e.g. a member's message in the agency
        chat, numbered among the bot's there as in Telegram)."""
        return next(self._message_ids)

    # --- error injection -------------------------------------------------------------
    def fail(self, method: str, **kwargs: Any) -> Injected:
        item = Injected(method=method, **kwargs)
        self.injected.append(item)
        return item

    def retry_after(self, method: str, seconds: int, **kw: Any) -> Injected:
        return self.fail(method, error_code=429, description=f"Too Many Requests: retry after {seconds}",
                         retry_after=seconds, **kw)

    def forbidden(self, method: str, **kw: Any) -> Injected:
        return self.fail(method, error_code=403, description="Forbidden: bot was kicked from the group chat", **kw)

    def chat_not_found(self, method: str, **kw: Any) -> Injected:
        return self.fail(method, error_code=400, description="Bad Request: chat not found", **kw)

    def migrated(self, method: str, new_chat_id: int, **kw: Any) -> Injected:
        return self.fail(method, error_code=400,
                         description="Bad Request: group chat was upgraded to a supergroup chat",
                         migrate_to_chat_id=new_chat_id, **kw)

    def network_error(self, method: str, **kw: Any) -> Injected:
        return self.fail(method, network=True, **kw)

    def _take_injected(self, name: str, method: TelegramMethod[Any]) -> Injected | None:
        chat_id = getattr(method, "chat_id", None)
        for item in self.injected:
            if item.method not in ("*", name):
                continue
            if item.chat_id is not None and item.chat_id != chat_id:
                continue
            item.times -= 1
            if item.times <= 0:
                self.injected.remove(item)
            return item
        return None

    # --- recorded calls --------------------------------------------------------------
    def of(self, name: str) -> list[TelegramMethod[Any]]:
        return [c for c in self.calls if c.__api_method__ == name]

    def sent_texts(self, chat_id: int | None = None) -> list[str]:
        return [
            c.text for c in self.calls
            if c.__api_method__ in ("sendMessage", "editMessageText")
            and (chat_id is None or c.chat_id == chat_id)
        ]

    def last(self, name: str | None = None) -> TelegramMethod[Any]:
        calls = self.of(name) if name else self.calls
        assert calls, f"no {name or 'API'} call was made"
        return calls[-1]

    def result_of(self, call: TelegramMethod[Any]) -> Any:
        """What a recent call returned (e.g. the sent Message); None if it failed."""
        entry = self._results.get(id(call))
        return entry[1] if entry is not None and entry[0] is call else None

    def upload_of(self, call: TelegramMethod[Any]) -> tuple[int, bytes]:
        """(size, bytes) of the file a call uploaded from disk (bytes empty unless keep_uploads)."""
        entry = self._uploads.get(id(call))
        assert entry is not None and entry[0] is call, "the call uploaded no file"
        return entry[1], entry[2]

    def clear(self) -> None:
        """Forgets the recorded calls; the latest results stay readable (result_of)."""
        self.calls.clear()

    # --- BaseSession -----------------------------------------------------------------
    async def make_request(self, bot: Bot, method: TelegramMethod[Any], timeout: int | None = None) -> Any:
        name = method.__api_method__
        self.calls.append(method)
        document = getattr(method, "document", None)
        if isinstance(document, FSInputFile):  # read now: the bot may delete the file once sent
            path = Path(document.path)
            self._uploads[id(method)] = (method, path.stat().st_size, path.read_bytes() if self.keep_uploads else b"")
        injected = self._take_injected(name, method)
        if injected is not None:
            if injected.network:
                raise TelegramNetworkError(method=method, message="HTTP Client says - ClientConnectorError")
            body = {"ok": False, "error_code": injected.error_code, "description": injected.description}
            params = {}
            if injected.retry_after is not None:
                params["retry_after"] = injected.retry_after
            if injected.migrate_to_chat_id is not None:
                params["migrate_to_chat_id"] = injected.migrate_to_chat_id
            if params:
                body["parameters"] = params
            pin_response_type(method.__returning__)
            self.check_response(bot=bot, method=method, status_code=injected.error_code or 400,
                                content=json.dumps(body))
            raise AssertionError("check_response should have raised")  # pragma: no cover
        result = self._result(bot, name, method)
        pin_response_type(method.__returning__)  # as the production session does
        response = Response[method.__returning__](ok=True, result=result)  # type: ignore[name-defined]
        self._results[id(method)] = (method, response.result)
        if len(self._results) > RESULTS_KEPT:
            del self._results[next(iter(self._results))]
        return response.result

    def _result(self, bot: Bot, name: str, method: TelegramMethod[Any]) -> Any:
        if name == "getMe":
            return BOT_USER
        if name in ("sendMessage", "sendDocument", "editMessageText"):
            chat_id = getattr(method, "chat_id", None) or 0
            message_id = getattr(method, "message_id", None) or next(self._message_ids)
            return Message(
                message_id=message_id,
                date=dt.datetime.now(dt.UTC),
                chat=Chat(id=chat_id, type="private" if int(chat_id) > 0 else "supergroup"),
                from_user=BOT_USER,
                text=getattr(method, "text", None),
            )
        if name == "copyMessage":
            return MessageId(message_id=next(self._message_ids))
        if name == "editMessageCaption":
            return Message(message_id=method.message_id or 0, date=dt.datetime.now(dt.UTC),
                           chat=Chat(id=int(method.chat_id or 0), type="supergroup"), from_user=BOT_USER,
                           caption=method.caption)
        if name == "getUpdates":
            return []
        return True

    async def close(self) -> None:
        pass

    async def stream_content(self, url: str, headers: dict[str, Any] | None = None, timeout: int = 30,
                             chunk_size: int = 65536, raise_for_status: bool = True) -> AsyncGenerator[bytes, None]:
        yield b""  # pragma: no cover


def make_bot(session: FakeSession | None = None) -> Bot:
    return Bot(
        BOT_TOKEN,
        session=session or FakeSession(),
        default=DefaultBotProperties(parse_mode=ParseMode.HTML, link_preview_is_disabled=True),
    )


# --- update builders ---------------------------------------------------------------------

_update_ids = itertools.count(1)
_msg_ids = itertools.count(1)
# Message dates 3 s apart, as a person types: parts of one paste (within a second) are made
# by passing the same `date`.
_BASE_DATE = dt.datetime.now(dt.UTC).replace(microsecond=0)
_dates = itertools.count(0, 3)


def next_date() -> dt.datetime:
    return _BASE_DATE + dt.timedelta(seconds=next(_dates))


def user(user_id: int = 1001, first_name: str = "Иван", username: str | None = "ivan") -> User:
    return User(id=user_id, is_bot=False, first_name=first_name, username=username, language_code="ru")


def private_chat(user_id: int) -> Chat:
    return Chat(id=user_id, type="private")


def group_chat(chat_id: int) -> Chat:
    return Chat(id=chat_id, type="supergroup", title="Agency")


def message(text: str | None = None, *, from_user: User | None = None, chat: Chat | None = None,
            date: dt.datetime | None = None, **content: Any) -> Message:
    from_user = from_user or user()
    entities = None
    if text and text.startswith("/"):
        entities = [MessageEntity(type="bot_command", offset=0, length=len(text.split()[0]))]
    return Message(
        message_id=next(_msg_ids),
        date=date or next_date(),
        chat=chat or private_chat(from_user.id),
        from_user=from_user,
        text=text,
        entities=entities,
        **content,
    )


def sticker_message(**kw: Any) -> Message:
    st = Sticker(file_id="st", file_unique_id="stu", type="regular", width=512, height=512,
                 is_animated=False, is_video=False)
    return message(sticker=st, **kw)


def photo_message(**kw: Any) -> Message:
    return message(photo=[PhotoSize(file_id="ph", file_unique_id="phu", width=10, height=10)], **kw)


def voice_message(**kw: Any) -> Message:
    return message(voice=Voice(file_id="vo", file_unique_id="vou", duration=3), **kw)


def document_message(file_name: str = "бриф.pdf", **kw: Any) -> Message:
    return message(document=Document(file_id="doc", file_unique_id="docu", file_name=file_name), **kw)


def video_message(**kw: Any) -> Message:
    return message(video=Video(file_id="vi", file_unique_id="viu", width=10, height=10, duration=3), **kw)


def video_note_message(**kw: Any) -> Message:
    return message(video_note=VideoNote(file_id="vn", file_unique_id="vnu", length=10, duration=3), **kw)


def animation_message(**kw: Any) -> Message:
    return message(animation=Animation(file_id="an", file_unique_id="anu", width=10, height=10, duration=3), **kw)


def audio_message(**kw: Any) -> Message:
    return message(audio=Audio(file_id="au", file_unique_id="auu", duration=3), **kw)


MEDIA_BUILDERS = {
    "photo": photo_message, "document": document_message, "voice": voice_message, "video": video_message,
    "sticker": sticker_message, "animation": animation_message, "video_note": video_note_message,
    "audio": audio_message,
}


def bot_message(message_id: int, chat: Chat, text: str | None = "…") -> Message:
    """A message of the bot's, as Telegram shows it inside reply_to_message."""
    return Message(message_id=message_id, date=dt.datetime.now(dt.UTC), chat=chat, from_user=BOT_USER, text=text)


def contact_message(phone: str, contact_user_id: int | None, **kw: Any) -> Message:
    return message(contact=Contact(phone_number=phone, first_name="Иван", user_id=contact_user_id), **kw)


def callback(data: str, *, from_user: User | None = None, message_obj: Message | None = None) -> CallbackQuery:
    from_user = from_user or user()
    msg = message_obj or Message(
        message_id=next(_msg_ids), date=dt.datetime.now(dt.UTC), chat=private_chat(from_user.id),
        from_user=BOT_USER, text="menu",
    )
    return CallbackQuery(id=str(next(_update_ids)), from_user=from_user, chat_instance="ci",
                         message=msg, data=data)


def my_chat_member(chat: Chat, from_user: User, new_status: str) -> ChatMemberUpdated:
    old = ChatMemberMember(user=BOT_USER)
    new: Any = (ChatMemberBanned(user=BOT_USER, until_date=0) if new_status == "kicked"
                else ChatMemberMember(user=BOT_USER))
    if new_status == "member":
        old = ChatMemberBanned(user=BOT_USER, until_date=0)
    return ChatMemberUpdated(chat=chat, from_user=from_user, date=dt.datetime.now(dt.UTC),
                             old_chat_member=old, new_chat_member=new)


def update(event: Message | CallbackQuery | ChatMemberUpdated, *, update_id: int | None = None) -> Update:
    uid = update_id if update_id is not None else next(_update_ids)
    if isinstance(event, Message):
        return Update(update_id=uid, message=event)
    if isinstance(event, CallbackQuery):
        return Update(update_id=uid, callback_query=event)
    return Update(update_id=uid, my_chat_member=event)


Responder = Callable[[TelegramMethod[Any]], Any]
