"""End to end: `python -m bot` against the Bot API stand-in. The owner replies to a lead card in
the agency chat, the prospect gets the reply from the bot and answers, and the answer arrives in
the agency chat threaded under the card (a Reply to the owner's Reply to it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.standin import BOT_USER, BotAPIStandIn, Call
from storage.consent import ConsentRepo, ConsentText
from storage.db import Database
from storage.leads import LeadsRepo
from storage.outbox import OutboxRepo
from tests.e2e import AGENCY, start_bot, stop_bot
from tests.fakes import BOT_TOKEN

USER = 7001
MEMBER = 7101
AGENCY_CHAT = {"id": AGENCY, "type": "supergroup", "title": "kosmmos — заявки"}
SAID = ("Завтра в 10 удобно", "вот наша витрина")


async def seed_lead(path: Path) -> None:
    """A lead submitted before this start: its card waits in the outbox."""
    db = Database(path)
    await db.open()
    try:
        consent = await ConsentRepo(db).grant_pd(USER, ConsentText("v1", "Согласие"))
        await LeadsRepo(db, OutboxRepo(db)).submit(
            user_id=USER, submit_key="e2e-relay", consent_event_id=consent, source=None,
            fields={"tg_name": "Иван", "username": "ivan", "business": "Кофейня", "name": "Иван",
                    "contact_method": "tg"},
        )
    finally:
        await db.close()


def to(chat_id: int, method: str = "sendMessage") -> Any:
    return lambda c: c.method == method and c.params.get("chat_id") == chat_id


def replied_to(call: Call) -> int | None:
    params = call.params.get("reply_parameters") or {}
    return params.get("message_id")


async def test_owner_replies_to_a_card_and_the_answer_comes_back_threaded(tmp_path: Path) -> None:
    await seed_lead(tmp_path / "bot.sqlite3")
    api = BotAPIStandIn(BOT_TOKEN, strict_messages=True)
    await api.start()
    proc = await start_bot(api, tmp_path, AGENCY_SEND_INTERVAL="0")
    try:
        card = await api.wait_for(lambda c: to(AGENCY)(c) and c.params["text"].startswith("#lead_1"), 30)
        card_id = card.result["message_id"]
        card_message = {"message_id": card_id, "date": card.result["date"], "chat": AGENCY_CHAT,
                        "from": BOT_USER, "text": "#lead_1\nНовая заявка из брифа"}

        # The owner answers with a Reply to the card.
        api.push_text(MEMBER, "Здравствуйте, Иван! Когда удобно созвониться?", first_name="Дарья",
                      username="kosmmos_manager", chat=AGENCY_CHAT, reply_to=card_message)
        owner_id = api.last_message_id(AGENCY)
        copy = await api.wait_for(to(USER, "copyMessage"), 20)
        assert (copy.params["from_chat_id"], copy.params["message_id"]) == (AGENCY, owner_id)
        [[end]] = copy.params["reply_markup"]["inline_keyboard"]
        assert "Завершить диалог" in end["text"]
        assert api.message(USER, copy.result["message_id"])["text"].startswith("Здравствуйте, Иван!")
        intro = await api.wait_for(to(USER), 20)
        assert "(Иван)" in intro.params["text"] and "@ivan" in intro.params["text"]
        ack = await api.wait_for(lambda c: to(AGENCY)(c) and c.params["text"].startswith("✅"), 20)
        assert replied_to(ack) == owner_id

        # The prospect answers, then sends a photo.
        api.push_text(USER, SAID[0])
        told = await api.wait_for(lambda c: to(USER)(c) and "Передал менеджеру" in c.params["text"], 20)
        assert told
        answer = await api.wait_for(lambda c: to(AGENCY)(c) and SAID[0] in c.params["text"], 20)
        assert answer.params["text"].startswith('💬 <a href="tg://user?id=7001">Иван</a> @ivan · заявка №1')
        assert replied_to(answer) == owner_id  # under the owner's Reply, itself under the card
        api.push_media(USER, "photo", caption=SAID[1])
        photo = await api.wait_for(to(AGENCY, "copyMessage"), 20)
        assert replied_to(photo) == answer.result["message_id"]
        shown = api.message(AGENCY, photo.result["message_id"])
        assert shown["media"] == "photo" and shown["caption"].endswith(SAID[1])
        code, err = await stop_bot(proc)
        assert code == 0, err
        for secret in (*SAID, "Иван", "Когда удобно"):
            assert secret not in err  # logs carry ids and kinds only
    finally:
        if proc.returncode is None:
            await stop_bot(proc)
        await api.stop()
