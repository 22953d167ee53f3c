"""`python -m bot sandbox`: the real bot in a terminal, without Telegram.

The real dispatcher, handlers, SQLite storage and outbox worker run against the in-process
Bot API stand-in (bot/standin.py) on 127.0.0.1. You type as a prospect; what the bot sends
is printed as plain text with its buttons numbered; typing a number presses a button.

Input syntax (interactive and --script alike):
    any text              a message from the prospect (commands too: /start, /brief ...)
    3                     press button [3] of the latest keyboard shown
    \\3                    send the text "3" instead of pressing a button
    agency: /stats        a message in the agency chat from an agency member
    agency: reply 2 text  a Reply to the bot's message #2 in the agency chat
    :photo [caption]  :voice  :sticker  :document [name]    media from the prospect
    :user N [@nick|-]     switch to prospect N (with a username, another one, or none)
    :clock +2h            move the bot's clock on (s, m, h, d): reminders, draft expiry, retention
    :help, :quit          this help, leave; any other :word is an error

The sandbox needs no settings: every Settings field is passed explicitly, `.env` and the
environment are never read. Interactive runs keep data/sandbox.sqlite3 (not DB_PATH); a script
plays in a database of its own unless --db is given.

Modules: core (the session and its inputs), render (the transcript), cli (modes and options).
"""

from bot.sandbox.cli import DEFAULT_DB, HELP, add_arguments, main, play, script_lines, set_aside
from bot.sandbox.core import (
    AGENCY_CHAT,
    AGENCY_CHAT_ID,
    MEMBER_ID,
    TOKEN,
    USER_ID,
    USER_PHONE,
    Sandbox,
    parse_duration,
    prospect,
    sandbox_settings,
)
from bot.sandbox.render import DOC_PREVIEW_LINES, TIME_PLACEHOLDER, Renderer, Style, html_to_text, mask_times

__all__ = [
    "AGENCY_CHAT", "AGENCY_CHAT_ID", "DEFAULT_DB", "DOC_PREVIEW_LINES", "HELP", "MEMBER_ID", "TIME_PLACEHOLDER",
    "TOKEN", "USER_ID", "USER_PHONE", "Renderer", "Sandbox", "Style", "add_arguments", "html_to_text", "main",
    "mask_times", "parse_duration", "play", "prospect", "sandbox_settings", "script_lines", "set_aside",
]
