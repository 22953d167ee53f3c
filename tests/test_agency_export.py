"""/export: a CSV file for Russian Excel, erased leads without personal data, no formulas."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from bot.settings import Settings
from bot.texts import brief as brief_texts
from tests.agency_flow import PERSONAL_VALUES, STAFF, card_message, data_of, deliver, make_lead, staff_press, staff_says
from tests.conftest import AGENCY_CHAT_ID, Harness, make_settings
from tests.test_withdraw import withdraw


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path, agency_send_interval=0)


async def export(h: Harness, args: str = "") -> tuple[bytes, list[list[str]], str]:
    calls = await staff_says(h, f"/export {args}".strip())
    docs = [c for c in calls if c.__api_method__ == "sendDocument"]
    assert len(docs) == 1, [getattr(c, "text", None) for c in calls]
    assert docs[0].chat_id == AGENCY_CHAT_ID
    raw = h.session.upload_of(docs[0])[1]
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline=""), delimiter=";"))
    return raw, rows, docs[0].caption


async def test_export_opens_in_russian_excel(harness: Harness) -> None:
    h = harness
    await make_lead(h, source="vk_ads", marketing=True)
    raw, rows, caption = await export(h)
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM
    assert b"\r\n" in raw and raw.count(b"\r\n") == len(rows)
    header = rows[0]
    assert header[:6] == ["№", "Создана", "Статус", "Статус поставил", "Статус изменён", "Источник"]
    for label in brief_texts.FIELD_LABELS.values():  # every field of the brief, in order
        assert label in header
    assert header[-3:] == ["Версия согласия", "Согласие на рассылку", "Персональные данные"]
    row = dict(zip(header, rows[1], strict=True))
    assert row["№"] == "1" and row["Источник"] == "vk_ads" and row["Статус"] == "Новая"
    assert row["Соцсети для продвижения"] == "ВКонтакте, Telegram" and row["Бюджет в месяц"] == "30 000 – 70 000 ₽"
    assert row["Имя"] == "Иван" and row["E-mail"] == "ivan@example.com"
    assert row["Версия согласия"] == "pd-test" and row["Согласие на рассылку"] == "да"
    assert row["Персональные данные"] == ""
    assert "Заявки за всё время: 1" in caption
    assert list(Path(h.settings.db_path.parent).glob(".export-*")) == []  # the temporary file is gone


async def test_export_erased_leads_without_personal_data(harness: Harness) -> None:
    h = harness
    erased = await make_lead(h, user_id=h.user.id, marketing=True)
    await make_lead(h, user_id=3001, name="Мария", tg_name="Мария С", username="maria", business="Салон красоты",
                    phone="+79990001122", email="maria@example.com", comment="Без комментариев")
    await deliver(h)
    await staff_press(h, data_of(card_message(h, erased)[1], "Взять в работу"), card_message(h, erased)[0])
    await withdraw(h)
    raw, rows, _ = await export(h)
    header, first, second = rows
    row = dict(zip(header, first, strict=True))
    assert row["№"] == str(erased) and row["Статус"] == "В работе" and row["Статус поставил"] == "Дарья"
    assert row["Персональные данные"].startswith("удалены ")
    assert row["Согласие на рассылку"] == "нет" and row["Telegram ID"] == ""
    for label in brief_texts.FIELD_LABELS.values():
        assert row[label] == ""
    text = raw.decode("utf-8-sig")
    assert not any(v in text for v in (*PERSONAL_VALUES, "ivan", str(h.user.id)))
    assert dict(zip(header, second, strict=True))["Имя"] == "Мария"


@pytest.mark.parametrize("value", ["=HYPERLINK(\"http://evil\")", "+7 999 000", "-1+2", "@SUM(A1)", "\t=1"])
async def test_export_defuses_formulas(harness: Harness, value: str) -> None:
    h = harness
    await make_lead(h, comment=value, business=value)
    _, rows, _ = await export(h)
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["Комментарий"] == "'" + value and row["Что продаёте"] == "'" + value


async def test_export_by_days_and_bad_arguments(harness: Harness) -> None:
    h = harness
    old = await make_lead(h, name="Старый")
    await h.services.db.execute("UPDATE leads SET created_at = '2020-01-01T00:00:00+00:00' WHERE id = ?", (old,))
    await make_lead(h, user_id=3001, name="Новый")
    _, rows, caption = await export(h, "7")
    assert len(rows) == 2 and "Новый" in rows[1] and "за 7 дней: 1" in caption
    _, rows, _ = await export(h)
    assert len(rows) == 3
    for bad in ("0", "abc", "-5", "99999"):
        calls = await staff_says(h, f"/export {bad}")
        assert "Число дней" in calls[-1].text and not [c for c in calls if c.__api_method__ == "sendDocument"]


async def test_export_with_no_leads(harness: Harness) -> None:
    calls = await staff_says(harness, "/export")
    assert calls[-1].text == "Заявок за всё время нет — выгружать нечего."


async def test_export_only_in_the_agency_chat(harness: Harness) -> None:
    h = harness
    await make_lead(h)
    calls = await h.send("/export", from_user=STAFF)
    assert not [c for c in calls if c.__api_method__ == "sendDocument"]
