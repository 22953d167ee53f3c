"""Reminders (exactly one per stalled draft, never after /cancel), draft purge."""

from __future__ import annotations

import time

from aiogram.fsm.storage.base import StorageKey

from bot.maintenance import Maintenance
from tests import fakes
from tests.agency_chat import found_in_files
from tests.brief_flow import ANSWERS, consent
from tests.conftest import Harness, make_settings

HOUR = 3600


def maint(h: Harness, **overrides) -> Maintenance:  # noqa: ANN003
    settings = h.settings.model_copy(update=overrides) if overrides else h.settings
    s = h.services
    return Maintenance(s.maintenance.drafts, settings, s.users, s.stats, s.clock)


def reminders(h: Harness) -> list:
    return [c for c in h.session.of("sendMessage") if "не закончили" in c.text]


async def test_one_reminder_for_a_stalled_draft(harness: Harness) -> None:
    await consent(harness)
    await harness.send(ANSWERS["business"])
    m = maint(harness)
    assert await m.send_reminders(harness.bot, now=time.time() + 60) == 0  # not stalled yet
    assert await m.send_reminders(harness.bot, now=time.time() + HOUR + 1) == 1
    assert reminders(harness)[0].chat_id == harness.user.id
    assert await m.send_reminders(harness.bot, now=time.time() + 2 * HOUR) == 0
    # the user answers, then stalls again: still never a second reminder for this draft
    await harness.send(ANSWERS["name"])
    assert await m.send_reminders(harness.bot, now=time.time() + 3 * HOUR) == 0
    assert len(reminders(harness)) == 1


async def test_no_reminder_after_cancel_or_when_disabled(harness: Harness) -> None:
    await consent(harness)
    await harness.send("/cancel")
    assert await maint(harness).send_reminders(harness.bot, now=time.time() + 2 * HOUR) == 0
    await consent(harness)
    assert await maint(harness, brief_reminder_after=0).send_reminders(harness.bot, now=time.time() + 2 * HOUR) == 0


async def test_no_reminder_to_inactive_user(harness: Harness) -> None:
    await consent(harness)
    await harness.feed(fakes.my_chat_member(fakes.private_chat(harness.user.id), harness.user, "kicked"))
    assert await harness.services.users.is_inactive(harness.user.id)
    assert await maint(harness).send_reminders(harness.bot, now=time.time() + 2 * HOUR) == 0
    await harness.feed(fakes.my_chat_member(fakes.private_chat(harness.user.id), harness.user, "member"))
    assert not await harness.services.users.is_inactive(harness.user.id)


async def test_reminder_403_marks_inactive(harness: Harness) -> None:
    await consent(harness)
    harness.session.forbidden("sendMessage", chat_id=harness.user.id)
    assert await maint(harness).send_reminders(harness.bot, now=time.time() + 2 * HOUR) == 0
    assert await harness.services.users.is_inactive(harness.user.id)


async def test_drafts_purged_after_ttl(harness: Harness) -> None:
    await harness.send("/start promo")  # source-only row
    await consent(harness)
    m = maint(harness)
    assert await m.purge_drafts(now=time.time() + 3600) == 0
    assert await m.purge_drafts(now=time.time() + harness.settings.draft_ttl + 10) == 1
    key = StorageKey(bot_id=fakes.BOT_ID, chat_id=harness.user.id, user_id=harness.user.id)
    assert await harness.dp.storage.get_state(key) is None
    assert await harness.dp.storage.get_data(key) == {}


async def test_a_purged_draft_is_in_no_file_of_the_database(harness: Harness) -> None:
    """Draft expiry erases like a withdrawal: the answers are in neither the database file nor
    its -wal (secure_delete, then a checkpoint)."""
    await consent(harness)
    business = "Пекарня на Садовой, тестовая строка 7731"
    await harness.send(business)
    assert found_in_files(harness.settings.db_path, [business])  # the draft is stored
    assert await maint(harness).purge_drafts(now=time.time() + harness.settings.draft_ttl + 10) == 1
    assert found_in_files(harness.settings.db_path, [business]) == {}


async def test_blocking_unknown_user_stores_nothing(harness: Harness) -> None:
    stranger = fakes.user(4040)
    await harness.feed(fakes.my_chat_member(fakes.private_chat(4040), stranger, "kicked"))
    assert (await harness.services.db.fetchone("SELECT COUNT(*) FROM inactive_users"))[0] == 0


def test_settings_defaults(tmp_path) -> None:  # noqa: ANN001
    s = make_settings(tmp_path)
    assert s.brief_reminder_after == 3600 and s.draft_ttl == 7 * 24 * 3600
