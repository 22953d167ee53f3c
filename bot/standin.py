"""A small Bot API stand-in over HTTP (aiohttp), for end-to-end tests, benchmarks and the sandbox.

It speaks the subset of the Bot API this bot uses: it queues updates for getUpdates (long
polling honoured), records every call, and answers sends with realistic Message objects.

Fault modes for drills: `drop_after_accept(call) -> bool` posts the message, then drops the
connection before answering (the client sees a disconnect after the request went out, the
message stays in the chat). `strict_messages=True` keeps every chat's messages and answers
edits and deletes as Telegram does: unknown id -> "message to edit/delete not found", someone
else's message -> "message can't be edited/deleted", the same text -> "message is not modified".
`chat_messages(chat_id)` lists what a chat shows. `held` names methods whose requests are
recorded but never answered (a bot killed while it waits for one). `copyMessage` copies any
message it knows (texts and media, with their captions) into another chat, as Telegram does:
`message(chat_id, id)` shows what a message holds. Flood control: `flood_rate`
(sends a second, all chats together) refuses the sends beyond it with 429 and
`flood_retry_after`, and `flood_every` refuses every Nth send that way; `refused` lists the 429s.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

BOT_USER = {"id": 42, "is_bot": True, "first_name": "Kosmmos", "username": "kosmmos_bot"}
SENDS = ("sendmessage", "copymessage", "senddocument", "sendphoto", "forwardmessage")
GIFT_TYPES = ("unlimited_gifts", "limited_gifts", "unique_gifts", "premium_subscription", "gifts_from_channels")


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float = field(default_factory=time.monotonic)
    result: Any = None  # what the stand-in answered (e.g. the sent Message, with its message_id)
    dropped: bool = False  # carried out, but the connection was dropped before the answer


class ApiError(Exception):
    def __init__(self, code: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.code, self.description, self.parameters = code, description, parameters


class BotAPIStandIn:
    """`per_chat_message_ids=True` numbers messages per chat (1, 2, 3 ... in each chat, as
    Telegram does in supergroups) instead of one counter shared by all chats: the numbers of
    one chat then do not depend on how its sends interleave with another chat's (the sandbox
    relies on that for a deterministic transcript)."""

    def __init__(self, token: str, host: str = "127.0.0.1", port: int = 0, *,
                 per_chat_message_ids: bool = False, strict_messages: bool = False,
                 clock: Callable[[], float] = time.time) -> None:
        self.token = token
        head = token.partition(":")[0]
        # The bot, as getMe and its messages show it: its id is the token's, as in Telegram.
        self.bot_user = {**BOT_USER, "id": int(head) if head.isdigit() else BOT_USER["id"]}
        self.clock = clock  # the dates of the updates it makes (the sandbox moves its clock on)
        self.strict_messages = strict_messages
        # (chat, id) -> {"bot", "text", "media" (kind or None), "caption"}
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}
        self.drop_after_accept: Callable[[Call], bool] | None = None
        self.host, self.port = host, port
        self.per_chat_message_ids = per_chat_message_ids
        self._chat_message_ids: dict[int, itertools.count[int]] = {}
        self.calls: list[Call] = []
        self.listeners: list[Callable[[Call], None]] = []
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._new_updates = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.confirmed_offset = 0
        self.flood_rate: float | None = None
        self.flood_every = 0
        self.flood_retry_after = 1
        self.refused: list[Call] = []
        self._sends: deque[float] = deque()
        self._send_count = 0
        self.held: set[str] = set()
        self._release = asyncio.Event()
        # chat id -> (error_code, description): every call naming that chat fails like Telegram
        # (e.g. {-100...: (400, "Bad Request: chat not found")} for a chat the bot is not in).
        self.chat_errors: dict[int, tuple[int, str]] = {}

    # --- control ---------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        app = web.Application(client_max_size=10 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        # End pending long polls and held requests now: the server would otherwise wait for them.
        self._new_updates.set()
        self._release.set()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def queued(self) -> list[dict[str, Any]]:
        """The updates not yet taken by getUpdates, oldest first."""
        return list(self._updates)

    def push_update(self, **update: Any) -> int:
        update_id = next(self._update_ids)
        self._updates.append({"update_id": update_id, **update})
        self._new_updates.set()
        return update_id

    def last_message_id(self, chat_id: int) -> int:
        """The id of the latest message in `chat_id` (the bot's or anyone's; 0 if none)."""
        return max((mid for cid, mid in self.messages if cid == chat_id), default=0)

    def next_message_id(self, chat_id: int) -> int:
        """The id of the next message in `chat_id` (one shared counter unless per_chat_message_ids)."""
        if not self.per_chat_message_ids:
            return next(self._message_ids)
        return next(self._chat_message_ids.setdefault(int(chat_id), itertools.count(1)))

    def _message(self, user_id: int, first_name: str, username: str | None, chat: dict[str, Any] | None,
                 date: int | None, text: str = "") -> dict[str, Any]:
        user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": "ru"}
        if username:
            user["username"] = username
        chat = chat or {"id": user_id, "type": "private", "first_name": first_name}
        message_id = self.next_message_id(chat["id"])
        self.messages[(int(chat["id"]), message_id)] = {"bot": False, "text": text}
        return {"message_id": message_id, "date": int(self.clock()) if date is None else date, "chat": chat,
                "from": user}

    def push_text(self, user_id: int, text: str, first_name: str = "Иван",
                  username: str | None = "ivan", chat: dict[str, Any] | None = None, *,
                  reply_to: dict[str, Any] | None = None, date: int | None = None) -> int:
        """A text message from `user_id`; in their private chat unless `chat` is given
        (e.g. {"id": -100..., "type": "supergroup", "title": "..."} for a group). `reply_to`:
        the message it replies to; `date`: the same for every part of a long paste."""
        msg = self._message(user_id, first_name, username, chat, date, text)
        msg["text"] = text
        if text.startswith("/"):
            msg["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        if reply_to is not None:
            msg["reply_to_message"] = reply_to
        return self.push_update(message=msg)

    def push_media(self, user_id: int, kind: str, caption: str | None = None, first_name: str = "Иван",
                   username: str | None = "ivan", file_name: str = "file.pdf", *,
                   chat: dict[str, Any] | None = None, reply_to: dict[str, Any] | None = None) -> int:
        """A photo, voice note, sticker or document from `user_id`, in their private chat unless
        `chat` is given; `reply_to`: the message it replies to."""
        msg = self._message(user_id, first_name, username, chat, None)
        if reply_to is not None:
            msg["reply_to_message"] = reply_to
        n = msg["message_id"]
        ids = {"file_id": f"{kind}{n}", "file_unique_id": f"{kind}u{n}"}
        media: dict[str, Any] = {
            "photo": [{**ids, "width": 800, "height": 600}],
            "voice": {**ids, "duration": 7, "mime_type": "audio/ogg"},
            "sticker": {**ids, "type": "regular", "width": 512, "height": 512, "is_animated": False,
                        "is_video": False, "emoji": "👍"},
            "document": {**ids, "file_name": file_name, "mime_type": "application/octet-stream"},
        }
        msg[kind] = media[kind]
        if caption:
            msg["caption"] = caption
        self.messages[(int(msg["chat"]["id"]), n)] = {"bot": False, "text": None, "media": kind,
                                                      "caption": caption, "content": media[kind]}
        return self.push_update(message=msg)

    def push_callback(self, user_id: int, data: str, message_id: int = 1, first_name: str = "Иван",
                      username: str | None = "ivan", chat: dict[str, Any] | None = None,
                      message_text: str = "…") -> int:
        """A button press on the bot's message `message_id` (in the user's private chat unless
        `chat` is given)."""
        user = {"id": user_id, "is_bot": False, "first_name": first_name}
        if username:
            user["username"] = username
        chat = chat or {"id": user_id, "type": "private", "first_name": first_name}
        query = {
            "id": str(next(self._update_ids) * 1000), "from": user, "chat_instance": "ci", "data": data,
            "message": {"message_id": message_id, "date": int(self.clock()), "from": self.bot_user,
                        "chat": chat, "text": message_text},
        }
        return self.push_update(callback_query=query)

    def push_contact(self, user_id: int, phone: str, contact_user_id: int | None, first_name: str = "Иван") -> int:
        user = {"id": user_id, "is_bot": False, "first_name": first_name}
        contact: dict[str, Any] = {"phone_number": phone, "first_name": first_name}
        if contact_user_id is not None:
            contact["user_id"] = contact_user_id
        msg = {"message_id": self.next_message_id(user_id), "date": int(self.clock()), "from": user,
               "chat": {"id": user_id, "type": "private", "first_name": first_name}, "contact": contact}
        return self.push_update(message=msg)

    def chat_messages(self, chat_id: int) -> list[tuple[int, str]]:
        """(message id, text or caption) of the bot's messages the chat shows now, oldest first."""
        return sorted((mid, m["text"] if m.get("media") is None else m.get("caption") or "")
                      for (cid, mid), m in self.messages.items() if cid == chat_id and m["bot"])

    def message(self, chat_id: int, message_id: int) -> dict[str, Any] | None:
        """What message `message_id` of `chat_id` holds: {"bot", "text", "media", "caption"}."""
        return self.messages.get((int(chat_id), int(message_id)))

    def of(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    @property
    def pending_updates(self) -> int:
        return sum(1 for u in self._updates if u["update_id"] >= self.confirmed_offset)

    async def wait_for(self, predicate: Callable[[Call], bool], timeout: float = 10.0) -> Call:
        deadline = time.monotonic() + timeout
        seen = 0
        while True:
            for call in self.calls[seen:]:
                if predicate(call):
                    return call
            seen = len(self.calls)
            if time.monotonic() > deadline:
                raise TimeoutError("the bot did not make the expected call")
            await asyncio.sleep(0.01)

    # --- HTTP ------------------------------------------------------------------------
    async def _params(self, request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            return await request.json()
        form = await request.post()
        params: dict[str, Any] = {}
        for key, value in form.items():
            if isinstance(value, web.FileField):
                params[key] = {"filename": value.filename, "content": value.file.read()}
                continue
            try:
                params[key] = json.loads(value)
            except (TypeError, ValueError):
                params[key] = value
        for key, value in list(params.items()):  # a file sent apart: "document": "attach://<field>"
            if isinstance(value, str) and value.startswith("attach://") and value[9:] in params:
                params[key] = params.pop(value[9:])
        return params

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        method = request.match_info["method"]
        params = await self._params(request)
        if method.lower() == "getupdates":
            return web.json_response({"ok": True, "result": await self._get_updates(params)})
        call = Call(method, params)
        error = self._chat_error(params)
        if error is None:
            try:
                self._flood(call)
                call.result = self._result(method, params)
            except ApiError as exc:
                call.result = {"error_code": exc.code, "description": exc.description}
                self.calls.append(call)
                body: dict[str, Any] = {"ok": False, "error_code": exc.code, "description": exc.description}
                if exc.parameters:
                    body["parameters"] = exc.parameters
                return web.json_response(body, status=exc.code)
        self.calls.append(call)
        for listener in self.listeners:
            listener(call)
        if error is not None:
            code, description = error
            return web.json_response({"ok": False, "error_code": code, "description": description}, status=code)
        if self.drop_after_accept is not None and self.drop_after_accept(call):
            call.dropped = True
            if request.transport is not None:
                request.transport.abort()  # the client sees the connection drop, not the answer
        if method in self.held:
            await self._release.wait()
        return web.json_response({"ok": True, "result": call.result})

    def _chat_error(self, params: dict[str, Any]) -> tuple[int, str] | None:
        try:
            chat_id = int(params.get("chat_id") or 0)
        except (TypeError, ValueError):
            return None
        return self.chat_errors.get(chat_id)

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        timeout = float(params.get("timeout") or 0)
        call = Call("getUpdates", params, result=[])  # result: the update_ids answered
        self.calls.append(call)
        if offset:
            self.confirmed_offset = max(self.confirmed_offset, offset)
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        ready = [u for u in self._updates if u["update_id"] >= offset][:limit]
        if not ready and timeout > 0:
            self._new_updates.clear()
            try:
                await asyncio.wait_for(self._new_updates.wait(), timeout)
            except TimeoutError:
                return []
            ready = [u for u in self._updates if u["update_id"] >= offset][:limit]
        call.result = [u.get("update_id") for u in ready]
        return ready

    def _flood(self, call: Call) -> None:
        """429 for a send beyond `flood_rate` a second, or every `flood_every`-th send."""
        if call.method.lower() not in SENDS or (self.flood_rate is None and not self.flood_every):
            return
        now = time.monotonic()
        while self._sends and now - self._sends[0] >= 1.0:
            self._sends.popleft()
        self._send_count += 1
        if (self.flood_every and self._send_count % self.flood_every == 0) or (
                self.flood_rate is not None and len(self._sends) >= self.flood_rate):
            self.refused.append(call)
            raise ApiError(429, f"Too Many Requests: retry after {self.flood_retry_after}",
                           {"retry_after": self.flood_retry_after})
        self._sends.append(now)

    def _strict(self, m: str, params: dict[str, Any]) -> None:
        """Telegram's answers to edits and deletes of messages that are not the bot's own."""
        key = (int(params.get("chat_id") or 0), int(params.get("message_id") or 0))
        stored = self.messages.get(key)
        verb = "delete" if m == "deletemessage" else "edit"
        if stored is None:
            raise ApiError(400, f"Bad Request: message to {verb} not found")
        if not stored["bot"]:
            raise ApiError(400, f"Bad Request: message can't be {verb.removesuffix('e')}ed")
        if m == "editmessagecaption" and stored.get("media") is None:
            raise ApiError(400, "Bad Request: there is no caption in the message to edit")
        if m == "editmessagecaption" and stored.get("caption") == params.get("caption"):
            raise ApiError(400, "Bad Request: message is not modified")
        if m == "editmessagetext" and stored.get("media") is not None:
            raise ApiError(400, "Bad Request: there is no text in the message to edit")
        if m == "editmessagetext" and stored["text"] == params.get("text"):
            raise ApiError(400, "Bad Request: message is not modified: specified new message content and "
                                "reply markup are exactly the same as a current content and reply markup "
                                "of the message")

    def _result(self, method: str, params: dict[str, Any]) -> Any:
        m = method.lower()
        if m == "getme":
            return self.bot_user
        if self.strict_messages and m in ("editmessagetext", "editmessagecaption", "deletemessage"):
            self._strict(m, params)
        if m == "copymessage":
            return self._copy(params)
        if m == "editmessagecaption":
            stored = self.messages.get((int(params.get("chat_id") or 0), int(params.get("message_id") or 0)))
            if stored is not None:
                stored["caption"] = params.get("caption")
            return {"message_id": params.get("message_id"), "date": int(self.clock()), "from": self.bot_user,
                    "chat": {"id": params.get("chat_id"), "type": "supergroup"}, "caption": params.get("caption")}
        if m == "deletemessage":
            self.messages.pop((int(params.get("chat_id") or 0), int(params.get("message_id") or 0)), None)
            return True
        if m == "getchat":
            chat_id = int(params.get("chat_id", 0))
            chat: dict[str, Any] = {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup",
                                    "accent_color_id": 0, "max_reaction_count": 11,
                                    "accepted_gift_types": {k: False for k in GIFT_TYPES}}
            if chat_id < 0:
                chat["title"] = "Agency"
            return chat
        if m in ("sendmessage", "senddocument", "editmessagetext"):
            chat_id = params.get("chat_id", 0)
            chat_type = "private" if int(chat_id) > 0 else "supergroup"
            message_id = params.get("message_id") or self.next_message_id(int(chat_id))
            message = {
                "message_id": message_id, "date": int(time.time()),
                "chat": {"id": chat_id, "type": chat_type}, "from": self.bot_user,
                "text": params.get("text", ""),
            }
            document = params.get("document")
            if m == "senddocument" and isinstance(document, dict):
                content = document.get("content") or b""
                message.pop("text")
                message["document"] = {"file_id": f"doc{message_id}", "file_unique_id": f"doc{message_id}",
                                       "file_name": document.get("filename"), "file_size": len(content)}
                if params.get("caption"):
                    message["caption"] = params["caption"]
            self.messages[(int(chat_id), int(message_id))] = {"bot": True, "text": params.get("text", ""),
                                                              "media": None, "caption": None}
            return message
        return True

    def _copy(self, params: dict[str, Any]) -> dict[str, Any]:
        source = self.messages.get((int(params.get("from_chat_id") or 0), int(params.get("message_id") or 0)))
        if source is None:
            raise ApiError(400, "Bad Request: message to copy not found")
        chat_id = int(params.get("chat_id") or 0)
        message_id = self.next_message_id(chat_id)
        caption = params["caption"] if "caption" in params else source.get("caption")
        self.messages[(chat_id, message_id)] = {
            "bot": True, "text": source.get("text"), "media": source.get("media"),
            "caption": caption if source.get("media") is not None else None,
        }
        return {"message_id": message_id}


async def _main() -> None:  # pragma: no cover - manual use: python -m bot.standin TOKEN
    import sys

    server = BotAPIStandIn(sys.argv[1], port=int(sys.argv[2]) if len(sys.argv) > 2 else 8081)
    await server.start()
    print(f"Bot API stand-in on {server.base_url}", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":  # pragma: no cover
    asyncio.run(_main())
