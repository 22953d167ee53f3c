"""/stats in the agency chat: titles not slugs, leads by period and source, the funnel with
conversion per step and per source, FAQ topics, unanswered questions with "add to FAQ"."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import Settings
from tests import fakes
from tests.agency_flow import card_message, data_of, deliver, keyboard, make_lead, staff_press, staff_says
from tests.conftest import Harness, make_settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path, agency_send_interval=0)


async def stats(h: Harness, args: str = "") -> tuple[str, list]:
    calls = await staff_says(h, f"/stats {args}".strip())
    return calls[-1].text, keyboard(calls[-1])


def section(text: str, title: str) -> str:
    """The lines of a /stats section, up to the next blank line."""
    start = text.index(title)
    end = text.find("\n\n", start)
    return text[start:] if end < 0 else text[start:end]


async def test_stats_shows_faq_topics_by_title(harness: Harness) -> None:
    h = harness
    await h.send("смм это чё такое")
    await h.send("что такое smm", from_user=fakes.user(2002))
    text, _ = await stats(h)
    topics = section(text, "Темы FAQ")
    assert "2 — " in topics
    title = h.services.faq.corpus.by_id["what_is_smm"].title
    assert title in topics and "what_is_smm" not in text


async def test_stats_leads_by_period_and_source_and_the_funnel(harness: Harness) -> None:
    h = harness
    await h.send("/start vk_ads", from_user=fakes.user(2001))
    await h.send("/start vk_ads", from_user=fakes.user(2002))
    await h.send("/start", from_user=fakes.user(2003))
    first = await make_lead(h, user_id=2001, source="vk_ads")
    second = await make_lead(h, user_id=2002, source="vk_ads")
    await make_lead(h, user_id=2003, source=None)
    old = await make_lead(h, user_id=2004, source="vk_ads")
    await h.services.db.execute("UPDATE leads SET created_at = '2020-01-01T00:00:00+00:00' WHERE id = ?", (old,))
    await deliver(h)
    await staff_press(h, data_of(card_message(h, first)[1], "Взять в работу"), card_message(h, first)[0])
    await staff_press(h, data_of(card_message(h, second)[1], "Успех"), card_message(h, second)[0])

    text, _ = await stats(h)
    assert "Статистика за 30 дней" in text
    assert "за период 3 · сегодня 3 · 7 дней 3 · 30 дней 3 · всего 4" in text
    sources = section(text, "Заявки и /start по источникам")
    assert "vk_ads — /start 2, заявок 2" in sources and "прямой переход — /start 1, заявок 1" in sources
    funnel = section(text, "Воронка</b> (")
    assert "/start: 3\n" in funnel and "заявка: 3 (" in funnel
    assert "в работе: 2 (67%)" in funnel and "успех: 1 (50%)" in funnel  # success is in work too
    by_source = section(text, "Воронка по источникам")
    assert "vk_ads: 2 → 0 → 0 → 0 → 2 → 2 → 1 (заявка/старт 100%)" in by_source
    assert "прямой переход: 1 → 0 → 0 → 0 → 1 → 0 → 0" in by_source


async def test_stats_counts_no_user(harness: Harness) -> None:
    h = harness
    await h.send("/start vk_ads")
    await h.send("смм это чё такое")
    await stats(h)
    for table in ("stats_events", "faq_unanswered"):
        columns = [r["name"] for r in await h.services.db.fetchall(f"PRAGMA table_info({table})")]
        assert not any("user" in c for c in columns)
    rows = await h.services.db.fetchall("SELECT * FROM stats_events")
    assert {r["kind"] for r in rows} == {"start", "topic", "faq"}
    assert all(str(h.user.id) not in " ".join(str(v) for v in tuple(r)) for r in rows)


async def test_unanswered_questions_listed_with_add_buttons_but_not_small_talk(harness: Harness) -> None:
    h = harness
    await h.send("какая завтра погода в Москве")
    await h.send("какая завтра погода в Москве", from_user=fakes.user(2002))
    await h.send("привет")  # a greeting is a conversation move, not an unanswered question
    await h.send("спасибо!")
    text, buttons = await stats(h)
    unanswered = section(text, "Вопросы без ответа")
    assert "1. какая завтра погода в Москве — 2" in unanswered
    assert "привет" not in unanswered.lower() and "спасибо" not in unanswered.lower()
    assert [b.text for b in buttons] == ["➕ 1"]
    assert buttons[0].callback_data.startswith("tf:u:")


async def test_stats_period_and_bad_arguments(harness: Harness) -> None:
    h = harness
    await make_lead(h)
    text, _ = await stats(h, "7")
    assert "Статистика за 7 дней" in text
    text, _ = await stats(h, "1")
    assert "Статистика за 1 день" in text
    for bad in ("0", "abc", "100000"):
        text, _ = await stats(h, bad)
        assert "Число дней" in text


async def test_stats_fits_one_message_with_long_questions(harness: Harness) -> None:
    h = harness
    for n in range(12):
        await h.send(f"вопрос {n} " + "о погоде в горах и на море " * 10, from_user=fakes.user(3000 + n))
    for n in range(12):
        await h.send(f"/start src_{n}_{'x' * 50}", from_user=fakes.user(4000 + n))
    text, buttons = await stats(h)
    assert len(text) <= 4096 and len(buttons) == 10


async def test_the_funnel_follows_a_prospect_from_a_deep_link_to_success(harness: Harness) -> None:
    from tests.brief_flow import submit_brief

    h = harness
    await h.send("/start vk_ads")
    await h.send("смм это чё такое")
    await h.send("а сколько стоит продвижение?")  # a second question the same day: one person, counted once
    await h.send("привет", from_user=fakes.user(2002))  # a greeting is not a question to the FAQ
    await h.send("/start", from_user=fakes.user(2002))
    await submit_brief(h)
    await deliver(h)
    lead = (await h.services.db.fetchone("SELECT id, source FROM leads"))
    assert lead["source"] == "vk_ads"
    message_id, card = card_message(h, lead["id"])
    await staff_press(h, data_of(card, "Успех"), message_id)
    text, _ = await stats(h)
    funnel = section(text, "Воронка</b> (")
    for line in ("/start: 2\n", "вопрос в FAQ: 1 (50%)", "начали бриф: 1 (100%)", "согласие: 1 (100%)",
                 "заявка: 1 (100%)", "в работе: 1 (100%)", "успех: 1 (100%)"):
        assert line in funnel
    by_source = section(text, "Воронка по источникам")
    assert "vk_ads: 1 → 1 → 1 → 1 → 1 → 1 → 1 (заявка/старт 100%)" in by_source
    assert "прямой переход: 1 → 0 → 0 → 0 → 0 → 0 → 0" in by_source
    rows = await h.services.db.fetchall("SELECT kind, source, SUM(count) AS n FROM stats_events "
                                        "WHERE kind != 'topic' GROUP BY kind, source ORDER BY kind, source")
    assert [tuple(r) for r in rows] == [("brief", "vk_ads", 1), ("consent", "vk_ads", 1), ("faq", "vk_ads", 1),
                                        ("start", "direct", 1), ("start", "vk_ads", 1)]


async def test_a_person_counts_once_a_day_per_step(harness: Harness) -> None:
    h = harness
    for _ in range(3):
        await h.send("/start promo")
    assert await h.services.stats.counts("start") == {"promo": 1}
    h.services.clock.advance(86400)  # the next day
    await h.send("/start promo")
    assert await h.services.stats.counts("start") == {"promo": 2}


async def test_a_step_with_more_people_than_the_one_before_shows_no_percentage(harness: Harness) -> None:
    """Three people ask the FAQ, one of them after /start: the step is not a share of /start."""
    h = harness
    await h.send("/start")
    for uid in (2001, 2002, 2003):
        await h.send("сколько стоит продвижение", from_user=fakes.user(uid))
    text, _ = await stats(h)
    funnel = section(text, "Воронка")
    faq_line = next(line for line in funnel.splitlines() if line.startswith("вопрос в FAQ"))
    assert faq_line.endswith("(—)") and "%" not in faq_line, funnel
