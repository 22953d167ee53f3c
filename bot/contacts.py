"""Reading contacts and links out of what a prospect types, with the exact problem when it fails.

phonenumbers finds a number inside a sentence ("звоните 8 916 123-45-67 после шести");
email-validator checks an address; rapidfuzz compares its domain with the common mail domains
to offer a correction for a probable typo (gmial.con -> gmail.com). Every failure is an
`Invalid` whose code names the problem, so the bot can say what is actually wrong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from rapidfuzz.distance import DamerauLevenshtein

from bot.validation import MAX_LINKS, Invalid, normalize_links, normalize_phone

# Mail domains people in Russia use most: a typo in one of these is worth a question.
COMMON_MAIL_DOMAINS = (
    "gmail.com", "googlemail.com", "mail.ru", "inbox.ru", "list.ru", "bk.ru", "internet.ru",
    "yandex.ru", "ya.ru", "yandex.com", "yandex.by", "yandex.kz", "yandex.ua", "rambler.ru",
    "icloud.com", "me.com", "mac.com", "outlook.com", "hotmail.com", "live.com", "yahoo.com",
    "mail.com", "proton.me", "protonmail.com", "gmx.com", "gmx.de", "ukr.net", "tut.by",
)
PHONE_DIGITS_MIN = 10
RU_DIGITS = 11  # a Russian number written with +7 or 8
PHONE_DIGITS_MAX = 15
NAME_MAX_WORDS = 4

_DIGIT = re.compile(r"\d")
_EMAIL_TOKEN = re.compile(r"\S*@\S*")
_SPACED_AT = re.compile(r"\S\s+@|@\s+\S")
_EMAIL_ALLOWED = re.compile(r"[\w.!#$%&'*+/=?^`{|}~@-]", re.UNICODE)
_NAME = re.compile(r"^[^\W\d_]+(?:[ .'’-]+[^\W\d_]+)*\.?$")
_BARE_DOMAIN = r"(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,24}"  # mail.ru, vk.com
_DOMAIN = re.compile(rf"(?i)^{_BARE_DOMAIN}$")
_LINK = re.compile(
    r"(?i)^(?:https?://\S+|www\.\S+|@[a-z0-9_]{4,32}"
    rf"|{_BARE_DOMAIN}(?:[/?#]\S*)?"
    r"|(?:[а-яё0-9](?:[а-яё0-9-]*[а-яё0-9])?\.)+(?:рф|рус)(?:[/?#]\S*)?)$"
)


def display_phone(phone: str) -> str:
    """A stored number (E.164) as people write it: "+7 916 123-45-67"."""
    try:
        number = phonenumbers.parse(phone, "RU")
    except phonenumbers.NumberParseException:
        return phone
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def digits_in(text: str) -> int:
    return len(_DIGIT.findall(text))


# --- phone ------------------------------------------------------------------------------


def parse_phone(text: str) -> str:
    """A phone number in E.164 from a text that may hold other words; Invalid with the code
    no_digits | too_few | too_many | invalid otherwise."""
    try:
        return normalize_phone(text)
    except Invalid:
        pass
    for match in phonenumbers.PhoneNumberMatcher(text, "RU"):
        return phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
    count = digits_in(text)
    if count == 0:
        raise Invalid("no_digits")
    digits = "".join(_DIGIT.findall(text))
    if text.lstrip().startswith("+7") or (digits[0] in "78" and not text.lstrip().startswith("+")):
        expected = RU_DIGITS  # +7 / 8 and ten digits
        if count != expected:
            raise Invalid("too_few" if count < expected else "too_many", str(count))
    if count < PHONE_DIGITS_MIN:
        raise Invalid("too_few", str(count))
    if count > PHONE_DIGITS_MAX:
        raise Invalid("too_many", str(count))
    if not text.lstrip().startswith("+") and count > 11:
        raise Invalid("no_plus")
    raise Invalid("invalid")


# --- e-mail -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Email:
    address: str
    suggestion: str | None = None  # the same address with a common domain, if one is close


def _words(text: str) -> list[str]:
    """The text's words with the punctuation around them stripped."""
    return [t for t in (w.strip(".,;:!?()«»\"'") for w in text.split()) if t]


def names_a_domain(text: str) -> bool:
    """A word of the text is a bare domain ("mail.ru"): an address typed without its "@"."""
    return any(_DOMAIN.match(word) for word in _words(text))


def email_candidate(text: str) -> str | None:
    """The first word of the text that has an "@" (punctuation around it stripped)."""
    match = _EMAIL_TOKEN.search(text)
    return match.group(0).strip(".,!?:;\"'«»") if match else None


def suggest_domain(domain: str) -> str | None:
    """A common mail domain one or two typos away from `domain` (None when it is one of them or
    none is that close); of equally close ones, the most common (COMMON_MAIL_DOMAINS order)."""
    domain = domain.lower()
    if domain in COMMON_MAIL_DOMAINS:
        return None
    limit = 1 if len(domain) < 7 else 2
    close = [(DamerauLevenshtein.distance(domain, known), rank, known)
             for rank, known in enumerate(COMMON_MAIL_DOMAINS)]
    best = min(close)
    return best[2] if best[0] <= limit else None


def parse_email(text: str) -> Email:
    """An e-mail address found in the text, normalised, with a domain correction to offer.
    Invalid codes: no_at | no_local | no_domain | no_dot | spaces | bad_chars | invalid."""
    candidate = email_candidate(text)
    if candidate is None:
        raise Invalid("no_at")
    local, _, domain = candidate.rpartition("@")
    if (not local or not domain) and _SPACED_AT.search(text):
        raise Invalid("spaces")  # "anna @ mail.ru"
    if not local:
        raise Invalid("no_local")
    if not domain:
        raise Invalid("no_domain")
    if "." not in domain:
        raise Invalid("no_dot")
    bad = sorted({ch for ch in candidate if not _EMAIL_ALLOWED.match(ch)})
    if bad:
        raise Invalid("bad_chars", " ".join(bad))
    try:
        address = validate_email(candidate, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise Invalid("invalid") from exc
    local, _, domain = address.rpartition("@")
    suggestion = suggest_domain(domain)
    return Email(address, f"{local}@{suggestion}" if suggestion else None)


# --- links and names --------------------------------------------------------------------


def find_links(text: str) -> list[str]:
    """Links in free text (site addresses, vk.com/..., @channel), normalised, at most MAX_LINKS;
    words around them are ignored."""
    found = [t for t in _words(text) if _LINK.match(t)]
    links: list[str] = []
    for token in found:
        try:
            for link in normalize_links(token):
                if link not in links:
                    links.append(link)
        except Invalid:
            continue
        if len(links) >= MAX_LINKS:
            break
    return links


def parse_links(text: str) -> list[str]:
    """The links of a message; Invalid("no_links") when it has none."""
    links = find_links(text)
    if not links:
        raise Invalid("no_links")
    return links


def parse_name(text: str, limit: int) -> str:
    """How to address the prospect. Invalid codes: symbols | digits | too_long | sentence."""
    name = " ".join(text.split()).strip(" .,!")
    if not any(ch.isalpha() for ch in name):
        raise Invalid("symbols")
    if digits_in(name):
        raise Invalid("digits")
    if len(name) > limit:
        raise Invalid("too_long")
    if len(name.split()) > NAME_MAX_WORDS:
        raise Invalid("sentence")
    if not _NAME.match(name):
        raise Invalid("symbols")
    return name
