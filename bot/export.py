"""/export: every lead (or those of the last N days) as a CSV file for Russian Excel.

UTF-8 with a BOM and ";" between cells (what Excel with Russian regional settings opens
correctly on a double click), CRLF line ends. Columns: number, created, status, source, the
Telegram profile, every field of the brief (empty ones too), consent version, marketing
consent, and when the personal data was erased. An erased lead keeps its number, times, status
and source, and no personal data. A cell that Excel would read as a formula (starting with
= + - @, a tab or a carriage return) gets a leading apostrophe.

Rows are read in pages and written as they come: memory stays flat with the number of leads.
"""

from __future__ import annotations

import asyncio
import csv
import json
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.cards import field_text
from bot.texts import agency as t
from bot.texts import brief as brief_texts
from bot.texts import cards as card_texts
from storage.leads import LIST_FIELDS, PERSONAL_FIELDS
from storage.work import WorkRepo

FORMULA_START = "=+-@\t\r"
TIME_FORMAT = "%d.%m.%Y %H:%M"


def safe(value: Any) -> Any:
    """A cell Excel will not run: text starting like a formula gets a leading apostrophe."""
    if isinstance(value, str) and value[:1] in FORMULA_START and value:
        return "'" + value
    return value


def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def local(iso: str | None, tz: tzinfo) -> str:
    if not iso:
        return ""
    try:
        dt = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    return (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).astimezone(tz).strftime(TIME_FORMAT)


def plain_status(code: str) -> str:
    label = card_texts.STATUS_LABELS.get(code, code)
    return label.split(" ", 1)[1] if " " in label else label


def header() -> list[str]:
    return [*t.EXPORT_COLUMNS.values(), *brief_texts.FIELD_LABELS.values(), brief_texts.ADDITIONS_LABEL,
            *t.EXPORT_TAIL_COLUMNS.values()]


def row_cells(row: dict[str, Any], tz: tzinfo) -> list[Any]:
    """One lead as cells (not yet made safe), in header() order."""
    active = row["status"] == "active"
    fields: dict[str, Any] = {}
    if active:
        for key in PERSONAL_FIELDS:
            value = row.get(key)
            if key in LIST_FIELDS and isinstance(value, str) and value:
                try:
                    value = json.loads(value)
                except ValueError:
                    pass
            fields[key] = value
    status = row.get("work_status") or "new"
    cells: list[Any] = [
        row["id"], local(row["created_at"], tz), plain_status(status),
        (row.get("work_by_name") or "") if status != "new" else "", local(row.get("work_at"), tz),
        row["source"] or card_texts.CARD_SOURCE_DIRECT, t.EXPORT_KINDS.get(str(row.get("kind")), ""),
        fields.get("tg_name") or "", fields.get("username") or "", row["user_id"] if active else "",
    ]
    cells += [field_text(key, fields.get(key), fields) if active else "" for key in brief_texts.FIELD_LABELS]
    additions = fields.get("additions")
    cells.append(" | ".join(str(a) for a in additions if a) if isinstance(additions, list) else "")
    cells += [
        row.get("consent_version") or "",
        t.EXPORT_YES if row.get("subscribed") else t.EXPORT_NO,
        "" if active else t.EXPORT_ERASED.format(when=local(row.get("erased_at"), tz)),
    ]
    return cells


async def write_csv(work: WorkRepo, path: Path, since_iso: str, tz_name: str) -> int:
    """Writes the leads created at or after `since_iso` to `path`; returns how many."""
    tz = _zone(tz_name)
    n = 0
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f, delimiter=";", lineterminator="\r\n")
        writer.writerow(header())

        def write(batch: list[dict[str, Any]]) -> None:
            writer.writerows([safe(c) for c in row_cells(row, tz)] for row in batch)

        async for batch in work.export_rows(since_iso):
            await asyncio.to_thread(write, batch)  # the event loop keeps answering meanwhile
            n += len(batch)
    return n
