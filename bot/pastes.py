"""Telegram splits a long paste into several messages sent within a second. The bot notes
the last text each prospect sent, so the next part can be joined to it instead of being
taken as a new question or a new answer.

Kept in memory on purpose: a part is joinable for one second only, so nothing here is worth
a database write, and a restart in between loses nothing a prospect would miss.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

WINDOW = 1.0  # seconds between two parts of one paste (message dates are whole seconds)
MAX_USERS = 10_000


@dataclass
class Part:
    """What the previous message became: `where` it went (an FAQ question, or the brief step
    whose answer it was), the FSM state after it, the text so far and the bot's reply."""

    date: float
    where: str
    state: str | None
    text: str
    reply_id: int | None = None


class Pastes:
    def __init__(self, window: float = WINDOW, max_users: int = MAX_USERS) -> None:
        self.window = window
        self.max_users = max_users
        self._last: OrderedDict[int, Part] = OrderedDict()

    def previous(self, user_id: int, date: float, state: str | None) -> Part | None:
        """The part this message continues: sent at most `window` seconds before it, with the
        conversation still where that part left it."""
        part = self._last.get(user_id)
        if part is None or part.state != state or not 0 <= date - part.date <= self.window:
            return None
        return part

    def remember(self, user_id: int, part: Part) -> None:
        self._last[user_id] = part
        self._last.move_to_end(user_id)
        while len(self._last) > self.max_users:
            self._last.popitem(last=False)
