"""The funnel's steps before a lead exists (/start, a question to the FAQ, the brief started,
consent), counted anonymously.

Each step is an hourly counter with the deep-link source (storage.stats): no user id is stored,
ever. So that a step counts people rather than taps, a user is counted at most once a day per
step: the ids seen today are kept in this process's memory only (never written, gone at
midnight UTC by the bot's clock and on restart, so a restart may count someone twice that
day). The later steps (lead submitted, in work, success) are read from the leads themselves.
"""

from __future__ import annotations

from aiogram.fsm.context import FSMContext

from bot.clock import Clock
from storage.stats import DIRECT, StatsRepo

STEPS = ("start", "faq", "brief", "consent")
SEEN_MAX = 200_000  # ids remembered per step and day; beyond it every event counts


class Funnel:
    def __init__(self, stats: StatsRepo, clock: Clock) -> None:
        self.stats = stats
        self.clock = clock
        self._day = -1
        self._seen: dict[str, set[int]] = {}

    def _first_today(self, step: str, user_id: int) -> bool:
        day = int(self.clock.time() // 86400)
        if day != self._day:
            self._day, self._seen = day, {}
        seen = self._seen.setdefault(step, set())
        if user_id in seen:
            return False
        if len(seen) < SEEN_MAX:
            seen.add(user_id)
        return True

    async def record(self, step: str, user_id: int, source: str | None = None,
                     state: FSMContext | None = None) -> bool:
        """Counts `step` for this user if not yet counted today; the source is `source`, or the
        deep-link source the conversation keeps (`state`), or a direct start. True if counted."""
        if step not in STEPS:
            raise ValueError(f"unknown funnel step: {step}")
        if not self._first_today(step, user_id):
            return False
        if source is None and state is not None:
            stored = (await state.get_data()).get("source")
            source = stored if isinstance(stored, str) else None
        await self.stats.event(step, source or DIRECT, at=self.clock.time())
        return True
