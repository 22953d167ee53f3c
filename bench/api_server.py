"""Bench-only Bot API stand-in: a minimal HTTP/1.1 server on raw asyncio, in its own process.

Run by bench/e2e_bench.py (``python bench/api_server.py TOKEN``; it prints ``PORT <n>``).
It is deliberately cheap so that it is never the bottleneck: updates are serialised once when
queued, getUpdates joins pre-built bytes, sendMessage reads only ``chat_id`` from the body and
answers with a minimal Message. Times are ``time.monotonic()`` (CLOCK_MONOTONIC, the same
clock in every process on Linux) taken in this process only:

* an update's *availability* time: when it was queued (the bench pushes while the bot is
  already long-polling, so a waiting getUpdates is answered at once);
* a reply's time: when the sendMessage for that chat arrived.

Control endpoints (127.0.0.1 only, used by the bench driver):
  POST /ctl/push    body: JSON [[user_id, text], ...]  queue text messages from private chats
  POST /ctl/reset   forget queued updates and recorded replies (update ids keep increasing)
  GET  /ctl/state   JSON counters: replies, queued, polls, first_poll
  GET  /ctl/results JSON {"avail": [[update_id, chat_id, t], ...], "replies": [[chat_id, t], ...]}
  POST /ctl/quit    stop the server
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import time
from collections import deque
from urllib.parse import parse_qsl

BOT_USER = {"id": 42, "is_bot": True, "first_name": "Kosmmos", "username": "kosmmos_bot"}
CHAT_ID_RE = re.compile(rb'(?:^|&)chat_id=(-?\d+)|"chat_id":\s*"?(-?\d+)')  # form or JSON body
MAX_BODY = 16 * 1024 * 1024
PASTE_GAP = 2  # seconds between two messages of one user (see push)


def _dumps(obj: object) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


class State:
    def __init__(self, token: str) -> None:
        self.token = token
        self.prefix = f"/bot{token}/".encode()
        self.queue: deque[tuple[int, bytes]] = deque()  # (update_id, serialised update)
        self.next_update_id = 1
        self.last_date: dict[int, int] = {}  # user id -> date of their last queued message
        self.next_message_id = 1
        self.avail: list[tuple[int, int, float]] = []
        self.replies: list[tuple[int, float]] = []
        self.polls = 0
        self.first_poll: float | None = None
        self.waiters: list[tuple[Conn, asyncio.TimerHandle, int, int]] = []
        self.quit = asyncio.Event()
        self.me = _dumps({"ok": True, "result": BOT_USER})
        self.true = _dumps({"ok": True, "result": True})

    # --- updates -----------------------------------------------------------------------------
    def push(self, items: list[list]) -> int:
        now = time.monotonic()
        for user_id, text in items:
            # A user's messages are PASTE_GAP s apart in Telegram's clock, as typed by a person:
            # the bot joins parts sent within a second into one (a long paste Telegram split).
            date = max(int(time.time()), self.last_date.get(user_id, 0) + PASTE_GAP)
            self.last_date[user_id] = date
            uid, mid = self.next_update_id, self.next_message_id
            self.next_update_id += 1
            self.next_message_id += 1
            user = {"id": user_id, "is_bot": False, "first_name": "Иван", "username": f"u{user_id}",
                    "language_code": "ru"}
            msg = {"message_id": mid, "date": date,
                   "chat": {"id": user_id, "type": "private", "first_name": "Иван"},
                   "from": user, "text": text}
            if text.startswith("/"):
                msg["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
            self.queue.append((uid, _dumps({"update_id": uid, "message": msg})))
            self.avail.append((uid, user_id, now))
        self._wake()
        return len(items)

    def _ready(self, offset: int, limit: int) -> bytes:
        q = self.queue
        if offset:
            while q and q[0][0] < offset:
                q.popleft()
        n = min(limit, len(q))
        parts = [q[i][1] for i in range(n)]
        return b'{"ok":true,"result":[' + b",".join(parts) + b"]}"

    def get_updates(self, conn: Conn, body: bytes) -> None:
        params = json.loads(body) if body.startswith(b"{") else dict(parse_qsl(body.decode()))
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        timeout = float(params.get("timeout") or 0)
        self.polls += 1
        if self.first_poll is None:
            self.first_poll = time.monotonic()
        if offset:
            while self.queue and self.queue[0][0] < offset:
                self.queue.popleft()
        if self.queue or timeout <= 0:
            conn.respond(self._ready(offset, limit))
            return
        loop = asyncio.get_running_loop()
        timer = loop.call_later(timeout, self._expire, conn)
        self.waiters.append((conn, timer, offset, limit))

    def _expire(self, conn: Conn) -> None:
        for i, (c, _timer, _offset, _limit) in enumerate(self.waiters):
            if c is conn:
                del self.waiters[i]
                conn.respond(b'{"ok":true,"result":[]}')
                return

    def _wake(self) -> None:
        waiters, self.waiters = self.waiters, []
        for conn, timer, offset, limit in waiters:
            timer.cancel()
            conn.respond(self._ready(offset, limit))

    # --- Bot API -----------------------------------------------------------------------------
    def api(self, conn: Conn, method: str, body: bytes) -> None:
        m = method.lower()
        if m == "getupdates":
            self.get_updates(conn, body)
            return
        if m in ("sendmessage", "editmessagetext", "senddocument"):
            match = CHAT_ID_RE.search(body)
            chat_id = int(match.group(1) or match.group(2)) if match else 0
            if m == "sendmessage":
                self.replies.append((chat_id, time.monotonic()))
            mid = self.next_message_id
            self.next_message_id += 1
            chat_type = "private" if chat_id > 0 else "supergroup"
            conn.respond(
                b'{"ok":true,"result":{"message_id":%d,"date":%d,"chat":{"id":%d,"type":"%s"},'
                b'"from":{"id":42,"is_bot":true,"first_name":"Kosmmos","username":"kosmmos_bot"},'
                b'"text":""}}' % (mid, int(time.time()), chat_id, chat_type.encode())
            )
            return
        if m == "getme":
            conn.respond(self.me)
            return
        conn.respond(self.true)

    # --- control -----------------------------------------------------------------------------
    def control(self, conn: Conn, path: str, body: bytes) -> None:
        if path == "/ctl/push":
            conn.respond(_dumps({"queued": self.push(json.loads(body))}))
        elif path == "/ctl/reset":
            for c, timer, _o, _l in self.waiters:
                timer.cancel()
                c.respond(b'{"ok":true,"result":[]}')
            self.waiters = []
            self.queue.clear()
            self.avail, self.replies = [], []
            self.polls, self.first_poll = 0, None
            conn.respond(self.true)
        elif path == "/ctl/state":
            conn.respond(_dumps({"replies": len(self.replies), "queued": len(self.queue),
                                 "polls": self.polls, "first_poll": self.first_poll,
                                 "now": time.monotonic()}))
        elif path == "/ctl/results":
            conn.respond(_dumps({"avail": self.avail, "replies": self.replies}))
        elif path == "/ctl/quit":
            conn.respond(self.true)
            self.quit.set()
        else:
            conn.respond(b'{"ok":false,"error_code":404,"description":"Not Found"}', status=b"404 Not Found")


class Conn(asyncio.Protocol):
    """One keep-alive connection; aiohttp's client never pipelines, so one request at a time."""

    def __init__(self, state: State) -> None:
        self.state = state
        self.buf = bytearray()
        self.transport: asyncio.Transport | None = None
        self.busy = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        self.state.waiters = [w for w in self.state.waiters if w[0] is not self]

    def data_received(self, data: bytes) -> None:
        self.buf += data
        self._parse()

    def _parse(self) -> None:
        while not self.busy:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buf[:end]).split(b"\r\n")
            length = 0
            for line in head[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value.strip())
            if length > MAX_BODY:
                self.transport.close()  # type: ignore[union-attr]
                return
            if len(self.buf) < end + 4 + length:
                return
            body = bytes(self.buf[end + 4:end + 4 + length])
            del self.buf[:end + 4 + length]
            parts = head[0].split(b" ")
            path = parts[1].split(b"?")[0] if len(parts) > 1 else b"/"
            self.busy = True
            self._dispatch(path, body)

    def _dispatch(self, path: bytes, body: bytes) -> None:
        st = self.state
        if path.startswith(st.prefix):
            st.api(self, path[len(st.prefix):].decode(), body)
        elif path.startswith(b"/bot"):
            self.respond(b'{"ok":false,"error_code":401,"description":"Unauthorized"}',
                         status=b"401 Unauthorized")
        else:
            st.control(self, path.decode(), body)

    def respond(self, body: bytes, status: bytes = b"200 OK") -> None:
        self.busy = False
        if self.transport is None or self.transport.is_closing():
            return
        self.transport.write(
            b"HTTP/1.1 " + status + b"\r\nContent-Type: application/json\r\nContent-Length: "
            + str(len(body)).encode() + b"\r\n\r\n" + body
        )
        if self.buf:
            self._parse()


async def serve(token: str, port: int) -> None:
    state = State(token)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: Conn(state), "127.0.0.1", port, backlog=1024)
    print(f"PORT {server.sockets[0].getsockname()[1]}", flush=True)
    async with server:
        await state.quit.wait()


def main() -> None:
    token = sys.argv[1]
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    try:
        asyncio.run(serve(token, port))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
