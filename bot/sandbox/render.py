"""The sandbox's transcript: recorded Bot API calls as terminal lines, buttons numbered."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

from bot.standin import Call

SILENT_METHODS = {"getMe", "getUpdates", "deleteWebhook", "setMyCommands", "close", "logOut", "getChat"}
DOC_PREVIEW_LINES = 8
TIME_PLACEHOLDER = "‹время›"
MONTHS = "января|февраля|марта|апреля|мая|июня|июля|августа|сентября|октября|ноября|декабря"

_ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:[+-]\d{2}:\d{2}|Z)?")
_LOCAL_TIME = re.compile(r"\d{2}\.\d{2}\.\d{4} \d{2}:\d{2}")
_HUMAN_TIME = re.compile(rf"\d{{1,2}} (?:{MONTHS}) \d{{4}}(?:, \d{{2}}:\d{{2}})?")
# How a copied message's media shows in the transcript (copyMessage: the relay).
MEDIA_LABELS = {"photo": "📷 фото", "video": "🎬 видео", "animation": "🎞 анимация", "audio": "🎵 аудиозапись",
                "voice": "🎤 голосовое сообщение", "video_note": "⏺ видеосообщение", "sticker": "🙂 стикер",
                "document": "📎 файл"}
Lookup = Callable[[int, int], "dict[str, Any] | None"]


class _Plain(HTMLParser):
    BOLD = {"b", "strong"}

    def __init__(self, ansi: bool) -> None:
        super().__init__(convert_charrefs=True)
        self.ansi = ansi
        self.parts: list[str] = []
        self._links: list[tuple[str, int]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._links.append((dict(attrs).get("href") or "", len(self.parts)))
        elif tag in self.BOLD and self.ansi:
            self.parts.append("\033[1m")

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._links:
            href, start = self._links.pop()
            label = "".join(self.parts[start:])
            if href and href != label:
                self.parts.append(f" ({href})")
        elif tag in self.BOLD and self.ansi:
            self.parts.append("\033[22m")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_to_text(text: str, ansi: bool = False) -> str:
    """Telegram HTML as plain text: tags stripped, entities unescaped, links as `text (url)`."""
    parser = _Plain(ansi)
    parser.feed(text)
    parser.close()
    return "".join(parser.parts)


def mask_times(text: str) -> str:
    """Clock times and dates replaced by ‹время›, so a transcript does not depend on when it ran."""
    text = _ISO_TIME.sub(TIME_PLACEHOLDER, text)
    return _HUMAN_TIME.sub(TIME_PLACEHOLDER, _LOCAL_TIME.sub(TIME_PLACEHOLDER, text))


@dataclass(frozen=True)
class Button:
    text: str
    chat_id: int
    message_id: int | None  # the message carrying an inline button; None for the reply keyboard
    callback_data: str | None = None
    url: str | None = None
    contact: bool = False  # reply keyboard: "share my number"

    @property
    def label(self) -> str:
        return f"{self.text} ↗ {self.url}" if self.url else self.text


def inline_rows(markup: Any, chat_id: int, message_id: int | None) -> list[list[Button]]:
    if not isinstance(markup, dict):
        return []
    rows = []
    for row in markup.get("inline_keyboard") or []:
        buttons = [Button(b.get("text", "?"), chat_id, message_id, b.get("callback_data"), b.get("url"))
                   for b in row]
        if buttons:
            rows.append(buttons)
    return rows


def reply_rows(markup: Any, chat_id: int) -> list[list[Button]]:
    if not isinstance(markup, dict):
        return []
    rows = []
    for row in markup.get("keyboard") or []:
        buttons = [Button(b if isinstance(b, str) else b.get("text", "?"), chat_id, None,
                          contact=bool(isinstance(b, dict) and b.get("request_contact")))
                   for b in row]
        if buttons:
            rows.append(buttons)
    return rows


class Style:
    def __init__(self, ansi: bool) -> None:
        self.ansi = ansi

    def _wrap(self, code: str, text: str) -> str:
        return f"\033[{code}m{text}\033[0m" if self.ansi and text else text

    def agency(self, text: str) -> str:
        return self._wrap("35", text)

    def event(self, text: str) -> str:
        return self._wrap("33", text)

    def toast(self, text: str) -> str:
        return self._wrap("36", text)

    def note(self, text: str) -> str:
        return self._wrap("2", text)

    def input(self, text: str) -> str:
        return self._wrap("1", text)


class Renderer:
    """Turns recorded Bot API calls into transcript lines and keeps the numbered buttons.

    `prospect` is the chat typed in now (shown without a label); other prospects' chats are
    labelled by `labels` ("[клиент 2] "), the agency chat by `agency_label`."""

    INDENT = "   "

    def __init__(self, style: Style, *, prospect: int, agency_chat: int, hide_times: bool = False,
                 labels: Mapping[int, str] | None = None, lookup: Lookup | None = None) -> None:
        self.style = style
        self.lookup = lookup  # what a message holds (the stand-in's record): copies show their content
        self.hide_times = hide_times
        self.prospect = prospect
        self.agency_chat = agency_chat
        self.labels = labels if labels is not None else {}
        self.numbers: dict[int, Button] = {}
        self.reply_keyboards: dict[int, list[list[Button]]] = {}  # per prospect chat
        self._inline: dict[tuple[int, int], list[list[Button]]] = {}  # current keyboard per message

    @property
    def reply_keyboard(self) -> list[list[Button]]:
        return self.reply_keyboards.get(self.prospect, [])

    # helpers
    def _text(self, raw: Any, parse_mode: Any) -> str:
        text = str(raw or "")
        if str(parse_mode or "").upper() == "HTML":
            text = html_to_text(text, self.style.ansi)
        return mask_times(text) if self.hide_times else text

    def chat_label(self, chat_id: Any) -> str:
        if chat_id == self.prospect:
            return ""
        if chat_id == self.agency_chat:
            return "[агентство] "
        return f"[{self.labels.get(chat_id, f'чат {chat_id}')}] "

    def _paint(self, chat_id: Any, text: str, kind: str = "message") -> str:
        if chat_id == self.agency_chat:
            return self.style.agency(text)
        if kind == "event":
            return self.style.event(text)
        if kind == "toast":
            return self.style.toast(text)
        return text

    @staticmethod
    def _replying(p: Mapping[str, Any]) -> str:
        """" ↩ #5" for a message sent as a Reply to message 5 (threads in the agency chat)."""
        target = (p.get("reply_parameters") or {}).get("message_id") if isinstance(
            p.get("reply_parameters"), dict) else None
        return f" ↩ #{target}" if target else ""

    def _copied(self, chat: int, mid: Any, p: Mapping[str, Any]) -> str:
        """A copy's content: its text, or its kind of media and caption."""
        held = self.lookup(chat, int(mid)) if self.lookup is not None and mid is not None else None
        if held is None:
            return "(копия сообщения)"
        if held.get("media") is None:
            return self._text(held.get("text"), None)
        lines = [MEDIA_LABELS.get(str(held["media"]), str(held["media"]))]
        if held.get("caption"):
            lines.append(self._text(held["caption"], p.get("parse_mode") if "caption" in p else None))
        return "\n".join(lines)

    def _block(self, head: str, body: str) -> list[str]:
        first, *rest = body.split("\n") if body else [""]
        lines = [f"{head}{first}".rstrip()]
        lines += [f"{self.INDENT}{line}".rstrip() for line in rest]
        return lines

    def _button_lines(self, rows: list[list[Button]], shown: list[Button], prefix: str = "") -> list[str]:
        lines = []
        for i, row in enumerate(rows):
            cells = []
            for b in row:
                shown.append(b)
                cells.append(f"[{len(shown)}] {b.label}")
            lines.append(self.INDENT + (prefix if i == 0 else " " * len(prefix)) + "  ".join(cells))
        return lines

    # one batch: everything the bot did in response to one input
    def render(self, calls: Iterable[Call], press_chat: int | None = None) -> list[str]:
        press_chat = self.prospect if press_chat is None else press_chat
        out: list[str] = []
        shown: list[Button] = []
        reply_changed = False
        for call in calls:
            method, p = call.method, call.params
            if method in SILENT_METHODS:
                continue
            chat = int(p.get("chat_id") or 0)
            label = self.chat_label(chat)
            markup = p.get("reply_markup")
            if method in ("sendMessage", "sendDocument"):
                mid = call.result.get("message_id") if isinstance(call.result, dict) else None
                if method == "sendMessage":
                    body = self._text(p.get("text"), p.get("parse_mode"))
                else:
                    body = self._document(p)
                reply = self._replying(p)
                head = f"{label}#{mid}{reply}: " if chat == self.agency_chat else f"{label}бот #{mid}{reply}: "
                lines = self._block(head, body)
                rows = inline_rows(markup, chat, mid)
                if mid is not None:
                    self._inline[(chat, int(mid))] = rows
                lines += self._button_lines(rows, shown)
                out += [self._paint(chat, line) for line in lines]
                reply_changed |= self._reply_markup(markup, chat, out, shown)
            elif method == "copyMessage":
                mid = call.result.get("message_id") if isinstance(call.result, dict) else None
                reply = self._replying(p)
                if chat == self.agency_chat:
                    head = f"{label}#{mid}{reply}: "
                elif "caption" in p or p.get("from_chat_id") != self.agency_chat:
                    head = f"{label}бот #{mid}{reply}: "  # e.g. a broadcast (its caption has the unsubscribe line)
                else:
                    head = f"{label}бот #{mid}{reply} (сообщение менеджера): "
                lines = self._block(head, self._copied(chat, mid, p))
                rows = inline_rows(markup, chat, mid)
                if mid is not None:
                    self._inline[(chat, int(mid))] = rows
                lines += self._button_lines(rows, shown)
                out += [self._paint(chat, line) for line in lines]
            elif method == "editMessageCaption":
                mid = int(p.get("message_id") or 0)
                body = self._text(p.get("caption"), p.get("parse_mode"))
                out += [self._paint(chat, line, "event")
                        for line in self._block(f"{label}✎ изменена подпись сообщения {mid}: ", body)]
            elif method == "editMessageText":
                mid = int(p.get("message_id") or 0)
                body = self._text(p.get("text"), p.get("parse_mode"))
                lines = self._block(f"{label}✎ изменено сообщение {mid}: ", body)
                rows = inline_rows(markup, chat, mid)
                self._inline[(chat, mid)] = rows
                lines += self._button_lines(rows, shown)
                out += [self._paint(chat, line, "event") for line in lines]
            elif method == "editMessageReplyMarkup":
                mid = int(p.get("message_id") or 0)
                rows = inline_rows(markup, chat, mid)
                self._inline[(chat, mid)] = rows
                if rows:
                    lines = [f"{label}✎ новые кнопки сообщения {mid}:", *self._button_lines(rows, shown)]
                else:
                    lines = [f"{label}✎ кнопки сообщения {mid} убраны"]
                out += [self._paint(chat, line, "event") for line in lines]
            elif method == "deleteMessage":
                mid = int(p.get("message_id") or 0)
                self._inline.pop((chat, mid), None)
                out.append(self._paint(chat, f"{label}✖ удалено сообщение {mid}", "event"))
            elif method == "answerCallbackQuery":
                if p.get("text"):
                    mark = "⚠ окно:" if p.get("show_alert") else "💬"
                    text = self._text(p["text"], None)
                    out.append(self._paint(press_chat, f"{self.chat_label(press_chat)}{mark} {text}", "toast"))
            else:
                out.append(self._paint(chat, f"{label}· {method}", "event"))
        if shown:
            # New keyboards on screen: their numbers replace the old ones; the reply keyboard
            # (still under the input field) keeps a number too.
            if self.reply_keyboard and not reply_changed:
                out += [self.style.note(line) for line in self._button_lines(self.reply_keyboard, shown, "⌨ ")]
            self.numbers = dict(enumerate(shown, 1))
        else:
            self._forget_stale()
        return out

    def _reply_markup(self, markup: Any, chat: int, out: list[str], shown: list[Button]) -> bool:
        """A reply keyboard (under the input field) set or removed by a message to a prospect."""
        if chat == self.agency_chat or not isinstance(markup, dict):
            return False
        if markup.get("remove_keyboard"):
            if self.reply_keyboards.pop(chat, None):
                out.append(self.style.note(f"{self.INDENT}⌨ клавиатура убрана"))
            return chat == self.prospect
        rows = reply_rows(markup, chat)
        if not rows:
            return False
        self.reply_keyboards[chat] = rows
        if chat != self.prospect:
            return False
        out += [self.style.note(line) for line in self._button_lines(rows, shown, "⌨ ")]
        return True

    def _forget_stale(self) -> None:
        """Buttons whose message lost them (edited or deleted) can no longer be pressed."""
        current = {b for rows in self._inline.values() for row in rows for b in row}
        reply = {b for row in self.reply_keyboard for b in row}
        self.numbers = {n: b for n, b in self.numbers.items()
                        if (b in reply if b.message_id is None else b in current)}

    def _document(self, p: dict[str, Any]) -> str:
        doc = p.get("document")
        name, content = "file", b""
        if isinstance(doc, dict):
            name = str(doc.get("filename") or name)
            raw = doc.get("content") or b""
            content = raw if isinstance(raw, bytes) else str(raw).encode()
        elif isinstance(doc, str):
            name = doc
        lines = [f"📎 файл {name}, {len(content)} байт"]
        if p.get("caption"):
            lines.append(self._text(p["caption"], p.get("parse_mode")))
        text = content.decode("utf-8", "replace")
        if name.lower().endswith((".json", ".csv")) or text.lstrip().startswith(("{", "[")):
            head = text.lstrip("\ufeff").splitlines()
            preview = head[:DOC_PREVIEW_LINES]
            if self.hide_times:
                preview = [mask_times(line) for line in preview]
            lines += [f"│ {line}" for line in preview]
            if len(head) > DOC_PREVIEW_LINES:
                lines.append(f"│ … ещё {len(head) - DOC_PREVIEW_LINES} строк")
        return "\n".join(lines)
