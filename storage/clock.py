"""Time helpers: UTC ISO timestamps in the DB, monotonic-free wall clock for scheduling."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def utc_iso(dt: datetime | None = None) -> str:
    return (dt or utcnow()).isoformat(timespec="seconds")
