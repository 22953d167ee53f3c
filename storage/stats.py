"""Anonymous counters: no user ids, ever.

Events are counted by hour (`stats_events`): funnel steps and FAQ topics, each with the
deep-link source where it applies. Counts are aggregated in memory and written in batches by
flush() (maintenance tick, shutdown, before any read): no write per question. Questions the FAQ
could not answer are kept as scrubbed text with a count (`faq_unanswered`).
"""

from __future__ import annotations

import re
import time
from collections import Counter
from dataclasses import dataclass

from storage.clock import utc_iso
from storage.db import Database

UNANSWERED_MAX_CHARS = 300
UNANSWERED_PENDING_MAX = 10_000  # distinct questions held in memory before an early flush
EVENTS_PENDING_MAX = 10_000  # distinct (hour, kind, source, detail) held before an early flush
SOURCE_MAX_CHARS = 64
DIRECT = "direct"  # the source of a /start without a deep-link payload
# Unanswered questions are kept as text for the agency, so scrub what identifies a person.
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"\+?\d[\d\s()\-]{5,}\d")
_HANDLE = re.compile(r"(?<!\w)@\w{3,}")


def scrub(text: str) -> str:
    """Masks e-mails, phone-like digit runs and @usernames in a free-text question."""
    text = _EMAIL.sub("[e-mail]", text)
    text = _PHONE.sub("[телефон]", text)
    return _HANDLE.sub("[@ник]", text)


def hour_of(ts: float | None = None) -> int:
    return int((time.time() if ts is None else ts) // 3600)


@dataclass(frozen=True, slots=True)
class Unanswered:
    id: int
    text: str
    count: int
    last_seen: str


class StatsRepo:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._events: Counter[tuple[int, str, str, str]] = Counter()
        self._unanswered: dict[str, list] = {}  # norm -> [text, count, first_seen, last_seen]

    # --- recording ---------------------------------------------------------------------
    async def event(self, kind: str, source: str = "", detail: str = "", at: float | None = None) -> None:
        """Counts one event of `kind` this hour (or the hour of `at`)."""
        self._events[(hour_of(at), kind, source[:SOURCE_MAX_CHARS], detail)] += 1
        if len(self._events) >= EVENTS_PENDING_MAX:
            await self.flush()

    def faq_hit(self, entry_id: str) -> None:
        """An FAQ answer shown (from a question or the topics menu): the 'topic' counter."""
        self._events[(hour_of(), "topic", "", entry_id)] += 1

    async def unanswered(self, norm: str, text: str) -> None:
        """Counts a question the FAQ could not answer: text and count only, scrubbed."""
        now = utc_iso()
        norm, text = scrub(norm)[:UNANSWERED_MAX_CHARS], scrub(text)[:UNANSWERED_MAX_CHARS]
        item = self._unanswered.get(norm)
        if item is not None:
            item[1] += 1
            item[3] = now
            return
        self._unanswered[norm] = [text, 1, now, now]
        if len(self._unanswered) >= UNANSWERED_PENDING_MAX:
            await self.flush()

    async def flush(self) -> None:
        if not self._events and not self._unanswered:
            return
        events, self._events = self._events, Counter()
        unanswered, self._unanswered = self._unanswered, {}
        async with self.db.transaction() as conn:
            if events:
                await conn.executemany(
                    "INSERT INTO stats_events (hour, kind, source, detail, count) VALUES (?, ?, ?, ?, ?) "
                    "ON CONFLICT(hour, kind, source, detail) DO UPDATE SET count = count + excluded.count",
                    [(*key, n) for key, n in events.items()],
                )
            if unanswered:
                await conn.executemany(
                    "INSERT INTO faq_unanswered (norm, text, count, first_seen, last_seen) "
                    "VALUES (?, ?, ?, ?, ?) ON CONFLICT(norm) DO UPDATE SET "
                    "count = count + excluded.count, last_seen = excluded.last_seen",
                    [(norm, *item) for norm, item in unanswered.items()],
                )

    # --- reading -----------------------------------------------------------------------
    async def counts(self, kind: str, since_hour: int = 0, by: str = "source") -> dict[str, int]:
        """Events of `kind` since `since_hour`, summed by `by` ('source' or 'detail'), most first."""
        await self.flush()
        column = "detail" if by == "detail" else "source"
        rows = await self.db.fetchall(
            f"SELECT {column} AS k, SUM(count) AS n FROM stats_events WHERE kind = ? AND hour >= ? "
            f"GROUP BY {column} ORDER BY n DESC, k",
            (kind, since_hour),
        )
        return {r["k"]: r["n"] for r in rows}

    async def funnel(self, kinds: tuple[str, ...], since_hour: int = 0) -> dict[tuple[str, str], int]:
        """(kind, source) -> count of the funnel's event kinds since `since_hour`."""
        await self.flush()
        marks = ", ".join("?" * len(kinds))
        rows = await self.db.fetchall(
            f"SELECT kind, source, SUM(count) AS n FROM stats_events WHERE hour >= ? AND kind IN ({marks}) "
            "GROUP BY kind, source",
            (since_hour, *kinds),
        )
        return {(r["kind"], r["source"]): r["n"] for r in rows}

    async def start_sources(self) -> dict[str, int]:
        """All-time /start counts by source."""
        return await self.counts("start")

    async def faq_hits(self) -> dict[str, int]:
        """All-time FAQ answers by entry id."""
        return await self.counts("topic", by="detail")

    async def top_unanswered(self, limit: int = 20) -> list[tuple[str, int]]:
        return [(u.text, u.count) for u in await self.unanswered_since("", limit)]

    async def unanswered_since(self, since_iso: str, limit: int = 10) -> list[Unanswered]:
        """The most frequent unanswered questions last seen at or after `since_iso`."""
        await self.flush()
        rows = await self.db.fetchall(
            "SELECT rowid AS id, text, count, last_seen FROM faq_unanswered WHERE last_seen >= ? "
            "ORDER BY count DESC, last_seen DESC, rowid DESC LIMIT ?",
            (since_iso, limit),
        )
        return [Unanswered(r["id"], r["text"], r["count"], r["last_seen"]) for r in rows]

    async def unanswered_by_id(self, row_id: int) -> Unanswered | None:
        await self.flush()
        row = await self.db.fetchone(
            "SELECT rowid AS id, text, count, last_seen FROM faq_unanswered WHERE rowid = ?", (row_id,)
        )
        return Unanswered(row["id"], row["text"], row["count"], row["last_seen"]) if row else None

    async def forget_unanswered_text(self, text: str) -> None:
        """A question card's question was taught: the same words leave the unanswered list."""
        await self.flush()
        await self.db.execute("DELETE FROM faq_unanswered WHERE text = ?", (scrub(text)[:UNANSWERED_MAX_CHARS],))

    async def forget_unanswered(self, row_id: int) -> None:
        """The question was taught to the FAQ: it is no longer unanswered."""
        await self.flush()
        await self.db.execute("DELETE FROM faq_unanswered WHERE rowid = ?", (row_id,))
