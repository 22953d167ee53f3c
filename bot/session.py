"""The Bot API session: aiogram's aiohttp session, hardened and tuned.

- No secret in an exception: every error it raises has the token (raw or URL-quoted, and any
  `/bot<token>/` URL segment) replaced by `<token>`, and quotes no reply body (a reply can
  hold a lead card's text): aiohttp's errors name the request URL, which carries the token.
- One bad update never stops polling: getUpdates replies are decoded update by update; one
  that aiogram's models reject (a malformed update, or a type this aiogram does not know) is
  skipped, counted and logged by its update_id and error class only, and the next getUpdates
  confirms its offset, so Telegram does not send it again.
- Response[T] models kept alive: aiogram validates every reply with
  `Response[method.__returning__]`; pydantic caches such parametrized generic classes only
  weakly, so after a garbage collection the next reply rebuilds the model (10–200 ms of schema
  generation, measured here). A strong reference per returning type makes each a one-time cost.
- JSON bodies: the Bot API accepts application/json for every method but file uploads (which
  keep aiogram's multipart form). aiohttp's url-encoded form quotes each byte of the text in
  Python: ~0.2 ms of CPU per FAQ answer, and a body three times larger.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncGenerator
from http import HTTPStatus
from typing import Any, TypeVar, cast

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.exceptions import ClientDecodeError, TelegramNetworkError
from aiogram.methods import GetUpdates
from aiogram.methods.base import Response, TelegramMethod
from aiogram.types import Update
from aiogram.types.update import UpdateTypeLookupError
from aiohttp import ClientError, ClientTimeout
from pydantic import ValidationError

from bot.logs import redact, token_secrets

T = TypeVar("T")

log = logging.getLogger(__name__)

JSON_HEADERS = {"Content-Type": "application/json"}

_PINNED: dict[Any, type] = {}


def pin_response_type(returning: Any) -> None:
    if returning not in _PINNED:
        _PINNED[returning] = Response[returning]


def _validation_summary(exc: Exception) -> str:
    """Where and why pydantic rejected a value, without the value."""
    if not isinstance(exc, ValidationError):
        return type(exc).__name__
    errors = exc.errors(include_url=False, include_input=False, include_context=False)
    where = [f"{'.'.join(str(p) for p in err['loc'])}: {err['type']}" for err in errors[:3]]
    more = f" (+{len(errors) - 3} more)" if len(errors) > 3 else ""
    return "; ".join(where) + more


class WithheldContent(Exception):
    """Stands in for a reply body (or the error that quoted it) in a ClientDecodeError."""


class RedactedClientError(ClientError):
    """An aiohttp error of a file download, with the token taken out of its message."""


class PinnedAiohttpSession(AiohttpSession):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.skipped_updates = 0  # updates rejected by aiogram's models since start
        self.last_skipped_id: int | None = None  # highest update_id skipped (to confirm)

    # --- replies ---------------------------------------------------------------------
    def check_response(
        self, bot: Bot, method: TelegramMethod[Any], status_code: int, content: str
    ) -> Response[Any]:
        pin_response_type(method.__returning__)
        if isinstance(method, GetUpdates) and HTTPStatus.OK <= status_code <= HTTPStatus.IM_USED:
            updates = self._decode_updates(bot, content)
            if updates is not None:
                return Response[list[Update]].model_construct(ok=True, result=updates)
        try:
            return super().check_response(bot, method, status_code, content)
        except ClientDecodeError as exc:
            # aiogram's error quotes the whole reply (a sent card's text, a batch of updates)
            # and pydantic's error the rejected values: keep only what and where.
            summary = WithheldContent(f"{type(exc.original).__name__}: {_validation_summary(exc.original)}")
            raise ClientDecodeError(
                f"{exc.message} of {method.__api_method__} (HTTP {status_code})", summary,
                f"<{len(content)} characters withheld>",
            ) from None

    def _decode_updates(self, bot: Bot, content: str) -> list[Update] | None:
        """The updates of a getUpdates reply, skipping those aiogram cannot read; None when the
        reply is not a successful getUpdates reply (aiogram's check then says why)."""
        try:
            data = self.json_loads(content)
        except ValueError:
            return None
        if not isinstance(data, dict) or data.get("ok") is not True or not isinstance(data.get("result"), list):
            return None
        updates = []
        for raw in data["result"]:
            update_id = raw.get("update_id") if isinstance(raw, dict) else None
            try:
                update = Update.model_validate(raw, context={"bot": bot})
                update.event_type  # noqa: B018 - raises for a type this aiogram does not know
            except (ValidationError, UpdateTypeLookupError) as exc:
                self._skip(update_id, exc)
                continue
            updates.append(update)
        return updates

    def _skip(self, update_id: Any, exc: Exception) -> None:
        self.skipped_updates += 1
        if isinstance(update_id, int) and not isinstance(update_id, bool):
            if self.last_skipped_id is None or update_id > self.last_skipped_id:
                self.last_skipped_id = update_id
            shown = str(update_id)
        else:
            shown = "without a valid update_id"
        reason = "unknown update type" if isinstance(exc, UpdateTypeLookupError) else type(exc).__name__
        log.warning("update %s skipped: %s (%d skipped since start)", shown, reason, self.skipped_updates)

    # --- requests --------------------------------------------------------------------
    def build_json_body(self, bot: Bot, method: TelegramMethod[Any]) -> bytes | None:
        """The same fields as aiogram's form (None and "" left out), or None if files go up.

        prepare_value() drops None at every level anyway; leaving it out of the dump spares
        its Python recursion a dozen empty fields per keyboard button."""
        files: dict[str, Any] = {}
        payload: dict[str, Any] = {}
        for key, value in method.model_dump(warnings=False, exclude_none=True).items():
            value = self.prepare_value(value, bot=bot, files=files, _dumps_json=False)
            if value is None or value == "":
                continue
            payload[key] = value
        if files:
            return None
        return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()

    async def make_request(self, bot: Bot, method: TelegramMethod[T], timeout: int | None = None) -> T:
        if isinstance(method, GetUpdates) and self.last_skipped_id is not None:
            # Confirm skipped updates, even the last of a batch (aiogram confirms only those
            # it was given): Telegram then stops sending them.
            if method.offset is None or 0 <= method.offset <= self.last_skipped_id:
                method.offset = self.last_skipped_id + 1
        body = self.build_json_body(bot, method)
        data: Any = body
        headers: dict[str, str] | None = JSON_HEADERS
        if body is None:
            data, headers = self.build_form_data(bot=bot, method=method), None
        session = await self.create_session()
        url = self.api.api_url(token=bot.token, method=method.__api_method__)
        try:
            async with session.post(
                url, data=data, headers=headers,
                timeout=ClientTimeout(total=self.timeout if timeout is None else timeout),
            ) as resp:
                raw_result = await resp.text()
        except TimeoutError:
            raise TelegramNetworkError(method=method, message="Request timeout error") from None
        except ClientError as e:
            message = redact(f"{type(e).__name__}: {e}", token_secrets(bot.token))
            raise TelegramNetworkError(method=method, message=message) from None
        response = self.check_response(bot=bot, method=method, status_code=resp.status, content=raw_result)
        return cast(Any, response.result)

    async def stream_content(
        self, url: str, headers: dict[str, Any] | None = None, timeout: int = 30,
        chunk_size: int = 65536, raise_for_status: bool = True,
    ) -> AsyncGenerator[bytes, None]:
        """aiogram's file download, its errors without the token (the URL carries it)."""
        try:
            async for chunk in super().stream_content(url, headers, timeout, chunk_size, raise_for_status):
                yield chunk
        except TimeoutError:
            raise TimeoutError("file download timed out") from None
        except ClientError as e:
            raise RedactedClientError(redact(f"{type(e).__name__}: {e}")) from None
