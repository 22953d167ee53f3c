"""The bot's wall clock: what reminders, draft expiry and retention count time by.

Passed to the services that schedule by it, so a caller can run the bot at another time:
the sandbox moves it on (`:clock +2h`) to show a reminder without waiting an hour.
"""

from __future__ import annotations

import time


class Clock:
    def __init__(self, offset: float = 0.0) -> None:
        self.offset = offset

    def time(self) -> float:
        """Seconds since the epoch, like time.time(), shifted by the offset."""
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds
