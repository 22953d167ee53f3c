"""Notices for the agency chat about its own work: how teaching the FAQ ended, and the report
of a broadcast. Rendered by the outbox worker (bot/cards.render_notice hands these kinds here)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiogram.utils.text_decorations import html_decoration

from bot.texts import agency as t
from bot.texts import cards as card_texts

KINDS = ("faq_trained", "broadcast")
TEXT_CHARS = 300

quote = html_decoration.quote


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _what(payload: Mapping[str, Any]) -> str:
    question = payload.get("question_id")
    if isinstance(question, int):
        return card_texts.QUESTION_NUMBERED_TAG.format(id=question)
    return f"«{quote(str(payload.get('text') or '')[:TEXT_CHARS])}»"


def _target(payload: Mapping[str, Any]) -> str:
    target = str(payload.get("target") or "")
    return t.TEACH_OFFTOPIC if target == "~" else f"«{quote(target)}»"


def _reason(payload: Mapping[str, Any]) -> str:
    other = payload.get("conflict_with")
    if payload.get("reason") == "conflict" and isinstance(other, str):
        if other == "~":
            return t.NOTICE_CONFLICT_OFFTOPIC
        if other.startswith("~"):
            return t.NOTICE_CONFLICT_INTENT
        return t.NOTICE_CONFLICT_ENTRY.format(title=quote(other))
    return t.NOTICE_REASONS.get(str(payload.get("reason")), t.NOTICE_REASONS["failed"])


def render_agency_notice(payload: Mapping[str, Any]) -> str:
    kind = payload.get("notice")
    if kind == "broadcast":
        how = t.BROADCAST_HOW.get(str(payload.get("how")), t.BROADCAST_HOW["done"])
        return t.BROADCAST_REPORT.format(
            id=_int(payload.get("id")), how=how, **{k: _int(payload.get(k))
                                                   for k in ("total", "sent", "blocked", "failed", "skipped")},
        )
    total, count = _int(payload.get("total")), _int(payload.get("count"))
    if not payload.get("ok"):
        if count == 0:
            return t.NOTICE_UNTEACH_FAILED.format(reason=_reason(payload))
        return t.NOTICE_TEACH_FAILED.format(what=_what(payload), target=_target(payload), reason=_reason(payload))
    if count == 0:
        return t.NOTICE_UNTAUGHT.format(total=total)
    template = t.NOTICE_TAUGHT if count == 1 else t.NOTICE_TAUGHT_MANY
    return template.format(what=_what(payload), target=_target(payload), total=total, count=count)
