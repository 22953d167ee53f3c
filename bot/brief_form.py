"""The brief as data: its questions, their order and limits, and how stored answers read back.

Eight numbered questions; the contact question asks for a phone or an e-mail only when the
prospect chose that channel (Telegram needs nothing more). The links have no question of their
own: they are picked out of the business description and can be edited on the summary.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.texts import brief as texts

QUESTIONS = ("business", "networks", "goals", "budget", "start_when", "name", "contact", "comment")
TOTAL = len(QUESTIONS)
# Every step of the form (an FSM state each): the questions, the contact's value steps and the
# edit-only links step.
STEPS = ("business", "links", "networks", "goals", "budget", "start_when", "name", "contact", "phone",
         "email", "comment")
FIELDS = tuple(texts.FIELD_LABELS)  # lead fields, in display order
MULTI: dict[str, Mapping[str, str]] = {"networks": texts.NETWORKS, "goals": texts.GOALS}
PICK: dict[str, Mapping[str, str]] = {
    "budget": texts.BUDGETS, "start_when": texts.START_WHEN, "contact": texts.CONTACT_CHOICES,
}
# Catalogues of stored codes -> labels, by lead field.
CATALOGUES: dict[str, Mapping[str, str]] = {
    "networks": texts.NETWORKS, "goals": texts.GOALS, "budget": texts.BUDGETS,
    "start_when": texts.START_WHEN, "contact_method": texts.CONTACT_METHODS,
}
OTHER_FIELD = {"networks": "networks_other", "goals": "goals_other"}
OTHER = "other"
OPTIONAL = frozenset({"links", "comment"})
# Steps where a text read as a question can still be kept as the answer, with one tap.
HOLDABLE = frozenset({"business", "name", "comment"})
EDITABLE = ("business", "links", "networks", "goals", "budget", "start_when", "name", "contact", "comment")
CONTACT_VALUE = {"phone": "phone", "email": "email"}  # channel -> the step asking its value
LIMITS = {"business": 1000, "links": 1000, "name": 100, "phone": 200, "email": 254, "comment": 1000,
          "addition": 1000, "other": 200}
MIN_BUSINESS = 3
CONTACT_PHONE_DIGITS = 10  # a number among words at the channel or e-mail question


def field_of(step: str) -> str:
    """The lead field a step fills."""
    return "contact_method" if step == "contact" else step


def number(step: str) -> int | None:
    """The question number shown in the header (None for the edit-only links step)."""
    if step in ("phone", "email"):
        step = "contact"
    return QUESTIONS.index(step) + 1 if step in QUESTIONS else None


def next_step(step: str, data: Mapping[str, Any]) -> str | None:
    """The step after `step` in a fresh pass through the form; None: the summary."""
    if step == "contact":
        return CONTACT_VALUE.get(str(data.get("contact_method")), "comment")
    if step in ("phone", "email"):
        return "comment"
    if step not in QUESTIONS:
        return None
    index = QUESTIONS.index(step)
    return QUESTIONS[index + 1] if index + 1 < len(QUESTIONS) else None


def prev_step(step: str) -> str | None:
    if step in ("phone", "email"):
        return "contact"
    if step == "links":
        return "business"
    index = QUESTIONS.index(step) if step in QUESTIONS else 0
    return QUESTIONS[index - 1] if index > 0 else None


def choice_text(field: str, codes: Any, other: Any = None) -> str:
    """Codes of a multi-choice field as labels; "other" with its text as "Другое: …"."""
    catalogue = CATALOGUES.get(field, {})
    items = codes if isinstance(codes, list | tuple) else [codes]
    order = {code: n for n, code in enumerate(catalogue)}  # as on the buttons, "Другое" last
    items = sorted(items, key=lambda code: order.get(str(code), len(order)))
    labels = []
    for code in items:
        if code in (None, ""):
            continue
        if code == OTHER and other:
            labels.append(texts.OTHER_LABEL.format(text=other))
        else:
            labels.append(catalogue.get(str(code), str(code)))
    return ", ".join(labels)


def lead_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    """The answers of a draft as lead columns."""
    fields = {name: data.get(name) for name in FIELDS}
    for name in OTHER_FIELD.values():
        fields[name] = data.get(name)
    return fields
