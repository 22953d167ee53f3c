"""Anonymous counters: no user ids, ever."""

from __future__ import annotations

import re
from collections import Counter

from storage.clock import utc_iso
from storage.db import Database

UNANSWERED_MAX_CHARS = 300
UNANSWERED_PENDING_MAX = 10_000  # distinct questions held in memory before an early flush
# Unanswered questions are kept as text for the agency, so scrub what identifies a person.
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"\+?\d[\d\s()\-]{5,}\d")
_HANDLE = re.compile(r"(?<!\w)@\w{3,}")


def scrub(text: str) -> str:
    """Masks e-mails, phone-like digit runs and @usernames in a free-text question."""
    text = _EMAIL.sub("[e-mail]", text)
    text = _PHONE.sub("[телефон]", text)
    return _HANDLE.sub("[@ник]", text)


class StatsRepo:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._faq_hits: Counter[str] = Counter()
        self._unanswered: dict[str, list] = {}  # norm -> [text, count, first_seen, last_seen]

    async def count_start(self, source: str) -> None:
        await self.db.execute(
            "INSERT INTO start_sources (source, count) VALUES (?, 1) "
            "ON CONFLICT(source) DO UPDATE SET count = count + 1",
            (source,),
        )

    async def start_sources(self) -> dict[str, int]:
        rows = await self.db.fetchall("SELECT source, count FROM start_sources ORDER BY count DESC")
        return {r["source"]: r["count"] for r in rows}

    def faq_hit(self, entry_id: str) -> None:
        """Aggregated in memory and flushed in batches: no write per question."""
        self._faq_hits[entry_id] += 1

    async def flush(self) -> None:
        if not self._faq_hits and not self._unanswered:
            return
        hits, self._faq_hits = self._faq_hits, Counter()
        unanswered, self._unanswered = self._unanswered, {}
        async with self.db.transaction() as conn:
            if hits:
                await conn.executemany(
                    "INSERT INTO faq_hits (entry_id, count) VALUES (?, ?) "
                    "ON CONFLICT(entry_id) DO UPDATE SET count = count + excluded.count",
                    list(hits.items()),
                )
            if unanswered:
                await conn.executemany(
                    "INSERT INTO faq_unanswered (norm, text, count, first_seen, last_seen) "
                    "VALUES (?, ?, ?, ?, ?) ON CONFLICT(norm) DO UPDATE SET "
                    "count = count + excluded.count, last_seen = excluded.last_seen",
                    [(norm, *item) for norm, item in unanswered.items()],
                )

    async def faq_hits(self) -> dict[str, int]:
        await self.flush()
        rows = await self.db.fetchall("SELECT entry_id, count FROM faq_hits ORDER BY count DESC")
        return {r["entry_id"]: r["count"] for r in rows}

    async def unanswered(self, norm: str, text: str) -> None:
        """Counts a question the FAQ could not answer: text and count only, scrubbed.

        Aggregated in memory like FAQ hits and written by flush() (maintenance tick, shutdown,
        before any read): no write per question."""
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

    async def top_unanswered(self, limit: int = 20) -> list[tuple[str, int]]:
        await self.flush()
        rows = await self.db.fetchall(
            "SELECT text, count FROM faq_unanswered ORDER BY count DESC, last_seen DESC LIMIT ?",
            (limit,),
        )
        return [(r["text"], r["count"]) for r in rows]
