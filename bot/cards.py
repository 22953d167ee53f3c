"""HTML texts for the agency chat: lead cards, redacted cards, questions and notices.

Every user-supplied value is escaped. Every text fits Telegram's limit of 4096 characters
*after* entity parsing: long values are trimmed evenly (longest first) and end with "…".
Lengths are counted in UTF-16 code units, as Telegram does, so emoji never push a text over.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from html.parser import HTMLParser
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from aiogram.utils.text_decorations import html_decoration

from bot import agency_notices
from bot import brief_form as form
from bot.contacts import display_phone
from bot.plural import plural_ru
from bot.settings import Settings
from bot.texts import brief as brief_texts
from bot.texts import cards as t
from bot.texts import relay as relay_texts
from storage.leads import Lead, LeadWork

log = logging.getLogger(__name__)

MAX_TEXT_LENGTH = 4096
ELLIPSIS = "…"

# Option codes stored in the lead -> labels shown on the card.
CATALOGUES: Mapping[str, Mapping[str, str]] = form.CATALOGUES

quote = html_decoration.quote


# --- lengths and trimming ---------------------------------------------------------------

def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class _TextOnly(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def parsed_text(html_text: str) -> str:
    """What Telegram shows for an HTML text: tags removed, entities unescaped."""
    parser = _TextOnly()
    parser.feed(html_text)
    parser.close()
    return "".join(parser.parts)


def parsed_length(html_text: str) -> int:
    return utf16_len(parsed_text(html_text))


def cut(value: str, cap: int | None) -> str:
    """`value` shortened to at most `cap` UTF-16 units, ending with "…" when shortened."""
    if cap is None or utf16_len(value) <= cap:
        return value
    if cap <= 1:
        return ELLIPSIS[:cap]
    out, used = [], 0
    for ch in value:
        w = 2 if ord(ch) > 0xFFFF else 1
        if used + w > cap - 1:
            break
        out.append(ch)
        used += w
    return "".join(out).rstrip() + ELLIPSIS


def fit(build: Callable[[int | None], str], longest: int, limit: int = MAX_TEXT_LENGTH) -> str:
    """build(cap) renders with every user value cut to `cap`; find the largest cap that fits."""
    text = build(None)
    if parsed_length(text) <= limit:
        return text
    lo, hi = 1, max(1, longest)
    best = build(1)
    while lo <= hi:
        mid = (lo + hi) // 2
        candidate = build(mid)
        if parsed_length(candidate) <= limit:
            best, lo = candidate, mid + 1
        else:
            hi = mid - 1
    return best


# --- pieces ----------------------------------------------------------------------------

def lead_tag(lead_id: Any) -> str:
    try:
        return t.LEAD_TAG.format(id=int(lead_id))
    except (TypeError, ValueError):
        return quote(t.LEAD_TAG.format(id=lead_id))


def profile_link(user_id: Any, name: str | None, username: str | None, c: Callable[[str], str]) -> str:
    """<a href="tg://user?id=..">name</a> (@username); `c` escapes (and trims) user text."""
    label = c(name) if name else t.CARD_PROFILE_FALLBACK
    try:
        link = f'<a href="tg://user?id={int(user_id)}">{label}</a>'
    except (TypeError, ValueError):
        link = label
    if username:
        link += f" (@{c(str(username).lstrip('@'))})"
    return link


def mask_phone(phone: str) -> str:
    """'+7 999 123-45-67' -> '+7 *** ***-45-67'."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    if len(digits) < 4:
        return "***"
    prefix = ""
    try:
        prefix = f"+{phonenumbers.parse(phone, 'RU').country_code} "
    except phonenumbers.NumberParseException:
        pass
    return f"{prefix}*** ***-{digits[-4:-2]}-{digits[-2:]}"


def mask_email(email: str) -> str:
    """'ivan@example.com' -> 'i***@example.com'."""
    local, at, domain = email.strip().rpartition("@")
    if not at or not local:
        return "***"
    return f"{local[0]}***@{domain}"


def field_text(key: str, value: Any, record: Mapping[str, Any] | None = None, *, masked: bool = False) -> str:
    """A lead or draft field as people read it, for the card, the summary and /mydata (plain
    text, not yet escaped); '' when empty. `record` (the lead's or draft's fields) supplies the
    "Другое" text of a multi-choice field; `masked` hides most of a phone or an e-mail."""
    if value is None or value == "" or value == []:
        return ""
    if key in form.OTHER_FIELD or key in CATALOGUES:
        other = (record or {}).get(form.OTHER_FIELD[key]) if key in form.OTHER_FIELD else None
        return form.choice_text(key, value, other)
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value if v not in (None, ""))
    value = str(value)
    if key == "phone":
        return mask_phone(value) if masked else display_phone(value)
    if masked and key == "email":
        return mask_email(value)
    return value


def local_time(created_at: str, tz_name: str) -> str:
    try:
        dt = datetime.fromisoformat(created_at)
    except (TypeError, ValueError):
        return quote(str(created_at))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    tz: tzinfo
    try:
        tz = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        log.warning("unknown TIMEZONE setting, showing UTC")
        tz, tz_name = UTC, "UTC"
    return f"{dt.astimezone(tz).strftime(t.TIME_FORMAT)} ({quote(tz_name)})"


# --- texts -----------------------------------------------------------------------------

def render_lead_card(lead: Lead, settings: Settings) -> str:
    """Every field of the brief, "—" where the prospect left it empty; additions made after
    submitting at the end."""
    f = lead.fields
    masked = settings.masked_card
    rows = []
    for key, label in brief_texts.FIELD_LABELS.items():
        value = field_text(key, f.get(key), f, masked=masked)
        rows.append((t.CARD_FIELD.format(label=quote(label)), value))
    additions = [str(a) for a in f.get("additions") or [] if a]
    created = local_time(lead.created_at, settings.timezone)
    source = lead.source or ""
    user_values = [v for _, v in rows] + additions + [source, f.get("tg_name") or "", f.get("username") or ""]
    longest = max(utf16_len(v) for v in user_values)
    status = render_status(lead.work, settings.timezone)
    title = t.CARD_TITLE
    if lead.kind == "callback":  # a call back, or (without a phone) a message in Telegram
        title = t.CARD_TITLE_CALLBACK if f.get("phone") else t.CARD_TITLE_CONTACT

    def build(cap: int | None) -> str:
        def c(v: str) -> str:
            return quote(cut(v, cap))

        lines = [lead_tag(lead.id), title, ""]
        lines.append(f"{t.CARD_CLIENT} {profile_link(lead.user_id, f.get('tg_name'), f.get('username'), c)}")
        lines += [f"{label} {c(value) if value else t.CARD_EMPTY}" for label, value in rows]
        if additions:
            lines += ["", t.CARD_ADDITIONS, *(f"• {c(a)}" for a in additions)]
        lines.append("")
        lines.append(f"{t.CARD_SOURCE} {c(source) if source else t.CARD_SOURCE_DIRECT}")
        lines.append(f"{t.CARD_CREATED} {created}")
        if status:
            lines.append(status)
        return "\n".join(lines)

    return fit(build, longest)


def render_status(work: LeadWork | None, tz_name: str) -> str:
    """The card's status line: the work status, who set it and when (empty for a new lead)."""
    if work is None:
        return ""
    who = quote(cut(work.by_name, 64)) if work.by_name else t.STAFF_FALLBACK
    when = local_time(work.at, tz_name) if work.at else ""
    return t.CARD_STATUS.format(status=t.STATUS_LABELS.get(work.status, quote(work.status)), who=who, when=when)


def render_redacted_card(lead_id: int, reason: str) -> str:
    template = t.REDACTED_RETENTION if reason == "retention" else t.REDACTED_WITHDRAWAL
    return template.format(tag=lead_tag(lead_id))


def question_tag(question_id: Any) -> str:
    try:
        return t.QUESTION_NUMBERED_TAG.format(id=int(question_id))
    except (TypeError, ValueError):
        return t.QUESTION_TAG


def render_question(payload: Mapping[str, Any], question_id: int | None = None) -> str:
    """The question card; `question_id` (its outbox row) numbers it, so a withdrawal notice can
    name it."""
    text = str(payload.get("text") or "") or t.QUESTION_EMPTY
    name = payload.get("tg_name")
    username = payload.get("username")
    values = [text, str(name or ""), str(username or "")]

    def build(cap: int | None) -> str:
        def c(v: str) -> str:
            return quote(cut(v, cap))

        who = profile_link(payload.get("user_id"), str(name) if name else None, username, c)
        return f"{question_tag(question_id)} {t.QUESTION_TITLE}\n{t.QUESTION_FROM} {who}\n\n{c(text)}"

    return fit(build, max(utf16_len(v) for v in values))


def render_redacted_question(question_id: int, reason: str) -> str:
    template = t.REDACTED_QUESTION_RETENTION if reason == "retention" else t.REDACTED_QUESTION_WITHDRAWAL
    return template.format(tag=question_tag(question_id))


def message_place(chat_id: int, message_id: int) -> str:
    """A link to a message in a supergroup (t.me/c/...), or its number in a basic group."""
    text = str(chat_id)
    if text.startswith("-100"):
        return f"https://t.me/c/{text[4:]}/{int(message_id)}"
    return relay_texts.MESSAGE_NUMBER.format(id=int(message_id))


def relay_cleaned_tag(count: int) -> str:
    """"3 сообщения переписки" among the cleaned cards of a withdrawal notice."""
    one, few, many = relay_texts.CLEANED_MESSAGES
    return plural_ru(count, one, few, many).format(n=count)


def relay_failed_tag(place: tuple[int, int] | None) -> str:
    where = message_place(*place) if place is not None else "?"
    return relay_texts.FAILED_MESSAGE.format(where=where)


def render_duplicate_note(kind: str, lead_id: Any = None, question_id: Any = None) -> str:
    """What a second copy of a card is edited to when it can no longer be deleted."""
    if kind == "lead_card":
        return t.DUPLICATE_NOTE.format(tag=lead_tag(lead_id))
    if kind == "question":
        return t.DUPLICATE_NOTE.format(tag=question_tag(question_id))
    return t.DUPLICATE_NOTE_NOTICE


@dataclass
class Cleanup:
    """How the redactions a notice reports on ended: tags of cards cleaned, not cleaned, and
    of cards that may have a second copy in the chat nobody could find."""

    cleaned: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    maybe_twice: list[str] = field(default_factory=list)


def _tags(lead_ids: Iterable[Any], budget: int = 3000, tag_of: Callable[[Any], str] | None = None) -> str:
    out, used = [], 0
    ids = list(lead_ids)
    for n, lead_id in enumerate(ids):
        tag = (tag_of or lead_tag)(lead_id)
        if used + len(tag) + 2 > budget:
            out.append(f"… (+{len(ids) - n})")
            break
        out.append(tag)
        used += len(tag) + 2
    return ", ".join(out)


def _cleanup_lines(cleaned_template: str, cleanup: Cleanup) -> str:
    lines = ""
    if cleanup.cleaned:
        lines += cleaned_template.format(tags=_tags(cleanup.cleaned, 1200, str))
    if cleanup.failed:
        lines += t.NOTICE_NOT_CLEANED.format(tags=_tags(cleanup.failed, 1200, str))
    if cleanup.maybe_twice:
        lines += t.NOTICE_MAYBE_TWICE.format(tags=_tags(cleanup.maybe_twice, 1200, str))
    return lines


def render_notice(payload: Mapping[str, Any], lead_id: int | None = None, cleanup: Cleanup | None = None) -> str:
    """Service notices; `lead_id` is the outbox row's lead (used by "updated"). A withdrawal or
    retention notice says what `cleanup` found (without it: every listed card as cleaned)."""
    kind = payload.get("notice")
    if kind in agency_notices.KINDS:
        return agency_notices.render_agency_notice(payload)
    lead_ids = payload.get("lead_ids") or []
    if not isinstance(lead_ids, list | tuple):
        lead_ids = [lead_ids]
    if kind in ("withdrawn", "retention"):
        if cleanup is None:
            questions = payload.get("questions") or []
            messages = payload.get("messages")
            cleanup = Cleanup(cleaned=[lead_tag(i) for i in lead_ids]
                              + [question_tag(i) for i in questions if isinstance(i, int)]
                              + ([relay_cleaned_tag(messages)] if isinstance(messages, int) and messages > 0 else []))
        if kind == "withdrawn":
            return t.NOTICE_WITHDRAWN.format(cards=_cleanup_lines(t.NOTICE_WITHDRAWN_CARDS, cleanup))
        return t.NOTICE_RETENTION.format(cards=_cleanup_lines(t.NOTICE_RETENTION_CARDS, cleanup))
    if kind == "updated":
        target = lead_id if lead_id is not None else payload.get("lead_id")
        if target is None:
            return t.NOTICE_UPDATED_NO_LEAD
        return t.NOTICE_UPDATED.format(tag=lead_tag(target))
    ids = lead_ids or ([lead_id] if lead_id is not None else [])
    return t.NOTICE_GENERIC_LEADS.format(tags=_tags(ids)) if ids else t.NOTICE_GENERIC
