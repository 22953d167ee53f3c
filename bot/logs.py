"""Logging of the bot process: no personal data and no token, at any level.

- Third-party loggers (aiosqlite prints every SQL parameter at DEBUG, aiohttp, asyncio,
  aiogram ...) stay at INFO or above whatever LOG_LEVEL says; DEBUG applies to this
  project's own loggers only.
- Exceptions are written as their type and stack frames: their messages may quote user input
  (pydantic quotes rejected values, aiogram quotes whole replies). Where aiogram passes an
  exception as a log argument ("Failed to fetch updates - %s: %s"), only its class is kept,
  plus the text of a network error (the session's, already without the token) or of a
  getUpdates error (Telegram's description: no user input in it).
- asyncio's and warnings' records keep their first line only (the rest quotes objects: a task's
  exception, aiogram's "Detected unknown update type" dumps the update).
- Every line has the token taken out, raw or URL-quoted, as a last guard.
"""

from __future__ import annotations

import logging
import re
import sys
import traceback
from collections.abc import Iterable
from types import TracebackType
from typing import TextIO
from urllib.parse import quote, quote_plus

REDACTED = "<token>"
# The token's place in every Bot API URL: {base}/bot{token}/{method}, {base}/file/bot{token}/{path}.
_URL_TOKEN = re.compile(r"(/bot)[^/\s'\"<>]+(?=/)")
FIRST_PARTY = ("bot", "handlers", "storage", "faq", "__main__")
FIRST_LINE_ONLY = ("asyncio", "py.warnings")
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` without any `/bot<token>/` URL segment and without the given secrets, whether raw
    or URL-quoted."""
    text = _URL_TOKEN.sub(r"\1" + REDACTED, text)
    for secret in secrets:
        if not secret:
            continue
        for form in {secret, quote(secret, safe=""), quote(secret), quote_plus(secret)}:
            text = text.replace(form, REDACTED)
    return text


def token_secrets(token: str) -> tuple[str, ...]:
    """The token and its secret part (after the colon): either one must never be shown."""
    secret = token.partition(":")[2]
    return (token, secret) if len(secret) >= 8 else (token,)


def _type_name(exc: BaseException) -> str:
    cls = type(exc)
    return cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"


def safe_exception_text(exc: BaseException) -> str:
    """What may be logged of an exception: its class; for a network error, or any error of
    getUpdates (Telegram's "Conflict: terminated by other getUpdates request" ...), its text."""
    # Not imported at module level: `python -m bot` reports a bad environment before aiogram loads.
    from aiogram.exceptions import TelegramAPIError, TelegramNetworkError
    from aiogram.methods import GetUpdates

    if isinstance(exc, TelegramNetworkError) or (
        isinstance(exc, TelegramAPIError) and isinstance(exc.method, GetUpdates)
    ):
        return f"{exc.label} - {exc.message}"
    return f"{_type_name(exc)} (message withheld)"


class _SafeArg:
    """A log argument standing for an exception: `%s` of it gives only its safe text."""

    def __init__(self, exc: BaseException) -> None:
        self.text = safe_exception_text(exc)

    def __str__(self) -> str:
        return self.text

    __repr__ = __str__


class SafeRecords(logging.Filter):
    """Takes exception messages and object dumps out of records before they are formatted."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and any(isinstance(a, BaseException) for a in args):
            record.args = tuple(_SafeArg(a) if isinstance(a, BaseException) else a for a in args)
        if record.name.startswith(FIRST_LINE_ONLY):
            record.msg, record.args = record.getMessage().split("\n", 1)[0].strip(), None
        return True


class SafeFormatter(logging.Formatter):
    def __init__(self, fmt: str = FORMAT, secrets: Iterable[str] = ()) -> None:
        super().__init__(fmt)
        self.secrets = tuple(s for s in secrets if s)

    def formatException(  # noqa: N802 - logging's name
        self, ei: tuple[type[BaseException], BaseException, TracebackType | None] | tuple[None, None, None]
    ) -> str:
        exc = ei[1]
        return format_exception(exc) if exc is not None else ""

    def formatStack(self, stack_info: str) -> str:  # noqa: N802 - logging's name
        return stack_info

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record), self.secrets)


def format_exception(exc: BaseException) -> str:
    """A traceback with each exception of the chain named by type, its message withheld."""
    chain: list[BaseException] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append(current)
        if current.__cause__ is not None:
            current = current.__cause__
        else:
            current = None if current.__suppress_context__ else current.__context__
    parts = []
    for index, item in enumerate(reversed(chain)):
        if index:
            parts.append("\nwhich led to:\n")
        parts.append("Traceback (most recent call last):\n")
        parts.extend(traceback.format_tb(item.__traceback__))
        parts.append(f"{_type_name(item)} (message withheld)")
    return "".join(parts)


class StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time (so a replaced stderr is followed)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:
        pass


def setup_logging(level: str, secrets: Iterable[str] = ()) -> None:
    """One stderr handler; LOG_LEVEL for this project's loggers, INFO or above for the rest."""
    handler = StderrHandler()
    handler.setFormatter(SafeFormatter(secrets=secrets))
    handler.addFilter(SafeRecords())
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, StderrHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    numeric = logging.getLevelName(level)
    root.setLevel(max(numeric, logging.INFO))
    for name in FIRST_PARTY:
        logging.getLogger(name).setLevel(numeric)
    # aiogram logs every handled update at INFO ("Update id=... is handled"): no personal data,
    # but costly and nothing an operator needs unless debugging.
    logging.getLogger("aiogram.event").setLevel(logging.INFO if numeric <= logging.DEBUG else logging.WARNING)
    logging.captureWarnings(True)
