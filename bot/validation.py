"""Validation of brief answers with well-kept libraries: phonenumbers, email-validator, pydantic."""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from pydantic import HttpUrl, TypeAdapter, ValidationError

MAX_LINKS = 5
_url = TypeAdapter(HttpUrl)
_SPLIT = re.compile(r"[\s,;]+")
_HANDLE = re.compile(r"@([A-Za-z0-9_]{4,32})")
_NAME = re.compile(r"^[^\W\d_]+(?:[ .'’-]+[^\W\d_]+)*\.?$")


@dataclass(frozen=True)
class Invalid(Exception):
    code: str
    detail: str = ""


def normalize_phone(raw: str, region: str = "RU") -> str:
    """Any common Russian form (8..., +7..., 9XX without prefix, with spaces, dashes or
    brackets) or an international number with +; returns E.164."""
    text = raw.strip()
    digits = re.sub(r"\D", "", text)
    if not text.startswith("+") and len(digits) == 10 and digits.startswith("9"):
        text = "+7" + digits
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise Invalid("phone") from exc
    if not phonenumbers.is_valid_number(number):
        raise Invalid("phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_contact_phone(phone_number: str) -> str:
    """A number from a shared Telegram contact: digits with the country code, often no "+"."""
    return normalize_phone(phone_number if phone_number.startswith("+") else "+" + phone_number)


def normalize_email(raw: str) -> str:
    try:
        result = validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise Invalid("email") from exc
    return result.normalized


def normalize_links(raw: str) -> list[str]:
    """Website or social links: URLs, bare domains (vk.com/brand) or @telegram handles."""
    tokens = [t.strip(".,") for t in _SPLIT.split(raw.strip()) if t.strip(".,")]
    if not tokens:
        raise Invalid("links", "")
    if len(tokens) > MAX_LINKS:
        raise Invalid("too_many_links")
    links = []
    for token in tokens:
        handle = _HANDLE.fullmatch(token)
        if handle:
            links.append(f"https://t.me/{handle.group(1)}")
            continue
        candidate = token if re.match(r"^https?://", token, re.I) else f"https://{token}"
        try:
            url = _url.validate_python(candidate)
        except ValidationError as exc:
            raise Invalid("links", token[:60]) from exc
        host = url.host or ""
        if "." not in host or len(token) > 300:
            raise Invalid("links", token[:60])
        links.append(str(url))
    return links


def normalize_name(raw: str, limit: int) -> str:
    name = " ".join(raw.split())
    if len(name) > limit:
        raise Invalid("too_long")
    if not _NAME.match(name):
        raise Invalid("name")
    return name
