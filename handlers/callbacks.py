"""Typed callback data. Prefixes are short ASCII; payloads never carry personal data."""

from typing import Literal

from aiogram.filters.callback_data import CallbackData
from pydantic import Field


class MenuCb(CallbackData, prefix="m"):
    action: str  # faq | brief | privacy | home


class ConsentCb(CallbackData, prefix="c"):
    ok: int  # 1 agree, 0 decline
    v: str  # consent text version shown


class StepCb(CallbackData, prefix="b"):
    d: str  # draft id (8 hex) — buttons of an older draft are stale
    s: str  # step the button belongs to
    a: str  # back | skip | t (toggle) | done | p (pick)
    v: str = ""  # option code


class SummaryCb(CallbackData, prefix="s"):
    d: str
    a: str  # edit | submit | cancel
    f: str = ""  # field to edit


class MarketingCb(CallbackData, prefix="mk"):
    ok: int


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


class RelayCb(CallbackData, prefix="rl"):
    a: Literal["end"]  # end the conversation with a manager
    c: int = Field(ge=1, le=2**63 - 1)  # the conversation (conversations.id; checked on press)


class MediaCb(CallbackData, prefix="rm"):
    a: Literal["send", "no"]  # pass the file offered to a manager | do not
    n: str = Field(pattern=r"^[0-9a-f]{8}$")  # nonce of the offer (FSM data): any other press is stale
