"""Texts the live FAQ model reads a given way, picked from the labelled eval splits, so the
conversation tests do not depend on how one phrasing scores today."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml
from aiogram.methods import TelegramMethod

from tests import fakes
from tests.conftest import Harness

EVAL = Path(__file__).parent / "faq_eval"


@cache
def _questions() -> tuple[str, ...]:
    out: list[str] = []
    for path in sorted(EVAL.glob("*.yaml")):
        items = yaml.safe_load(path.read_text(encoding="utf-8")) or []
        if isinstance(items, dict):
            items = items.get("questions") or []
        out += [str(item["q"]) for item in items if isinstance(item, dict) and isinstance(item.get("q"), str)]
    return tuple(out)


def text_read_as(h: Harness, status: str, *, min_len: int = 8, max_len: int = 80, skip: int = 0) -> str:
    """The `skip`-th eval question the bot's FAQ reads with `status` (answer | unsure | none)."""
    found = 0
    for q in _questions():
        if min_len <= len(q) <= max_len and "@" not in q and not any(ch.isdigit() for ch in q):
            if h.services.faq.search(q).status == status:
                if found == skip:
                    return q
                found += 1
    raise AssertionError(f"no eval question is read as {status!r}")


async def paste(h: Harness, parts: list[str]) -> list[list[TelegramMethod[Any]]]:
    """Parts of one long paste, as Telegram sends them: the same second."""
    date = fakes.next_date()
    return [await h.send(part, date=date) for part in parts]
