"""One update aiogram cannot read (malformed, or of a type it does not know) is skipped once,
logged by its id and error class only; everyone else is answered."""

from __future__ import annotations

import time
from pathlib import Path

from bot.standin import BotAPIStandIn
from tests.drive import bot_running
from tests.e2e import stop_bot
from tests.fakes import BOT_TOKEN

SECRET_TEXT = "Тайный текст Гортензии 4411"
SECRET_NAME = "Гортензия"


def _malformed(api: BotAPIStandIn, user_id: int) -> int:
    """A message whose chat is not an object: aiogram's Update model rejects it."""
    user = {"id": user_id, "is_bot": False, "first_name": SECRET_NAME, "username": "gortenzia_q"}
    return api.push_update(message={"message_id": 5, "date": int(time.time()), "from": user,
                                    "chat": "not a chat", "text": SECRET_TEXT})


def _unknown_type(api: BotAPIStandIn, user_id: int) -> int:
    """An update of a type this aiogram does not know (a newer Bot API)."""
    user = {"id": user_id, "is_bot": False, "first_name": SECRET_NAME}
    return api.push_update(future_event={"from": user, "text": SECRET_TEXT})


async def test_bad_updates_are_skipped_once_and_others_answered(tmp_path: Path) -> None:
    api = BotAPIStandIn(BOT_TOKEN)
    # One batch, waiting before the bot starts: good, bad, unknown, good.
    api.push_text(7201, "/start", first_name="Аркадий")
    bad = _malformed(api, 7202)
    unknown = _unknown_type(api, 7203)
    api.push_text(7204, "/start", first_name="Борислав")
    async with bot_running(tmp_path, api, LOG_LEVEL="DEBUG") as (api, proc):
        for user in (7201, 7204):
            await api.wait_for(lambda c, u=user: c.method == "sendMessage" and c.params.get("chat_id") == u, 20)
        # A malformed update last in its batch: aiogram confirms only the updates it was given,
        # so the bot must confirm this one itself.
        api.push_text(7205, "/start")
        last_bad = _malformed(api, 7206)
        await api.wait_for(lambda c: c.method == "sendMessage" and c.params.get("chat_id") == 7205, 20)
        await api.wait_for(lambda c: c.method == "getUpdates" and (c.params.get("offset") or 0) > last_bad, 20)
        api.push_text(7207, "/start")
        await api.wait_for(lambda c: c.method == "sendMessage" and c.params.get("chat_id") == 7207, 20)
        code, err = await stop_bot(proc)
    assert code == 0, err
    served = [i for c in api.of("getUpdates") for i in (c.result or [])]
    for update_id in (bad, unknown, last_bad):
        assert served.count(update_id) == 1, f"update {update_id} was fetched {served.count(update_id)} times"
        assert f"update {update_id} skipped" in err
    assert "Failed to fetch updates" not in err
    assert SECRET_TEXT not in err and SECRET_NAME not in err and "gortenzia" not in err
    assert "Аркадий" not in err and "Борислав" not in err
    assert "Traceback" not in err and "Detected unknown update type" not in err
