"""Typed callback data. Prefixes are short ASCII; payloads never carry personal data."""

from typing import Literal

from aiogram.filters.callback_data import CallbackData
from pydantic import Field


class MenuCb(CallbackData, prefix="m"):
    action: str  # faq | brief | privacy | home | call (a call-back request)


class ConsentCb(CallbackData, prefix="c"):
    ok: int  # 1 agree, 0 decline
    v: str  # consent text version shown
    k: str = "b"  # what the consent is for: b (the brief) | c (a call-back request)


class StepCb(CallbackData, prefix="b"):
    d: str  # draft id (8 hex) — buttons of an older draft are stale
    s: str  # step the button belongs to
    a: str  # back | skip | t (toggle) | done | p (pick) | tg (Telegram instead) | keep | ef (e-mail fix)
    v: str = ""  # option code


class SummaryCb(CallbackData, prefix="s"):
    d: str
    a: str  # edit | submit | cancel | drop (cancel confirmed) | keep (cancel declined)
    f: str = ""  # step to edit
    r: str = ""  # revision: a hash of the answers the summary showed


class MarketingCb(CallbackData, prefix="mk"):
    ok: int
    n: str = ""  # nonce of the offer shown (FSM data "mk"): any other press is stale


class FaqCb(CallbackData, prefix="f"):
    id: str  # corpus entry slug (validated ^[a-z0-9_]{1,40}$ by the loader)


class FaqPageCb(CallbackData, prefix="fp"):
    p: int


class AskCb(CallbackData, prefix="q"):
    a: str  # ask | send | no
    n: str  # nonce of the pending question


class WithdrawCb(CallbackData, prefix="wd"):
    ok: int  # 1 confirm, 0 keep
    n: str  # nonce of the confirmation prompt shown (checked against withdraw_prompts)


class FixCb(CallbackData, prefix="fx"):
    f: str  # name | phone | email
    lead: int  # lead id (the user's own; checked on press)


class LeadCb(CallbackData, prefix="ld"):
    a: Literal["add", "new", "held"]  # add details to the lead | a new brief | add the text held back
    lead: int = Field(ge=1, le=2**63 - 1)  # the user's lead (checked on press)
