"""Agency-chat texts: lead card, redacted card, question, notices."""

from __future__ import annotations

import html
import re
from typing import Any

from bot.cards import (
    MAX_TEXT_LENGTH,
    mask_email,
    mask_phone,
    render_lead_card,
    render_notice,
    render_question,
    render_redacted_card,
)
from bot.texts.brief import FIELD_LABELS
from storage.consent import ConsentText
from storage.leads import Lead
from tests.conftest import Harness, make_settings

ALLOWED_TAG = re.compile(r"</?(b|a)( href=\"tg://user\?id=\d+\")?>")

FIELDS: dict[str, Any] = dict(
    username="ivan_p", tg_name="Иван Петров", business="Кофейня у дома", links="https://coffee.example, vk.com/coffee",
    networks=["vk", "tg", "ig"], goals=["sales", "reach"], budget="30_70", start_when="month",
    name="Иван", phone="+7 999 123-45-67", email="ivan@example.com", contact_method="phone",
    comment="Звоните после 18:00",
)


def make_lead(lead_id: int = 42, *, source: str | None = "promo_vk", created_at: str = "2025-03-05T11:07:00+00:00",
              **overrides: Any) -> Lead:
    return Lead(
        id=lead_id, user_id=1001, status="active", created_at=created_at, source=source,
        consent_event_id=1, card_chat_id=None, card_message_id=None, delivered_at=None,
        fields={**FIELDS, **overrides},
    )


def shown(text: str) -> str:
    """Independent of bot.cards: what Telegram displays (tags stripped, entities unescaped)."""
    return html.unescape(re.sub(r"<[^>]+>", "", text))


def tg_len(text: str) -> int:
    """Telegram counts UTF-16 code units."""
    return len(shown(text).encode("utf-16-le")) // 2


def assert_safe_html(text: str) -> None:
    """Every '<' opens one of our own tags; every '&' starts an entity."""
    for m in re.finditer(r"<", text):
        assert ALLOWED_TAG.match(text, m.start()), text[m.start(): m.start() + 30]
    for m in re.finditer(r"&", text):
        assert re.match(r"&(lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);", text[m.start():]), text[m.start(): m.start() + 10]


def test_card_has_hashtag_every_field_source_profile_and_local_time(tmp_path) -> None:  # noqa: ANN001
    text = render_lead_card(make_lead(), make_settings(tmp_path))
    assert text.splitlines()[0] == "#lead_42"
    for label in FIELD_LABELS.values():
        assert f"<b>{html.escape(label, quote=False)}:</b>" in text, label
    # codes -> labels
    assert "ВКонтакте, Telegram, Instagram*" in text
    assert "Продажи, Узнаваемость и охват" in text
    assert "30 000 – 70 000 ₽" in text and "В течение месяца" in text and "Звонок по телефону" in text
    # free text and contacts as given
    for value in ("Кофейня у дома", "https://coffee.example, vk.com/coffee", "+7 999 123-45-67",
                  "ivan@example.com", "Звоните после 18:00"):
        assert value in text
    assert '<a href="tg://user?id=1001">Иван Петров</a> (@ivan_p)' in text
    assert "promo_vk" in text
    assert "05.03.2025 14:07 (Europe/Moscow)" in text  # 11:07 UTC
    assert_safe_html(text)


def test_card_direct_source_other_timezone_and_missing_fields(tmp_path) -> None:  # noqa: ANN001
    lead = make_lead(source=None, username=None, comment=None, links="", phone=None)
    text = render_lead_card(lead, make_settings(tmp_path, timezone="Asia/Vladivostok"))
    assert "прямой переход" in text
    assert "05.03.2025 21:07 (Asia/Vladivostok)" in text
    assert "(@" not in text
    # every field is on the card, those left empty with a dash
    assert f"<b>{FIELD_LABELS['comment']}:</b> —" in text and f"<b>{FIELD_LABELS['phone']}:</b> —" in text
    assert f"<b>{FIELD_LABELS['links']}:</b> —" in text


def test_card_unknown_codes_shown_escaped(tmp_path) -> None:  # noqa: ANN001
    lead = make_lead(networks=["vk", "<x>"], budget="b&b", goals=["zz"], contact_method="pigeon")
    text = render_lead_card(lead, make_settings(tmp_path))
    assert "ВКонтакте, &lt;x&gt;" in text
    assert "b&amp;b" in text and "zz" in text and "pigeon" in text
    assert_safe_html(text)


def test_card_escapes_all_user_text(tmp_path) -> None:  # noqa: ANN001
    evil = "<b>жирный</b> & <3 </a>"
    lead = make_lead(business=evil, comment=evil, tg_name=evil, name=evil, links=evil, source="a<b>&")
    text = render_lead_card(lead, make_settings(tmp_path))
    assert "<b>жирный</b>" not in text and "<3" not in text
    assert "&lt;b&gt;жирный&lt;/b&gt; &amp; &lt;3 &lt;/a&gt;" in text
    assert_safe_html(text)
    assert shown(text).count(evil) == 5  # business, comment, profile name, name, links


def test_card_fits_4096_with_huge_fields(tmp_path) -> None:  # noqa: ANN001
    lead = make_lead(comment="к" * 4000, business="<&>" * 1400, links="https://x.example/" * 300,
                     tg_name="Я" * 300, name="Имя" * 200)
    text = render_lead_card(lead, make_settings(tmp_path))
    assert tg_len(text) <= MAX_TEXT_LENGTH
    assert tg_len(text) > MAX_TEXT_LENGTH - 50  # trimmed, not truncated to nothing
    assert text.count("…") >= 3
    assert_safe_html(text)
    # short fields survive whole; header and footer survive
    assert text.startswith("#lead_42\n")
    assert "+7 999 123-45-67" in text and "ivan@example.com" in text
    assert "05.03.2025 14:07" in text and "promo_vk" in text


def test_card_fits_4096_with_emoji(tmp_path) -> None:  # noqa: ANN001
    lead = make_lead(comment="😀" * 4000, business="🚀" * 4000)
    text = render_lead_card(lead, make_settings(tmp_path))
    assert tg_len(text) <= MAX_TEXT_LENGTH
    assert "\ud83d" not in text  # no split surrogate pair


def test_masked_card(tmp_path) -> None:  # noqa: ANN001
    text = render_lead_card(make_lead(), make_settings(tmp_path, masked_card=True))
    assert "+7 *** ***-45-67" in text and "i***@example.com" in text
    assert "999" not in text and "ivan@example.com" not in text
    assert mask_phone("89991234567") == "+7 *** ***-45-67"
    assert mask_phone("+380 44 123 45 67") == "+380 *** ***-45-67"
    assert mask_phone("12") == "***"
    assert mask_email("no-at-sign") == "***"


async def test_card_from_stored_lead(harness: Harness) -> None:
    services = harness.services
    consent_id = await services.consent.grant_pd(1001, ConsentText("v1", "Согласие"))
    lead_id, created = await services.leads.submit(
        user_id=1001, submit_key="k1", consent_event_id=consent_id, source=None, fields=FIELDS)
    assert created
    lead = await services.leads.get(lead_id)
    assert lead is not None
    text = render_lead_card(lead, harness.settings)
    assert text.startswith(f"#lead_{lead_id}\n")
    assert "ВКонтакте" in text and "прямой переход" in text and "(Europe/Moscow)" in text


def test_redacted_card() -> None:
    withdrawn = render_redacted_card(42, "withdrawal")
    assert "#lead_42" in withdrawn and "данные удалены по запросу пользователя" in withdrawn
    retention = render_redacted_card(42, "retention")
    assert "#lead_42" in retention and "срок" in retention
    assert_safe_html(withdrawn)
    assert_safe_html(retention)


def test_question_escaped_linked_and_bounded() -> None:
    text = render_question({"text": "Сколько стоит <b>SMM</b> & таргет? <3", "tg_name": "Анна <3",
                            "username": "anna", "user_id": 555})
    assert '<a href="tg://user?id=555">Анна &lt;3</a> (@anna)' in text
    assert "Сколько стоит &lt;b&gt;SMM&lt;/b&gt; &amp; таргет? &lt;3" in text
    assert_safe_html(text)
    huge = render_question({"text": "вопрос " * 2000, "tg_name": "Анна", "username": None, "user_id": 555})
    assert tg_len(huge) <= MAX_TEXT_LENGTH and huge.endswith("…")
    no_user = render_question({"text": "?"})
    assert "tg://user" not in no_user


def test_notices() -> None:
    withdrawn = render_notice({"notice": "withdrawn", "lead_ids": [3, 7]})
    assert "отозвал согласие" in withdrawn and "#lead_3, #lead_7" in withdrawn
    assert "CRM" in withdrawn and "почте" in withdrawn and "заметках" in withdrawn
    updated = render_notice({"notice": "updated"}, lead_id=42)
    assert "#lead_42" in updated and "обновлена" in updated
    retention = render_notice({"notice": "retention", "lead_ids": [1]})
    assert "срок хранения" in retention and "#lead_1" in retention and "CRM" in retention
    many = render_notice({"notice": "withdrawn", "lead_ids": list(range(1, 5000))})
    assert tg_len(many) <= MAX_TEXT_LENGTH
    for text in (withdrawn, updated, retention, many, render_notice({"notice": "?", "lead_ids": ["<x>"]})):
        assert_safe_html(text)
