"""The consent documents as shown, with the version and hash that go to the journal."""

from __future__ import annotations

from aiogram.utils.text_decorations import html_decoration as hd

from bot.plural import days_ru
from bot.settings import Settings
from bot.texts import consent as texts
from storage.consent import ConsentText


def pd_consent(settings: Settings) -> ConsentText:
    if settings.lead_retention_days:
        retention = texts.RETENTION_DAYS.format(days=days_ru(settings.lead_retention_days))
    else:
        retention = texts.RETENTION_FOREVER
    text = texts.PD_TEXT.format(
        operator=hd.quote(settings.operator_name),
        email=hd.quote(settings.operator_email),
        policy_url=hd.quote(settings.policy_url),
        retention=retention,
    )
    return ConsentText(texts.PD_VERSION, text)


def marketing_consent(settings: Settings) -> ConsentText:
    return ConsentText(
        texts.MARKETING_VERSION, texts.MARKETING_TEXT.format(operator=hd.quote(settings.operator_name))
    )
