"""Issue 18, item 4: /withdraw (and retention) leave nothing personal anywhere: not in any file
of the database (-wal and -shm included), not in question cards in the agency chat, not in
the unanswered-question counters; the agency is told truthfully what was cleaned."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bot.settings import Settings
from tests import fakes
from tests.agency_chat import ask_manager, deliver, found_in_files
from tests.brief_flow import last_text
from tests.conftest import AGENCY_CHAT_ID, Harness, make_settings
from tests.test_withdraw import submitted, withdraw

NEW_CHAT_ID = -1009999999999
EVA = fakes.user(5005, first_name="Евлампия", username="evlampia_smm")
QUESTION = "Подскажите рецепт борща от бабушки Евдокии"
# Everything Евлампия typed or is: name, phone, e-mail, business text, question, username.
VALUES = ["Евлампия", "evlampia_smm", "Анна", "9991234567", "Интернет-магазин мебели",
          "mebel.ru", "созвониться после 18:00", QUESTION, "бабушки Евдокии"]
DAY = 86400


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path, agency_send_interval=0)


def db_path(h: Harness) -> Path:
    return Path(h.settings.db_path)


async def test_withdraw_leaves_no_value_in_the_database_wal_or_shm(harness: Harness) -> None:
    h = harness
    await ask_manager(h, QUESTION, EVA)
    await submitted(h, EVA, subscribe=True)
    await h.send("/start promo_vk", from_user=EVA)
    await h.send("/brief", from_user=EVA)  # a new draft on top
    assert await deliver(h) == 2  # the question card and the lead card are in the agency chat
    await h.services.stats.flush()
    before = found_in_files(db_path(h), VALUES)
    assert set(before) == set(VALUES), f"not written at all: {set(VALUES) - set(before)}"

    await withdraw(h, EVA)
    assert found_in_files(db_path(h), VALUES) == {}
    # the redactions and the notice change nothing of that, nor does a clean stop
    await deliver(h)
    assert found_in_files(db_path(h), VALUES) == {}


async def test_retention_leaves_no_value_in_any_database_file(harness: Harness) -> None:
    h = harness
    await ask_manager(h, QUESTION, EVA)
    await submitted(h, EVA)
    await deliver(h)
    await h.services.stats.flush()
    lead_values = [v for v in VALUES if v not in (QUESTION, "бабушки Евдокии")]
    assert set(found_in_files(db_path(h), lead_values)) == set(lead_values)
    assert await h.services.retention.purge(now=time.time() + 400 * DAY) == 1
    # the question's stored copy went with the lead; the anonymous counter of unanswered
    # questions (not linked to anyone) is not part of retention
    hits = found_in_files(db_path(h), VALUES)
    assert set(hits) <= {QUESTION, "бабушки Евдокии"}
    for where in hits.values():
        assert where == ["bot.sqlite3"]  # only in the faq_unanswered counter, never in the WAL
    row = await h.services.db.fetchone("SELECT COUNT(*) FROM faq_unanswered WHERE text = ?", (QUESTION,))
    assert row[0] == 1
    h.session.clear()
    await deliver(h)
    edits = [c.text for c in h.session.of("editMessageText")]
    assert any("Вопрос #вопрос_" in t and "истёк срок" in t for t in edits)
    assert any("#lead_" in t and "истёк срок" in t for t in edits)


async def test_a_question_to_a_manager_is_listed_withdrawn_and_its_card_redacted(harness: Harness) -> None:
    h = harness
    await ask_manager(h, QUESTION, EVA)
    assert await deliver(h) == 1
    card = h.session.last("sendMessage")
    assert card.chat_id == AGENCY_CHAT_ID and "Евлампия" in card.text and QUESTION in card.text

    # /mydata says what was sent, when, and with which name
    text = last_text(await h.send("/mydata", from_user=EVA))
    assert "ничего не хранится" not in text
    assert QUESTION in text and "отправлен в рабочий чат агентства" in text and "Евлампия" in text
    question_id = int(card.text.split()[0].removeprefix("#вопрос_"))  # the card is numbered
    # /privacy says what a question to a manager sends
    privacy = last_text(await h.send("/privacy", from_user=EVA))
    assert "Спросить менеджера" in privacy and "текст вопроса, ваше имя" in privacy

    calls = await withdraw(h, EVA)
    assert "согласие отозвано" in last_text(calls) and "Агентство получило уведомление" in last_text(calls)
    h.session.clear()
    assert await deliver(h) == 2
    edit, notice = h.session.calls[0], h.session.calls[1]
    assert edit.__api_method__ == "editMessageText" and edit.message_id == h.session.result_of(card).message_id
    assert f"#вопрос_{question_id}" in edit.text and "удалён по запросу" in edit.text
    assert "Евлампия" not in edit.text and QUESTION not in edit.text
    assert notice.__api_method__ == "sendMessage" and f"Очищено в этом чате: #вопрос_{question_id}" in notice.text

    text = last_text(await h.send("/mydata", from_user=EVA))
    assert QUESTION not in text and "вопрос удалён" in text
    assert "удалять нечего" in last_text(await h.send("/withdraw", from_user=EVA))


async def test_a_question_queued_when_withdrawn_is_never_sent(harness: Harness) -> None:
    h = harness
    await ask_manager(h, QUESTION, EVA)
    await withdraw(h, EVA)
    h.session.clear()
    assert await deliver(h, later=3600) == 0
    assert h.session.calls == []
    assert found_in_files(db_path(h), [QUESTION, "Евлампия", "evlampia_smm"]) == {}


async def test_card_left_in_the_group_before_it_became_a_supergroup_is_named(harness: Harness) -> None:
    h = harness
    old = await submitted(h, EVA)
    kept = await submitted(h, fakes.user(6006, first_name="Тимофей"))
    await deliver(h)
    # the group is upgraded: the bot learns it from the next send
    h.session.migrated("sendMessage", NEW_CHAT_ID, chat_id=AGENCY_CHAT_ID, times=100)
    h.session.migrated("editMessageText", NEW_CHAT_ID, chat_id=AGENCY_CHAT_ID, times=100)
    await withdraw(h, EVA)
    h.session.clear()
    await deliver(h)
    edits = h.session.of("editMessageText")
    assert [e.chat_id for e in edits] == [AGENCY_CHAT_ID]  # tried where the card is, never elsewhere
    notices = [c for c in h.session.of("sendMessage") if c.chat_id == NEW_CHAT_ID]
    assert len(notices) == 1
    text = notices[0].text
    assert f"Не удалось очистить: #lead_{old}" in text and "супергруппу" in text and "Очищено" not in text
    assert f"#lead_{kept}" not in text
    # the calls went in order: the edit attempt, then the notice about it
    methods = [c.__api_method__ for c in h.session.calls]
    assert methods.index("editMessageText") < len(methods) - 1 - methods[::-1].index("sendMessage")


async def test_withdraw_drops_the_unanswered_texts_the_user_tied_to_their_name(harness: Harness) -> None:
    h = harness
    other = fakes.user(7007, first_name="Борис")
    await h.send("Рецепт пирога с капустой", from_user=EVA)  # never sent to a manager
    await ask_manager(h, QUESTION, EVA)  # sent with her name
    await h.send("Где купить щенка таксы", from_user=other)
    stats = last_text(await h.send("/stats", chat=fakes.group_chat(AGENCY_CHAT_ID)))
    assert QUESTION in stats and "Рецепт пирога" in stats and "щенка таксы" in stats
    await withdraw(h, EVA)
    stats = last_text(await h.send("/stats", chat=fakes.group_chat(AGENCY_CHAT_ID)))
    assert QUESTION not in stats
    assert "Рецепт пирога" in stats and "щенка таксы" in stats  # not linked to anyone: kept


async def test_checkpoint_blocked_by_a_reader_is_retried_by_the_hourly_job(harness: Harness) -> None:
    import sqlite3

    h = harness
    await submitted(h, EVA)
    reader = sqlite3.connect(db_path(h))  # e.g. `sqlite3 .backup` running during /withdraw
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT COUNT(*) FROM leads").fetchone()
        await withdraw(h, EVA)
        assert "bot.sqlite3-wal" in found_in_files(db_path(h), ["Анна"]).get("Анна", [])
    finally:
        reader.close()
    await h.services.retention.purge()  # the hourly job
    assert found_in_files(db_path(h), VALUES) == {}
