"""/stats in the agency chat: leads by period and source, the funnel with conversion per step
and per source, FAQ topics asked (by their titles) and the questions the FAQ could not answer.

Everything is read from counters and leads with a handful of grouped queries (the event
counters are hourly: 100,000 events are a few thousand rows at most).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.cards import MAX_TEXT_LENGTH, cut, parsed_length, quote
from bot.plural import days_ru
from bot.texts import agency as t
from storage.stats import DIRECT, StatsRepo, Unanswered
from storage.work import WorkRepo

PRE_LEAD = ("start", "faq", "brief", "consent")
STEPS = (*PRE_LEAD, "submitted", "in_work", "success")
SOURCES_SHOWN = 8
TOPICS_SHOWN = 10
UNANSWERED_SHOWN = 10
UNANSWERED_CHARS = 150
SOURCE_CHARS = 32


@dataclass
class Report:
    text: str
    unanswered: list[Unanswered]  # in the order they are numbered in the text


def _pct(part: int, whole: int) -> str:
    """Conversion from one step to the next; "—" when it is not a share (nobody on the step
    before, or more people on this one: they reached it without the step before in the period)."""
    return f"{round(100 * part / whole)}%" if whole and part <= whole else "—"


def _source_name(source: str | None) -> str:
    return t.STATS_DIRECT if source in (None, "", DIRECT) else quote(cut(source, SOURCE_CHARS))


def _midnight(tz_name: str) -> datetime:
    try:
        tz: Any = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        tz = UTC
    now = datetime.now(tz)
    return now.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)


def _iso(dt: datetime) -> str:
    return dt.isoformat(timespec="seconds")


async def build(stats: StatsRepo, work: WorkRepo, titles: dict[str, str], days: int, tz_name: str) -> Report:
    now = datetime.now(UTC)
    since = now - timedelta(days=days)
    since_iso, since_hour = _iso(since), int(since.timestamp() // 3600)

    # leads by period
    period, today, week, month, total = await work.created_since(
        since_iso, _iso(_midnight(tz_name)), _iso(now - timedelta(days=7)), _iso(now - timedelta(days=30)), "",
    )
    lines = [t.STATS_TITLE.format(period=days_ru(days)), ""]
    lines.append(t.STATS_LEADS.format(period=period, today=today, week=week, month=month, total=total))

    # funnel: counters before the lead, the leads after
    events = await stats.funnel(PRE_LEAD, since_hour)
    leads = await work.counts_since(since_iso)
    per_source: dict[str, dict[str, int]] = {}
    for (kind, source), n in events.items():
        per_source.setdefault(source or DIRECT, {})[kind] = n
    for step, counts in (("submitted", leads.created), ("in_work", leads.in_work), ("success", leads.success)):
        for lead_source, n in counts.items():
            row = per_source.setdefault(lead_source or DIRECT, {})
            row[step] = row.get(step, 0) + n
    totals = {step: sum(s.get(step, 0) for s in per_source.values()) for step in STEPS}

    ranked = sorted(per_source.items(), key=lambda kv: (-kv[1].get("start", 0), -kv[1].get("submitted", 0), kv[0]))
    lines += ["", t.STATS_SOURCES]
    if ranked:
        for source, s in ranked[:SOURCES_SHOWN]:
            lines.append(t.STATS_SOURCE_LINE.format(source=_source_name(source), starts=s.get("start", 0),
                                                    leads=s.get("submitted", 0)))
        if len(ranked) > SOURCES_SHOWN:
            lines.append(t.STATS_MORE.format(n=len(ranked) - SOURCES_SHOWN))
    else:
        lines.append(t.STATS_EMPTY)

    lines += ["", t.STATS_FUNNEL]
    previous = None
    for step in STEPS:
        n = totals[step]
        conv = f" ({_pct(n, previous)})" if previous is not None else ""
        lines.append(f"{t.STATS_STEPS[step]}: {n}{conv}")
        previous = n
    if ranked:
        lines += ["", t.STATS_FUNNEL_BY_SOURCE]
        for source, s in ranked[:SOURCES_SHOWN]:
            chain = " → ".join(str(s.get(step, 0)) for step in STEPS)
            conv = _pct(s.get("submitted", 0), s.get("start", 0))
            lines.append(f"{_source_name(source)}: {chain} (заявка/старт {conv})")

    # FAQ topics by title
    topics = await stats.counts("topic", since_hour, by="detail")
    lines += ["", t.STATS_FAQ]
    if topics:
        for entry_id, n in list(topics.items())[:TOPICS_SHOWN]:
            lines.append(f"{n} — {quote(titles.get(entry_id, entry_id))}")
        if len(topics) > TOPICS_SHOWN:
            lines.append(t.STATS_MORE.format(n=len(topics) - TOPICS_SHOWN))
    else:
        lines.append(t.STATS_EMPTY)

    # unanswered questions, numbered for their buttons
    unanswered = await stats.unanswered_since(since_iso, UNANSWERED_SHOWN)
    head = "\n".join([*lines, "", t.STATS_UNANSWERED])

    def render(chars: int) -> str:
        rows = [f"{i}. {quote(cut(u.text, chars))} — {u.count}" for i, u in enumerate(unanswered, 1)]
        return "\n".join([head, *(rows or [t.STATS_EMPTY])])

    chars = UNANSWERED_CHARS
    text = render(chars)
    while parsed_length(text) > MAX_TEXT_LENGTH and chars > 10:
        chars //= 2
        text = render(chars)
    return Report(text[:MAX_TEXT_LENGTH], unanswered)
