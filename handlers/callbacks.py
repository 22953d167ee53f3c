"""Typed callback data. Prefixes are short ASCII; payloads never carry personal data.

Every field is constrained to the type and range its handler can take: forged data (an id
beyond SQLite's int64, a page of -1, text with odd characters) fails to unpack, so its filter
does not match and the press falls through to the stale-button answer; no handler sees it."""

from typing import Annotated, Literal

from aiogram.filters.callback_data import CallbackData
from pydantic import Field

Flag = Annotated[int, Field(ge=0, le=1)]  # 1 yes, 0 no
RowId = Annotated[int, Field(ge=1, le=2**63 - 1)]  # an SQLite row id (int64)
Page = Annotated[int, Field(ge=0, le=10_000)]
Token = Annotated[str, Field(max_length=40, pattern=r"^[A-Za-z0-9_.-]*$")]  # codes, ids, versions, nonces
Nonce = Annotated[str, Field(pattern=r"^[0-9a-f]{8}$")]  # token_hex(4) of an offer on screen


class MenuCb(CallbackData, prefix="m"):
    action: Token  # faq | brief | privacy | home | call (a call-back request)


class ConsentCb(CallbackData, prefix="c"):
    ok: Flag  # 1 agree, 0 decline
    v: Token  # consent text version shown
    k: Literal["b", "c"] = "b"  # what the consent is for: b (the brief) | c (a call-back request)


class StepCb(CallbackData, prefix="b"):
    d: Token  # draft id (8 hex) — buttons of an older draft are stale
    s: Token  # step the button belongs to
    a: Token  # back | skip | t (toggle) | done | p (pick) | tg (Telegram instead) | keep | ef (e-mail fix)
    v: Token = ""  # option code


class SummaryCb(CallbackData, prefix="s"):
    d: Token
    a: Token  # edit | submit | cancel | drop (cancel confirmed) | keep (cancel declined)
    f: Token = ""  # step to edit
    r: Token = ""  # revision: a hash of the answers the summary showed


class MarketingCb(CallbackData, prefix="mk"):
    ok: Flag
    n: Token = ""  # nonce of the offer shown (FSM data "mk"): any other press is stale


class FaqCb(CallbackData, prefix="f"):
    id: Token  # corpus entry slug (validated ^[a-z0-9_]{1,40}$ by the loader)


class FaqPageCb(CallbackData, prefix="fp"):
    p: Page


class AskCb(CallbackData, prefix="q"):
    a: Token  # ask | send | no
    n: Token  # nonce of the pending question


class WithdrawCb(CallbackData, prefix="wd"):
    ok: Flag  # 1 confirm, 0 keep
    n: Token  # nonce of the confirmation prompt shown (checked against withdraw_prompts)


class FixCb(CallbackData, prefix="fx"):
    f: Token  # name | phone | email
    lead: RowId  # lead id (the user's own; checked on press)


class RelayCb(CallbackData, prefix="rl"):
    a: Literal["end"]  # end the conversation with a manager
    c: RowId  # the conversation (conversations.id; checked on press)


class MediaCb(CallbackData, prefix="rm"):
    a: Literal["send", "no"]  # pass the file offered to a manager | do not
    n: Nonce  # nonce of the offer (FSM data): any other press is stale
class LeadCb(CallbackData, prefix="ld"):
    a: Literal["add", "new", "held"]  # add details to the lead | a new brief | add the text held back
    lead: RowId  # the user's lead (checked on press)


# --- the agency chat (pressed by the agency's staff; checked against the agency chat id) ----


class LeadStatusCb(CallbackData, prefix="ls"):
    lead: RowId  # the lead whose card it is
    s: Literal["work", "kp", "success", "refused", "spam"]  # the work status to set


class LeadOpenCb(CallbackData, prefix="lo"):
    lead: RowId  # post this lead's card again


class LeadsPageCb(CallbackData, prefix="lp"):
    s: Literal["all", "new", "work", "kp", "success", "refused", "spam"]  # the list's status filter
    before: RowId  # leads older than this one


class TeachCb(CallbackData, prefix="tf"):
    src: Literal["q", "u"]  # a question card (outbox row id) | an unanswered question (its row id)
    id: RowId
    a: Literal["s", "p", "e", "o", "x"]  # show the topics | page | pick entry | off-topic | cancel
    v: Page = 0  # the page, or the entry's index in the corpus


class TaughtCb(CallbackData, prefix="tu"):
    a: Literal["p", "d"]  # page | delete
    v: Annotated[int, Field(ge=0, le=2**63 - 1)]  # the page, or the phrasing's id
    p: Page = 0  # the page shown (kept after a delete)


class BroadcastCb(CallbackData, prefix="bc"):
    a: Literal["go", "no", "stop"]
    id: RowId
