"""The agency answers from its chat: a Reply to a card, a question or a relayed message reaches
the prospect (copyMessage, through the outbox's private lane); anything else is left alone."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bot.settings import Settings
from tests import fakes
from tests.agency_chat import ask_manager
from tests.conftest import AGENCY_CHAT_ID, Harness, make_settings
from tests.relay_flow import (
    MEMBER,
    agency_message,
    agency_sends,
    copies,
    deliver,
    lead_card,
    reply,
    reply_target,
    rows,
    submit,
    texts_to,
)

PROSPECT = 1001


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path, agency_send_interval=0)


def notes(h: Harness) -> list[tuple[str, int | None]]:
    """Short lines in the agency chat: (text, the message they reply to)."""
    return [(c.text, reply_target(c)) for c in h.session.of("sendMessage")
            if c.chat_id == AGENCY_CHAT_ID and c.text.startswith(("✅", "❌", "◽", "🚫"))]


@pytest.mark.parametrize("kind", ["text", "photo", "document", "voice", "video", "sticker", "animation",
                                  "video_note", "audio"])
async def test_reply_to_a_lead_card_is_copied_to_the_prospect(harness: Harness, kind: str) -> None:
    h = harness
    _, card = await lead_card(h)
    builder = fakes.MEDIA_BUILDERS.get(kind)
    owner = await reply(h, card, None if builder else "Здравствуйте, Иван!", builder=builder)
    h.session.clear()
    await deliver(h)
    [copy] = copies(h, PROSPECT)
    assert (copy.from_chat_id, copy.message_id) == (AGENCY_CHAT_ID, owner.message_id)
    assert copy.caption is None  # the manager's message as it is: no header, no "forwarded from"
    [[end]] = copy.reply_markup.inline_keyboard
    assert "Завершить диалог" in end.text and end.callback_data.startswith("rl:end:")
    # Under the first message of a conversation: what the manager will see of a reply.
    [intro] = texts_to(h, PROSPECT)
    assert "менеджер" in intro and "(Иван)" in intro and "@ivan" in intro and "№1" in intro
    # The agency chat: a quiet "delivered" under the manager's message.
    assert notes(h) == [("✅ Доставлено", owner.message_id)]
    [ack] = [c for c in h.session.of("sendMessage") if c.chat_id == AGENCY_CHAT_ID]
    assert ack.disable_notification is True
    # Linked without any text; the entry's payload is gone.
    assert await rows(h, "SELECT kind, user_id, private_message_id IS NOT NULL FROM relay_links "
                         "WHERE message_id = ?", owner.message_id) == [("out", PROSPECT, 1)]
    assert await rows(h, "SELECT status, payload FROM outbox WHERE kind = 'relay_out'") == [("sent", None)]


async def test_reply_to_a_question_card_reaches_its_author(harness: Harness) -> None:
    h = harness
    asker = fakes.user(3003, first_name="Ольга", username=None)
    await ask_manager(h, "Вы работаете с Одноклассниками в Казахстане?", asker)
    await deliver(h)
    [card] = [c for c in h.session.of("sendMessage") if c.chat_id == AGENCY_CHAT_ID]
    card_id = h.session.result_of(card).message_id
    h.session.clear()
    owner = await reply(h, card_id, "Да, работаем")
    await deliver(h)
    [copy] = copies(h)
    assert copy.chat_id == asker.id and copy.message_id == owner.message_id
    assert notes(h) == [("✅ Доставлено", owner.message_id)]


async def test_reply_to_a_card_posted_by_lead_n_reaches_the_prospect(harness: Harness) -> None:
    """/lead N (issue 16) posts a copy of the card: a Reply to it is found by its id (lead_views),
    whatever text the Reply quotes."""
    h = harness
    lead_id, card = await lead_card(h)
    h.session.clear()
    await h.feed(agency_message(f"/lead {lead_id}"))
    await deliver(h)
    [view] = [c for c in agency_sends(h) if (c.text or "").startswith(f"#lead_{lead_id}")]
    view_id = h.session.result_of(view).message_id
    assert view_id != card
    h.session.clear()
    owner = await reply(h, view_id, "Добрый день! Посмотрел заявку", replied_text="…")
    await deliver(h)
    [copy] = copies(h, PROSPECT)
    assert (copy.from_chat_id, copy.message_id) == (AGENCY_CHAT_ID, owner.message_id)
    assert notes(h) == [("✅ Доставлено", owner.message_id)]


async def test_reply_to_a_relayed_message_threads_under_the_prospects_own(harness: Harness) -> None:
    h = harness
    _, card = await lead_card(h)
    await reply(h, card)
    await deliver(h)
    mine = fakes.message("А сколько это будет стоить?", from_user=h.user)
    await h.feed(mine)
    await deliver(h)
    relayed = [c for c in agency_sends(h) if "сколько это будет стоить" in (c.text or "")][-1]
    relayed_id = h.session.result_of(relayed).message_id
    h.session.clear()
    owner = await reply(h, relayed_id, "От 30 000 в месяц")
    await deliver(h)
    [copy] = copies(h)
    assert copy.chat_id == PROSPECT and reply_target(copy) == mine.message_id  # quoted in their chat
    assert texts_to(h, PROSPECT) == []  # no second intro inside an open conversation
    assert notes(h) == [("✅ Доставлено", owner.message_id)]


async def test_other_replies_chatter_and_commands_are_ignored(harness: Harness) -> None:
    h = harness
    _, card = await lead_card(h)
    await h.feed(agency_message("/stats"))
    stats_id = next(h.session.result_of(c).message_id for c in h.session.of("sendMessage")
                    if c.text.startswith("<b>Статистика"))
    h.session.clear()
    await reply(h, stats_id, "спасибо")  # a Reply to the bot's /stats answer
    await h.feed(agency_message("Коллеги, кто возьмёт заявку?"))  # chatter
    await h.feed(agency_message("беру", reply_to_message=fakes.message("кто возьмёт?", from_user=MEMBER,
                                                                       chat=fakes.group_chat(AGENCY_CHAT_ID))))
    await reply(h, card, "/stats")  # a command as a Reply to a card is the command, not a message
    await reply(h, card, "/unknown@kosmmos_bot")
    await deliver(h)
    assert copies(h) == [] and notes(h) == []
    assert [c.__api_method__ for c in h.session.calls if getattr(c, "chat_id", None) == PROSPECT] == []
    assert await rows(h, "SELECT COUNT(*) FROM outbox WHERE kind LIKE 'relay%'") == [(0,)]


async def test_prospect_who_blocked_the_bot_gets_a_clear_notice(harness: Harness) -> None:
    h = harness
    _, card = await lead_card(h)
    h.session.forbidden("copyMessage", chat_id=PROSPECT)
    owner = await reply(h, card)
    await deliver(h)
    assert notes(h) == [("❌ Не доставлено: пользователь заблокировал бота.", owner.message_id)]
    assert await rows(h, "SELECT status, last_error, payload FROM outbox WHERE kind = 'relay_out'") == [
        ("cancelled", "blocked", None)]
    assert await rows(h, "SELECT user_id FROM inactive_users") == [(PROSPECT,)]
    assert await rows(h, "SELECT COUNT(*) FROM conversations") == [(0,)]
    # The prospect's next message is an FAQ question, not a message for the manager.
    calls = await h.send("сколько стоит смм")
    await deliver(h)
    assert not [c for c in agency_sends(h) if "сколько стоит" in (c.text or "")]
    assert calls


async def test_flood_control_on_the_prospects_side_waits_exactly_and_loses_nothing(harness: Harness) -> None:
    h = harness
    _, card = await lead_card(h)
    worker = h.services.delivery
    h.session.retry_after("copyMessage", 7, chat_id=PROSPECT)
    owner = await reply(h, card)
    other_lead = await submit(h.services, 4004)  # the agency lane is not held by a prospect's 429
    t = time.time() + 1
    await worker.run_once(h.bot, now=t)
    assert len(copies(h)) == 1 and notes(h) == []
    [(status, due)] = await rows(h, "SELECT status, next_attempt_at FROM outbox WHERE kind = 'relay_out'")
    assert status == "pending" and due == pytest.approx(t + 7)
    assert (await h.services.leads.get(other_lead)).card_message_id is not None  # type: ignore[union-attr]
    await worker.run_once(h.bot, now=t + 6)  # still paused
    assert len(copies(h)) == 1
    await worker.run_once(h.bot, now=t + 7)
    assert len(copies(h)) == 2
    await worker.run_once(h.bot, now=t + 10)  # the "delivered" line follows 2 s later
    assert notes(h) == [("✅ Доставлено", owner.message_id)]


async def test_network_error_on_the_prospects_side_is_retried(harness: Harness) -> None:
    h = harness
    _, card = await lead_card(h)
    h.session.network_error("copyMessage", chat_id=PROSPECT, times=2)
    owner = await reply(h, card)
    t = time.time() + 1
    for step in range(6):
        await h.services.delivery.run_once(h.bot, now=t + step * 4)
    assert len(copies(h)) == 3
    assert notes(h) == [("✅ Доставлено", owner.message_id)]
    assert await rows(h, "SELECT status, attempts FROM outbox WHERE kind = 'relay_out'") == [("sent", 3)]


@pytest.mark.parametrize(("description", "note"), [
    ("Bad Request: chat not found", "недоступен"),
    ("Bad Request: message to copy not found", "удалили раньше"),
    ("Bad Request: message can't be copied", "переслать не даёт"),
])
async def test_refused_copies_say_why(harness: Harness, description: str, note: str) -> None:
    h = harness
    _, card = await lead_card(h)
    h.session.fail("copyMessage", error_code=400, description=description, chat_id=PROSPECT)
    owner = await reply(h, card)
    await deliver(h)
    [(text, target)] = notes(h)
    assert note in text and target == owner.message_id


async def test_reply_to_an_erased_card_is_not_sent_and_says_why(harness: Harness) -> None:
    h = harness
    lead_id, card = await lead_card(h)
    async with h.services.db.transaction() as conn:
        await conn.execute("UPDATE leads SET status = 'erased', tg_name = NULL WHERE id = ?", (lead_id,))
    owner = await reply(h, card)
    await deliver(h)
    assert copies(h) == []
    [(text, target)] = notes(h)
    assert "отозвал согласие" in text and target == owner.message_id


async def test_the_same_reply_delivered_twice_is_copied_once(harness: Harness) -> None:
    h = harness
    _, card = await lead_card(h)
    owner = agency_message("Добрый день!", reply_to=card)
    await h.feed(owner)
    await h.feed(owner)  # Telegram sends the update again (the bot restarted before confirming it)
    await deliver(h)
    assert len(copies(h)) == 1


async def test_a_burst_of_replies_gets_one_delivered_line(harness: Harness) -> None:
    h = harness
    _, card = await lead_card(h)
    owners = [await reply(h, card, f"Сообщение {n}") for n in range(3)]
    await deliver(h, rounds=8)
    assert [c.message_id for c in copies(h, PROSPECT)] == [m.message_id for m in owners]  # in order
    assert notes(h) == [("✅ Доставлено", owners[-1].message_id)]
    assert await rows(h, "SELECT status, last_error FROM outbox WHERE kind = 'relay_note' ORDER BY id") == [
        ("cancelled", "superseded"), ("cancelled", "superseded"), ("sent", None)]


async def test_card_found_by_its_tag_when_its_id_is_not_on_record(harness: Harness) -> None:
    """A Reply to a card the bot has no id for (a second copy; the card in the group before it
    became a supergroup) is traced by the card's tag."""
    h = harness
    lead_id, _ = await lead_card(h)
    owner = await reply(h, 987654, replied_text=f"#lead_{lead_id}\nНовая заявка из брифа")
    await deliver(h)
    [copy] = copies(h)
    assert copy.chat_id == PROSPECT and copy.message_id == owner.message_id


async def test_reply_from_another_chat_is_ignored(harness: Harness) -> None:
    h = harness
    _, card = await lead_card(h)
    stranger_group = fakes.group_chat(-1009999)
    await h.feed(fakes.message("привет", from_user=MEMBER, chat=stranger_group,
                               reply_to_message=fakes.bot_message(card, stranger_group)))
    await deliver(h)
    assert copies(h) == [] and notes(h) == []


async def test_group_upgraded_to_a_supergroup_is_followed(harness: Harness) -> None:
    """The service message in the old group moves the agency chat at once: a Reply in the new
    supergroup (to a card traced by its tag) reaches the prospect, and the note goes there."""
    h = harness
    new_id = -1009876543210
    lead_id, _ = await lead_card(h)
    await h.feed(fakes.message(None, from_user=MEMBER, chat=fakes.group_chat(AGENCY_CHAT_ID),
                               migrate_to_chat_id=new_id))
    assert await h.services.agency_chat.get() == new_id
    supergroup = fakes.group_chat(new_id)
    owner = fakes.message("Мы переехали в супергруппу", from_user=MEMBER, chat=supergroup,
                          reply_to_message=fakes.bot_message(5, supergroup, f"#lead_{lead_id}\nНовая заявка"))
    await h.feed(owner)
    await deliver(h)
    [copy] = copies(h, PROSPECT)
    assert (copy.from_chat_id, copy.message_id) == (new_id, owner.message_id)
    [ack] = [c for c in h.session.of("sendMessage") if c.text.startswith("✅")]
    assert ack.chat_id == new_id and reply_target(ack) == owner.message_id
