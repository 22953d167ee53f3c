"""Typed callback data. Prefixes are short ASCII; payloads never carry personal data."""

from typing import Annotated, Literal

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


# --- the agency chat (pressed by the agency's staff; checked against the agency chat id) ----


class LeadStatusCb(CallbackData, prefix="ls"):
    lead: Annotated[int, Field(ge=1, le=2**63 - 1)]  # the lead whose card it is
    s: Literal["work", "kp", "success", "refused", "spam"]  # the work status to set


class LeadOpenCb(CallbackData, prefix="lo"):
    lead: Annotated[int, Field(ge=1, le=2**63 - 1)]  # post this lead's card again


class LeadsPageCb(CallbackData, prefix="lp"):
    s: Literal["all", "new", "work", "kp", "success", "refused", "spam"]  # the list's status filter
    before: Annotated[int, Field(ge=1, le=2**63 - 1)]  # leads older than this one


class TeachCb(CallbackData, prefix="tf"):
    src: Literal["q", "u"]  # a question card (outbox row id) | an unanswered question (its row id)
    id: Annotated[int, Field(ge=1, le=2**63 - 1)]
    a: Literal["s", "p", "e", "o", "x"]  # show the topics | page | pick entry | off-topic | cancel
    v: Annotated[int, Field(ge=0, le=10_000)] = 0  # the page, or the entry's index in the corpus


class TaughtCb(CallbackData, prefix="tu"):
    a: Literal["p", "d"]  # page | delete
    v: Annotated[int, Field(ge=0, le=2**63 - 1)]  # the page, or the phrasing's id
    p: Annotated[int, Field(ge=0, le=10_000)] = 0  # the page shown (kept after a delete)


class BroadcastCb(CallbackData, prefix="bc"):
    a: Literal["go", "no", "stop"]
    id: Annotated[int, Field(ge=1, le=2**63 - 1)]
