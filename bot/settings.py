"""Application settings, read once from the environment or `.env`."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_API_URL = "https://api.telegram.org"
TOKEN_RE = re.compile(r"[0-9]{1,20}:[A-Za-z0-9_-]{10,}")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    bot_token: SecretStr = Field(description="Bot token from @BotFather")
    agency_chat_id: int = Field(description="Agency chat id (a group id is negative)")
    db_path: Path = Field(Path("data/bot.sqlite3"), description="SQLite database file")
    telegram_api_url: str = Field(DEFAULT_API_URL, description="Bot API base URL")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    # Operator identity (152-FZ consent and /privacy); defaults from the agency's policy.
    operator_name: str = "самозанятая Горбачева Дарья Андреевна"
    operator_email: str = "info@kosmmos.ru"
    policy_url: str = "https://kosmmos.ru"
    timezone: str = "Europe/Moscow"
    faq_path: Path | None = Field(None, description="FAQ corpus YAML; default: the packaged faq/corpus.yaml")

    # Brief drafts and retention.
    brief_reminder_after: int = Field(3600, ge=0, description="seconds; 0 disables")
    draft_ttl: int = Field(7 * 24 * 3600, ge=60, description="seconds")
    lead_retention_days: int = Field(365, ge=0, description="0 keeps forever")
    masked_card: bool = False

    # Polling and workers.
    tasks_concurrency_limit: int = Field(64, ge=1)
    flood_limit: int = Field(20, ge=1, description="updates per flood window per user")
    flood_window: float = Field(10.0, gt=0)
    agency_send_interval: float = Field(3.0, ge=0, description="seconds between sends to the agency chat")

    # The relay: how long after a manager's message the prospect's messages go to the agency chat.
    conversation_window: int = Field(48 * 3600, ge=0, description="seconds; 0 turns relaying to the agency off")

    # The agency chat's own work: news to subscribers, teaching the FAQ.
    broadcast_rate: float = Field(25.0, gt=0, le=30, description="broadcast messages per second")
    faq_train_timeout: float = Field(300.0, gt=0, description="seconds a retraining of the FAQ may take")

    @field_validator("telegram_api_url")
    @classmethod
    def _url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value

    @field_validator("bot_token")
    @classmethod
    def _token(cls, value: SecretStr) -> SecretStr:
        # Digits, a colon, then letters, digits, "_" or "-": anything else (a space, "/", "?")
        # would change the request URL the token is part of.
        token = value.get_secret_value().strip()
        if not TOKEN_RE.fullmatch(token):
            raise ValueError("does not look like a token from @BotFather (123456:ABC..., no spaces or /)")
        return SecretStr(token)

    @field_validator("agency_chat_id", mode="before")
    @classmethod
    def _chat_id(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip().lstrip("-").isdigit():
            raise ValueError("must be a number, e.g. -1001234567890")
        return value


SETTING_HINTS = {
    "bot_token": "set BOT_TOKEN to the token @BotFather gave you (123456:ABC...)",
    "agency_chat_id": "set AGENCY_CHAT_ID to the agency chat id, e.g. -1001234567890",
    "db_path": "set DB_PATH to a writable file path",
    "telegram_api_url": "set TELEGRAM_API_URL to a Bot API base URL, e.g. https://api.telegram.org",
    "log_level": "set LOG_LEVEL to DEBUG, INFO, WARNING or ERROR",
}


def describe_error(exc: Exception) -> str:
    """One line naming the bad setting(s); never echoes the values (the token is secret)."""
    from pydantic import ValidationError

    if not isinstance(exc, ValidationError):
        return f"configuration error: {type(exc).__name__}"
    parts = []
    for err in exc.errors():
        field = str(err["loc"][0]) if err["loc"] else "?"
        msg = str(err["msg"]).removeprefix("Value error, ")
        reason = "is missing" if err["type"] == "missing" else f"is invalid ({msg})"
        hint = SETTING_HINTS.get(field, f"fix {field.upper()} in the environment or .env")
        parts.append(f"{field.upper()} {reason}: {hint}")
    return "configuration error: " + "; ".join(parts)
