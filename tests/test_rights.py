"""/mydata, correction, /unsubscribe and /privacy through the real dispatcher."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.settings import Settings
from handlers.callbacks import FixCb, MenuCb
from handlers.rights import parsed_length
from storage.consent import ConsentText
from tests import fakes
from tests.brief_flow import ANSWERS, consent, last_text
from tests.conftest import AGENCY_CHAT_ID, Harness, make_settings
from tests.test_withdraw import OTHER, db_file, deliver, dump, journal, key, submitted, withdraw

FIELDS: dict[str, Any] = dict(
    username="ivan", tg_name="Иван", business="Кофейня", links=["https://coffee.example/"],
    networks=["vk"], goals=["sales"], budget="30_70", start_when="asap", name="Иван",
    phone="+79991234567", email="ivan@example.com", contact_method="tg", comment=None,
)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path, agency_send_interval=0)


def fix(field: str, lead_id: int) -> str:
    return FixCb(f=field, lead=lead_id).pack()


# --- /mydata ------------------------------------------------------------------------------

async def test_mydata_nothing_stored(harness: Harness) -> None:
    calls = await harness.send("/mydata")
    assert "ничего не хранится" in last_text(calls)
    assert dump(db_file(harness))["consent_events"] == []


async def test_mydata_shows_everything_escaped_with_fix_buttons(harness: Harness) -> None:
    h = harness
    await h.send("/start promo_vk")
    lead_id = await submitted(h, subscribe=True)
    await submitted(h, OTHER)
    calls = await h.send("/mydata")
    (msg,) = [c for c in calls if c.__api_method__ == "sendMessage"]
    text = msg.text
    assert f"Заявка №{lead_id}" in text
    for value in ("Анна", "+7 999 123-45-67", "Звонок по телефону", "https://mebel.ru/", "ВКонтакте", "Продажи",
                  "30 000 – 70 000", "В течение месяца", ANSWERS["comment"], "promo_vk", "Иван", "ivan"):
        assert value in text, value
    # the business answer has <, > and &: escaped, so the HTML stays valid
    assert "&lt;на заказ&gt; &amp; декор" in text and "<на заказ>" not in text
    assert "согласие на обработку данных дано" in text and "подписка на новости оформлена" in text
    assert "pd-" in text  # the consent text version
    assert "Борис" not in text and str(OTHER.id) not in text  # never anyone else's
    assert parsed_length(text) <= 4096
    labels = [b.text for row in msg.reply_markup.inline_keyboard for b in row]
    assert labels == ["✏️ Имя", "✏️ Телефон", "✏️ E-mail"]
    for row in msg.reply_markup.inline_keyboard:
        for b in row:
            assert b.callback_data.isascii() and len(b.callback_data.encode()) <= 64


async def test_mydata_shows_the_unfinished_brief_and_after_withdrawal_only_the_journal(harness: Harness) -> None:
    h = harness
    await consent(h)
    await h.send(ANSWERS["business"])
    text = last_text(await h.send("/mydata"))
    assert "Текущий разговор" in text and "Интернет-магазин мебели" in text
    assert "кнопками ниже" not in text  # no submitted lead: nothing to correct
    # /mydata mid-brief does not disturb the form
    assert await h.dp.storage.get_state(key(h.user.id)) == "Brief:networks"
    await withdraw(h)
    text = last_text(await h.send("/mydata"))
    assert "Интернет-магазин" not in text
    assert "согласие на обработку данных дано" in text and "согласие на обработку данных отозвано" in text


async def test_mydata_too_long_is_sent_as_a_json_document(harness: Harness) -> None:
    h, s = harness, harness.services
    doc = ConsentText("v1", "Согласие")
    for n in range(6):
        event = await s.consent.grant_pd(h.user.id, doc)
        await s.leads.submit(user_id=h.user.id, submit_key=f"k{n}", consent_event_id=event, source=None,
                             fields={**FIELDS, "business": f"Бизнес {n} <b>" + "ж" * 990})
    event = await s.consent.grant_pd(OTHER.id, doc)
    await s.leads.submit(user_id=OTHER.id, submit_key="other", consent_event_id=event, source=None,
                         fields={**FIELDS, "name": "Борис", "email": "boris@example.com"})
    calls = await h.send("/mydata")
    assert [c.__api_method__ for c in calls] == ["sendDocument"]
    sent = calls[0]
    assert len(sent.caption) <= 1024 and sent.reply_markup is not None
    assert sent.document.filename.endswith(".json")
    data = json.loads(sent.document.data.decode("utf-8"))
    assert data["telegram_user_id"] == h.user.id
    assert len(data["leads"]) == 6 and data["leads"][0]["business"].startswith("Бизнес 0 <b>")
    assert data["leads"][0]["phone"] == "+79991234567"
    assert len(data["consent_events"]) == 6
    raw = sent.document.data.decode("utf-8")
    assert "Борис" not in raw and "boris@example.com" not in raw and str(OTHER.id) not in raw


# --- correction ----------------------------------------------------------------------------

async def test_fix_name_phone_email_with_brief_validation(harness: Harness) -> None:
    h = harness
    lead_id = await submitted(h)
    calls = await h.press(fix("name", lead_id))
    assert "как к вам обращаться" in last_text(calls).lower() and "Анна" in last_text(calls)
    calls = await h.send("R2-D2 <script>")
    assert "Не похоже на имя" in last_text(calls)
    calls = await h.send("Анна-Мария")
    assert "исправлена" in last_text(calls)
    calls = await h.press(fix("phone", lead_id))
    assert calls[-1].reply_markup.keyboard[0][0].request_contact
    assert "Не могу разобрать номер" in last_text(await h.send("12345"))
    await h.send("8 (916) 000-11-22")
    await h.press(fix("email", lead_id))
    assert "Не похоже на e-mail" in last_text(await h.send("anna@"))
    await h.send("  Anna.M@Example.ru ")
    lead = await h.services.leads.get(lead_id)
    assert lead.fields["name"] == "Анна-Мария" and lead.fields["phone"] == "+79160001122"
    assert lead.fields["email"] == "Anna.M@example.ru"
    assert await h.dp.storage.get_state(key(h.user.id)) is None
    assert set(await h.dp.storage.get_data(key(h.user.id))) <= {"mk"}  # the marketing offer on screen
    # the card was never delivered: nothing to edit
    assert [r["kind"] for r in await h.services.outbox.pending()] == ["lead_card"]


async def test_fix_by_shared_contact_and_foreign_contact(harness: Harness) -> None:
    h = harness
    lead_id = await submitted(h)
    await h.press(fix("phone", lead_id))
    calls = await h.feed(fakes.contact_message("79161112233", 5555, from_user=h.user))
    assert "чужой контакт" in last_text(calls)
    await h.feed(fakes.contact_message("79161112233", h.user.id, from_user=h.user))
    assert (await h.services.leads.get(lead_id)).fields["phone"] == "+79161112233"


async def test_fix_of_a_delivered_card_queues_an_edit_and_a_notice(harness: Harness) -> None:
    h = harness
    lead_id = await submitted(h)
    await deliver(h)
    await h.press(fix("email", lead_id))
    calls = await h.send("new@mebel.ru")
    assert "Агентство увидит" in last_text(calls)
    pending = await h.services.outbox.pending()
    assert [(r["kind"], r["lead_id"]) for r in pending] == [("card_edit", lead_id), ("notice", lead_id)]
    h.session.clear()
    await deliver(h)
    edit = h.session.last("editMessageText")
    assert edit.chat_id == AGENCY_CHAT_ID and "new@mebel.ru" in edit.text
    assert "исправил или дополнил" in h.session.last("sendMessage").text


async def test_fix_cancel_and_non_text(harness: Harness) -> None:
    h = harness
    lead_id = await submitted(h)
    await h.press(fix("name", lead_id))
    assert "текстом" in last_text(await h.feed(fakes.sticker_message(from_user=h.user)))
    calls = await h.send("/cancel")
    assert "отменено" in last_text(calls).lower()
    assert (await h.services.leads.get(lead_id)).fields["name"] == "Анна"
    assert await h.dp.storage.get_state(key(h.user.id)) is None
    # the next text is an ordinary FAQ question again, not a name
    await h.send("Борис")
    assert (await h.services.leads.get(lead_id)).fields["name"] == "Анна"


async def test_fix_in_the_middle_of_a_new_brief_returns_to_it(harness: Harness) -> None:
    h = harness
    lead_id = await submitted(h)
    await consent(h)
    await h.send("Кофейня у дома")
    assert await h.dp.storage.get_state(key(h.user.id)) == "Brief:networks"
    await h.press(fix("name", lead_id))
    calls = await h.send("Ольга")
    assert "исправлена" in h.texts(calls)[0] and "Шаг 2 из 8" in last_text(calls)
    assert await h.dp.storage.get_state(key(h.user.id)) == "Brief:networks"
    data = await h.dp.storage.get_data(key(h.user.id))
    assert data["business"] == "Кофейня у дома" and "fix_lead" not in data
    assert (await h.services.leads.get(lead_id)).fields["name"] == "Ольга"


async def test_fix_buttons_stale_forged_or_foreign(harness: Harness) -> None:
    h = harness
    lead_id = await submitted(h)
    other_lead = await submitted(h, OTHER)
    before = dump(db_file(h))
    for data in (fix("name", other_lead), fix("name", 9999), fix("comment", lead_id), "fx:name:abc", "fx:"):
        calls = await h.press(data)
        assert h.answers(calls), data
        assert await h.dp.storage.get_state(key(h.user.id)) is None, data
    assert dump(db_file(h)) == before
    # a correction of a lead erased meanwhile (its retention period ended)
    await h.press(fix("name", lead_id))
    await h.services.rights.erase_expired([lead_id])
    calls = await h.send("Ольга")
    assert "недоступна" in last_text(calls)
    calls = await h.press(fix("name", lead_id))
    assert h.answers(calls)[0].show_alert


async def test_withdraw_during_correction(harness: Harness) -> None:
    h = harness
    lead_id = await submitted(h)
    await h.press(fix("phone", lead_id))
    await withdraw(h)
    assert await h.dp.storage.get_state(key(h.user.id)) is None
    assert (await h.services.leads.get(lead_id)).status == "erased"


# --- /unsubscribe ---------------------------------------------------------------------------

async def test_unsubscribe_withdraws_marketing_only(harness: Harness) -> None:
    h = harness
    lead_id = await submitted(h, subscribe=True)
    calls = await h.send("/unsubscribe")
    assert "отписаны" in last_text(calls) and "заявка" in last_text(calls)
    assert not await h.services.consent.is_subscribed(h.user.id)
    assert journal(db_file(h), h.user.id) == [("pd", "grant"), ("marketing", "grant"), ("marketing", "withdraw")]
    assert (await h.services.leads.get(lead_id)).status == "active"
    assert await h.services.consent.has_active_pd(h.user.id)
    calls = await h.send("/unsubscribe")
    assert "не подписаны" in last_text(calls)
    assert len(journal(db_file(h), h.user.id)) == 3


async def test_unsubscribe_not_subscribed_writes_nothing(harness: Harness) -> None:
    h = harness
    before = dump(db_file(h))
    assert "не подписаны" in last_text(await h.send("/unsubscribe"))
    assert dump(db_file(h)) == before


async def test_unsubscribe_works_in_the_middle_of_the_brief(harness: Harness) -> None:
    h = harness
    await submitted(h, subscribe=True)
    await consent(h)
    await h.send("/unsubscribe")
    assert not await h.services.consent.is_subscribed(h.user.id)
    assert await h.dp.storage.get_state(key(h.user.id)) == "Brief:business"


# --- /privacy ---------------------------------------------------------------------------------

async def test_privacy_command_and_menu_button(harness: Harness) -> None:
    h = harness
    s = h.settings
    text = last_text(await h.send("/privacy"))
    for part in (s.operator_name, s.operator_email, s.policy_url, "/withdraw", "/mydata", "/unsubscribe",
                 "365 дней", "имя, телефон, e-mail", "рабочий Telegram-чат"):
        assert part in text, part
    assert parsed_length(text) <= 4096
    calls = await h.press(MenuCb(action="privacy").pack())
    assert h.answers(calls) and last_text(calls) == text
    # and in the middle of the brief, without disturbing it
    await consent(h)
    assert last_text(await h.send("/privacy")) == text
    assert await h.dp.storage.get_state(key(h.user.id)) == "Brief:business"


async def test_privacy_retention_forever(tmp_path: Path, bot, session) -> None:  # noqa: ANN001
    from bot.app import create_dispatcher
    from handlers.rights import privacy_text

    settings = make_settings(tmp_path, lead_retention_days=0, operator_name="ИП <Тест> & Ко")
    text = privacy_text(settings)
    assert "дней" not in text.split("Срок хранения:")[1].split("\n")[0]
    assert "ИП &lt;Тест&gt; &amp; Ко" in text
    dp = create_dispatcher(settings, run_workers=False)
    assert dp["services"].settings.lead_retention_days == 0
