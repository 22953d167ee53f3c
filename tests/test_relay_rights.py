"""152-FZ and spam for the relay: /withdraw redacts every relayed message in the agency chat,
/mydata shows the conversation, retention does what /withdraw does; /ban and /unban."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from bot.clock import Clock
from bot.settings import Settings
from tests import fakes
from tests.agency_chat import ChatFake, ask_manager, found_in_files
from tests.brief_flow import button
from tests.conftest import AGENCY_CHAT_ID, Harness, make_settings
from tests.relay_flow import MEMBER, agency_message, copies, deliver, lead_card, reply, reply_target, rows, submit
from tests.test_withdraw import find_in_file, withdraw

PROSPECT = 1001
SAID = ("Моя кофейня на Арбате", "фото витрины", "голосовое от Ивана", "длинная история")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path, agency_send_interval=0)


@pytest.fixture
def session() -> ChatFake:
    """A fake that keeps what the agency chat shows (edits, deletes, captions)."""
    return ChatFake()


def chat(h: Harness) -> dict[int, str | None]:
    assert isinstance(h.session, ChatFake)
    return dict(h.session.shows(AGENCY_CHAT_ID))


def agency_lines(h: Harness, start: str) -> list[Any]:
    return [c for c in h.session.of("sendMessage") if c.chat_id == AGENCY_CHAT_ID and c.text.startswith(start)]


async def a_whole_conversation(h: Harness) -> dict[str, int]:
    """A question card, a lead card, a manager's Reply, and the prospect's text, photo (caption),
    voice note, sticker and long text relayed. Returns the agency chat's message ids by name."""
    await ask_manager(h, "Вы работаете с Одноклассниками в Казахстане?")
    await deliver(h)
    _, card = await lead_card(h)
    owner = await reply(h, card, "Здравствуйте! Расскажите о кофейне")
    await deliver(h)
    [ack] = agency_lines(h, "✅")
    before = len(h.session.calls)
    await h.send(SAID[0])
    await h.feed(fakes.photo_message(from_user=h.user, caption=SAID[1]))
    await h.feed(fakes.voice_message(from_user=h.user, caption=SAID[2]))
    await h.feed(fakes.sticker_message(from_user=h.user))
    long = fakes.message((SAID[3] + " ") * 300, from_user=h.user)
    assert isinstance(h.session, ChatFake)
    h.session.text_sources.add((PROSPECT, long.message_id))
    await h.feed(long)
    await deliver(h, rounds=10)
    sent = [c for c in h.session.calls[before:] if c.__api_method__ in ("sendMessage", "copyMessage")
            and c.chat_id == AGENCY_CHAT_ID and not (getattr(c, "text", None) or "").startswith(("✅", "◽"))]
    ids = [h.session.result_of(c).message_id for c in sent]
    names = ["text", "photo", "voice", "sticker_header", "sticker", "long_header", "long"]
    assert [c.__api_method__ for c in sent] == ["sendMessage", "copyMessage", "copyMessage", "sendMessage",
                                                "copyMessage", "sendMessage", "copyMessage"]
    return {"card": card, "owner": owner.message_id, "ack": h.session.result_of(ack).message_id,
            **dict(zip(names, ids, strict=True))}


async def test_withdraw_redacts_every_relayed_message(harness: Harness) -> None:
    h = harness
    ids = await a_whole_conversation(h)
    assert isinstance(h.session, ChatFake)
    h.session.undeletable.add((AGENCY_CHAT_ID, ids["voice"]))  # older than 48 h: the bot cannot delete it
    before = chat(h)
    assert SAID[0] in (before[ids["text"]] or "") and SAID[1] in (before[ids["photo"]] or "")
    h.session.clear()
    calls = await withdraw(h)
    assert "согласие отозвано" in calls[-1].text
    await deliver(h, rounds=6)
    after = chat(h)
    redacted = "🗑 Сообщение клиента удалено по его запросу (согласие отозвано)."
    for name in ("text", "sticker_header", "long_header", "long"):
        assert after[ids[name]] == redacted, name  # texts edited in place
    assert ids["photo"] not in after and ids["sticker"] not in after  # media deleted
    assert after[ids["voice"]] == redacted  # could not be deleted: its caption at least is clean
    assert [c.message_id for c in h.session.of("editMessageCaption")] == [ids["photo"], ids["voice"]]
    [notice] = agency_lines(h, "⚠️")
    assert "6 сообщений переписки" in notice.text and "#lead_1" in notice.text and "#вопрос_" in notice.text
    assert f"сообщение переписки https://t.me/c/1234567890/{ids['voice']}" in notice.text
    for text in after.values():
        assert not any(s in (text or "") for s in SAID) and "Иван" not in (text or "")
    # SQLite: the links no longer name the prospect; nothing said survives in any file.
    assert await rows(h, "SELECT COUNT(*) FROM relay_links WHERE user_id IS NOT NULL") == [(0,)]
    assert await rows(h, "SELECT COUNT(*) FROM conversations") == [(0,)]
    assert find_in_file(Path(h.settings.db_path), SAID) == []
    assert found_in_files(Path(h.settings.db_path), list(SAID)) == {}
    [(categories,)] = await rows(h, "SELECT categories FROM deletion_log")
    assert "conversation_with_manager" in json.loads(categories)
    # A Reply to a redacted message is not delivered, and says why.
    h.session.clear()
    owner = await reply(h, ids["text"], "Вы здесь?")
    await deliver(h)
    assert copies(h) == []
    [(note)] = agency_lines(h, "❌")
    assert "отозвал согласие" in note.text and reply_target(note) == owner.message_id
    await reply(h, ids["ack"], "Алло?")  # a Reply to a "delivered" line of that conversation
    await deliver(h)
    assert copies(h) == [] and len(agency_lines(h, "❌")) == 2
    # The prospect's later messages are FAQ questions, not relayed.
    await h.send("что такое смм")
    await deliver(h)
    assert not [c for c in h.session.calls if getattr(c, "chat_id", None) == AGENCY_CHAT_ID
                and "что такое смм" in (getattr(c, "text", None) or "")]


async def test_withdraw_while_messages_wait_to_be_relayed(harness: Harness) -> None:
    h = harness
    _, card = await lead_card(h)
    await reply(h, card)
    await deliver(h)
    await h.send("Ещё не ушло: мой телефон 8 999 000-11-22")
    await reply(h, card, "И вот ещё что")  # a manager's message queued for the prospect
    await withdraw(h)
    await deliver(h)
    assert not [c for c in h.session.calls if "000-11-22" in (getattr(c, "text", None) or "")]
    assert await rows(h, "SELECT kind, status, payload FROM outbox WHERE kind IN ('relay_in', 'relay_out') "
                         "AND status != 'sent'") == [("relay_in", "cancelled", None), ("relay_out", "cancelled", None)]
    assert len(copies(h, PROSPECT)) == 1  # the first, before /withdraw; not the one queued after


async def test_mydata_shows_the_conversation(harness: Harness) -> None:
    h = harness
    _, card = await lead_card(h)
    await reply(h, card)
    await deliver(h)
    await h.send("Первое")
    await h.send("Второе")
    await deliver(h)
    await h.send("Третье, ещё в очереди")
    calls = await h.send("/mydata")
    text = calls[-1].text
    block = text[text.index("<b>Переписка с менеджером</b>"):]
    assert "передано менеджеру: 2; сообщений менеджера вам: 1" in block
    assert "Ещё ждут отправки менеджеру: 1" in block
    month = "(января|февраля|марта|апреля|мая|июня|июля|августа|сентября|октября|ноября|декабря)"
    when = rf"\d{{1,2}} {month} \d{{4}}, \d\d:\d\d"
    assert re.search(rf"Первое — {when}, последнее — {when}", block)
    assert re.search(rf"Диалог открыт до {when}", block)
    assert "Третье" not in block  # counts and times, never texts


async def test_retention_redacts_old_relayed_messages(harness: Harness, settings: Settings) -> None:
    h = harness
    _, card = await lead_card(h)
    await reply(h, card)
    await deliver(h)
    await h.send("Старое сообщение")
    await deliver(h)
    relayed_id = max(chat(h))
    async with h.services.db.transaction() as conn:
        await conn.execute("UPDATE relay_links SET created_at = '2000-01-01T00:00:00+00:00'")
    await h.services.retention.purge()
    await deliver(h)
    assert chat(h)[relayed_id] == "🗑 Сообщение клиента удалено: истёк срок хранения."
    [notice] = agency_lines(h, "🗑 <b>")
    assert "1 сообщение переписки" in notice.text
    [(categories, reason)] = await rows(h, "SELECT categories, reason FROM deletion_log")
    assert reason == "retention" and "conversation_with_manager" in json.loads(categories)


# --- /ban and /unban ---------------------------------------------------------------------

async def test_ban_stops_relaying_and_unban_lifts_it(harness: Harness, clock: Clock) -> None:
    h = harness
    lead_id, card = await lead_card(h)
    await reply(h, card)
    await deliver(h)
    await h.send("Купите у меня рекламу!!!")
    await deliver(h)
    spam_id = max(chat(h))
    h.session.clear()
    command = agency_message("/ban", reply_to=spam_id)
    await h.feed(command)
    await deliver(h)
    [note] = agency_lines(h, "🚫")
    assert reply_target(note) == command.message_id and f"/unban {lead_id}" in note.text
    assert [c.text for c in h.session.of("sendMessage") if c.chat_id == PROSPECT] == [
        "Сообщения из этого чата больше не передаются менеджеру. На вопросы об SMM я по-прежнему отвечу сам."]
    assert await rows(h, "SELECT user_id, action, staff_id FROM relay_ban_log") == [(PROSPECT, "ban", MEMBER.id)]
    # Nothing of theirs reaches the agency chat now: messages, questions, new leads.
    h.session.clear()
    await h.send("Ау, ответьте")
    calls = await h.send("Вы работаете с Одноклассниками в Казахстане?")
    calls = await h.press(button(calls, "Спросить менеджера"))
    calls = await h.press(button(calls, "Отправить"))
    assert "больше не передаются" in calls[-1].text
    new_lead = await submit(h.services, PROSPECT)
    await deliver(h)
    assert [c for c in h.session.calls if getattr(c, "chat_id", None) == AGENCY_CHAT_ID] == []
    assert await rows(h, "SELECT status, last_error FROM outbox WHERE lead_id = ? AND kind = 'lead_card'",
                      new_lead) == [("pending", "banned")]
    # A manager's Reply to them is refused with a reason.
    owner = await reply(h, card, "Это снова мы")
    await deliver(h)
    assert copies(h) == [] and "заблокирован" in agency_lines(h, "❌")[0].text
    assert reply_target(agency_lines(h, "❌")[0]) == owner.message_id
    # /ban again; /unban by the lead number.
    h.session.clear()
    await h.feed(agency_message("/ban", reply_to=card))
    await h.feed(agency_message(f"/unban {lead_id}"))
    await deliver(h)
    assert agency_lines(h, "")[0].text.startswith("Этот пользователь уже заблокирован")
    assert agency_lines(h, "✅ Блокировка снята")
    assert await rows(h, "SELECT action, staff_id FROM relay_ban_log ORDER BY id") == [
        ("ban", MEMBER.id), ("unban", MEMBER.id)]
    assert (await h.services.leads.get(new_lead)).card_message_id is not None  # type: ignore[union-attr]
    # Relaying works again once a manager writes.
    await reply(h, card, "Снова на связи")
    await deliver(h)
    await h.send("Спасибо, что разблокировали")
    await deliver(h)
    assert any("разблокировали" in (c.text or "") for c in h.session.of("sendMessage") if c.chat_id == AGENCY_CHAT_ID)


@pytest.mark.parametrize(("command", "reply_to", "expected"), [
    ("/ban", None, "ответом (Reply)"),
    ("/ban 999", None, "Не нашёл"),
    ("/unban abc", None, "Не нашёл"),
    ("/unban", "card", "не заблокирован"),
])
async def test_ban_commands_explain_themselves(harness: Harness, command: str, reply_to: str | None,
                                               expected: str) -> None:
    h = harness
    _, card = await lead_card(h)
    h.session.clear()
    await h.feed(agency_message(command, reply_to=card if reply_to else None))
    await deliver(h)
    [note] = [c for c in h.session.of("sendMessage") if c.chat_id == AGENCY_CHAT_ID]
    assert expected in note.text
    assert await rows(h, "SELECT COUNT(*) FROM relay_bans") == [(0,)]


async def test_ban_outside_the_agency_chat_does_nothing(harness: Harness) -> None:
    h = harness
    lead_id, _ = await lead_card(h)
    await h.send(f"/ban {lead_id}", from_user=MEMBER)  # in a private chat with the bot
    await h.feed(fakes.message(f"/ban {lead_id}", from_user=MEMBER, chat=fakes.group_chat(-100777)))
    await deliver(h)
    assert await rows(h, "SELECT COUNT(*) FROM relay_bans") == [(0,)]


async def test_mydata_shows_a_file_offered_but_not_sent(harness: Harness) -> None:
    h = harness
    await h.feed(fakes.photo_message(from_user=h.user, caption="паспорт <не отправлять>"))
    calls = await h.send("/mydata")
    assert "ждёт вашего решения: это фото с подписью «паспорт &lt;не отправлять&gt;»" in calls[-1].text
    await withdraw(h)
    assert find_in_file(Path(h.settings.db_path), ("паспорт",)) == []
