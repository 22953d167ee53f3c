"""A handler that fails still tells the person something: a message in their chat."""

from __future__ import annotations

from bot.texts import common as texts
from tests import fakes
from tests.conftest import AGENCY_CHAT_ID, Harness


async def test_failed_button_handler_tells_the_user_in_a_message(harness: Harness) -> None:
    # "Вопросы об SMM": the handler answers the button, then its message fails (Telegram 500).
    harness.session.fail("sendMessage", error_code=500, description="Internal Server Error")
    calls = await harness.press("m:faq")
    sent = [c for c in calls if c.__api_method__ == "sendMessage" and c.chat_id == harness.user.id]
    assert len(sent) == 2  # the topics (failed), then the apology
    assert sent[-1].text == texts.ERROR_APOLOGY


async def test_failed_agency_command_is_apologised_for_in_the_agency_chat(harness: Harness) -> None:
    owner = fakes.user(5001, "Дарья", "owner")
    harness.session.fail("sendMessage", error_code=500, description="Internal Server Error")
    calls = await harness.send("/stats", from_user=owner, chat=fakes.group_chat(AGENCY_CHAT_ID))
    assert harness.texts(calls)[-1] == texts.ERROR_APOLOGY
    assert all(c.chat_id == AGENCY_CHAT_ID for c in calls if c.__api_method__ == "sendMessage")

