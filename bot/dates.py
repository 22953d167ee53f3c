"""Dates as a person reads them, in the agency's time zone: "5 марта 2025, 14:07"."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

log = logging.getLogger(__name__)

MONTHS = ("января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября",
          "октября", "ноября", "декабря")


def zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        log.warning("unknown TIMEZONE setting, showing UTC")
        return UTC


def parse(value: str | datetime) -> datetime | None:
    if isinstance(value, datetime):
        dt = value
    else:
        try:
            dt = datetime.fromisoformat(str(value))
        except (TypeError, ValueError):
            return None
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)


def human_date(value: str | datetime, tz_name: str, *, with_time: bool = False) -> str:
    """"5 марта 2025" ("5 марта 2025, 14:07" with the time) in the time zone `tz_name`; the
    stored text itself if it is not a timestamp."""
    dt = parse(value)
    if dt is None:
        return str(value)
    local = dt.astimezone(zone(tz_name))
    day = f"{local.day} {MONTHS[local.month - 1]} {local.year}"
    return f"{day}, {local:%H:%M}" if with_time else day


def human_datetime(value: str | datetime, tz_name: str) -> str:
    return human_date(value, tz_name, with_time=True)
