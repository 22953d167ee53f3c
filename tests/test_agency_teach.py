"""Teaching the FAQ from the agency chat: the picker under a question card and under /stats, the
overlay next to the database, retraining in a child process while the bot runs, a failed
training keeping the old model, /taught with deletion, erasure with the question, and
`python -m faq export-additions`."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.app import create_dispatcher
from bot.faq_service import overlay_path
from bot.settings import Settings
from faq import load_corpus
from faq.__main__ import main as faq_main
from tests import fakes
from tests.agency_chat import ask_manager
from tests.agency_flow import STAFF, agency_calls, answer_text, data_of, deliver, keyboard, staff_press, staff_says
from tests.brief_flow import last_text
from tests.conftest import AGENCY_CHAT_ID, Harness, make_settings
from tests.test_withdraw import withdraw

WEEKENDS = "работаете ли вы по выходным"  # no answer today; taught to "Контакты"
CRYPTO = "можно ли оплатить криптой"  # no answer today; taught as "not about us"
OFFTOPIC_EXAMPLE = "как вывести сайт в топ яндекса"  # an example of faq/offtopic.yaml


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path, agency_send_interval=0)


def no_answer(calls: list) -> bool:  # noqa: ANN001
    return "нет готового ответа" in last_text(calls)


async def question_card(h: Harness, text: str, user: fakes.User | None = None) -> tuple[int, object]:
    """A question to a manager, delivered: (its message id, the sendMessage call)."""
    await ask_manager(h, text, user)
    await deliver(h)
    card = [c for c in agency_calls(h) if c.__api_method__ == "sendMessage" and "Вопрос менеджеру" in c.text][-1]
    return h.session.result_of(card).message_id, card


async def open_picker(h: Harness, data: str, message_id: int) -> tuple[int, object]:
    calls = await staff_press(h, data, message_id)
    picker = [c for c in calls if c.__api_method__ == "sendMessage"][-1]
    return h.session.result_of(picker).message_id, picker


async def pick(h: Harness, picker_id: int, picker: object, title: str) -> list:  # noqa: ANN001
    """Pages through the picker (edited in place) to the topic and presses it."""
    for _ in range(10):
        labels = [b.text for b in keyboard(picker)]
        if title in labels:
            return await staff_press(h, data_of(picker, title), picker_id)
        calls = await staff_press(h, data_of(picker, "▶"), picker_id)
        edits = [c for c in calls if c.__api_method__ == "editMessageText"]
        assert edits and edits[-1].message_id == picker_id
        picker = edits[-1]
    raise AssertionError(f"{title} is on no page")


async def test_teaching_from_a_card_and_from_stats_retrains_the_running_bot(harness: Harness, tmp_path: Path,
                                                                             bot, session) -> None:  # noqa: ANN001
    h = harness
    assert no_answer(await h.send(WEEKENDS))
    card_id, card = await question_card(h, WEEKENDS)
    assert [b.text for b in keyboard(card)] == ["➕ Добавить в FAQ"]
    picker_id, picker = await open_picker(h, data_of(card, "Добавить в FAQ"), card_id)
    assert picker.reply_parameters.message_id == card_id
    assert "стр. 1 из 4" in picker.text and WEEKENDS not in picker.text  # the card above shows the question
    labels = [b.text for b in keyboard(picker)]
    assert labels[:2] == ["Что такое SMM", "Почему именно соцсети"] and "🚫 Не про нас" in labels
    calls = await pick(h, picker_id, picker, "Контакты")
    edit = [c for c in calls if c.__api_method__ == "editMessageText"][-1]
    assert "→ «Контакты». Переобучаю модель" in edit.text and not keyboard(edit)

    assert no_answer(await h.send(CRYPTO, from_user=fakes.user(2002)))
    stats = (await staff_says(h, "/stats"))[-1]
    assert CRYPTO in stats.text and WEEKENDS not in stats.text  # taught from its card: no longer unanswered
    number = next(line.split(".")[0] for line in stats.text.splitlines() if CRYPTO in line)
    picker_id, picker = await open_picker(h, data_of(stats, f"➕ {number}"), h.session.result_of(stats).message_id)
    assert CRYPTO in picker.text
    await staff_press(h, data_of(picker, "Не про нас"), picker_id)

    old = h.services.faq.current
    results = await h.services.faq.sync()  # the background trainer's step: a child process trains
    assert [r.error for r in results] == [None] and h.services.faq.current is not old
    await deliver(h)
    notice = [c.text for c in agency_calls(h) if c.__api_method__ == "sendMessage"][-1]
    assert "✅ Бот научился 2 новым фразам" in notice and "В работе: 2" in notice
    overlay = overlay_path(h.settings.db_path)
    assert overlay.parent == h.settings.db_path.parent
    data = yaml.safe_load(overlay.read_text(encoding="utf-8"))
    assert data == {"entries": {"contacts": [WEEKENDS]}, "offtopic": [CRYPTO]}
    answer = last_text(await h.send(WEEKENDS, from_user=fakes.user(2003)))
    assert h.services.faq.corpus.by_id["contacts"].question in answer
    assert CRYPTO not in (await staff_says(h, "/stats"))[-1].text  # no longer unanswered

    # a restart loads the model with the overlay (trained already: no training at start)
    settings2 = make_settings(tmp_path, agency_send_interval=0)
    dp = create_dispatcher(settings2, run_workers=False)
    await dp.emit_startup(bot=bot, **dp.workflow_data)
    h2 = Harness(dp, bot, session, settings2)
    try:
        assert h2.services.faq.corpus.by_id["contacts"].question in last_text(await h2.send(WEEKENDS))
        listing = (await staff_says(h2, "/taught"))[-1]
        assert "Чему бот научился" in listing.text and "«Контакты»" in listing.text and "не про нас" in listing.text
        assert WEEKENDS not in listing.text  # a question card's phrasing is named by the card's number
        assert "#вопрос_" in listing.text and "«#" not in listing.text
        assert [b.text for b in keyboard(listing)] == ["🗑 1", "🗑 2"]
        listing_id = h.session.result_of(listing).message_id
        calls = await staff_press(h2, data_of(listing, "🗑 1"), listing_id)
        assert answer_text(calls).startswith("Удалено")
        edit = [c for c in calls if c.__api_method__ == "editMessageText"][-1]
        assert [b.text for b in keyboard(edit)] == ["🗑 1"]
        calls = await staff_press(h2, data_of(edit, "🗑 1"), listing_id)
        assert "Пока ничего" in [c for c in calls if c.__api_method__ == "editMessageText"][-1].text
        results = await h2.services.faq.sync()  # nothing taught: the packaged model, no training
        assert [r.error for r in results] == [None]
        assert not overlay.exists()
        assert no_answer(await h2.send(WEEKENDS, from_user=fakes.user(2004)))
    finally:
        await dp.emit_shutdown(bot=bot, **dp.workflow_data)


async def test_a_failed_training_keeps_the_old_model_and_says_why(harness: Harness) -> None:
    h = harness
    assert no_answer(await h.send(OFFTOPIC_EXAMPLE))
    stats = (await staff_says(h, "/stats"))[-1]
    picker_id, picker = await open_picker(h, data_of(stats, "➕ 1"), h.session.result_of(stats).message_id)
    await pick(h, picker_id, picker, "Сколько стоит продвижение")
    old = h.services.faq.current
    results = await h.services.faq.sync()
    assert [r.error for r in results] == ["conflict"] and h.services.faq.current is old
    await deliver(h)
    notice = [c.text for c in agency_calls(h) if c.__api_method__ == "sendMessage"][-1]
    assert notice.startswith("❌ Не удалось добавить") and "среди примеров «не про нас»" in notice
    assert "Бот отвечает как раньше" in notice
    assert no_answer(await h.send(OFFTOPIC_EXAMPLE, from_user=fakes.user(2002)))
    assert not overlay_path(h.settings.db_path).exists()
    listing = (await staff_says(h, "/taught"))[-1].text
    assert "не добавлено: эта фраза уже есть в другой теме" in listing
    assert await h.services.faq.sync() == []  # a failed phrasing is not retried by itself


async def test_a_training_that_takes_too_long_is_stopped(tmp_path: Path, bot, session) -> None:  # noqa: ANN001
    settings = make_settings(tmp_path, agency_send_interval=0, faq_train_timeout=0.05)
    dp = create_dispatcher(settings, run_workers=False)
    await dp.emit_startup(bot=bot, **dp.workflow_data)
    h = Harness(dp, bot, session, settings)
    try:
        card_id, card = await question_card(h, WEEKENDS)
        picker_id, picker = await open_picker(h, data_of(card, "Добавить в FAQ"), card_id)
        await pick(h, picker_id, picker, "Контакты")
        old = h.services.faq.current
        assert [r.error for r in await h.services.faq.sync()] == ["timeout"]
        assert h.services.faq.current is old
        await deliver(h)
        assert "обучение заняло слишком много времени" in agency_calls(h)[-1].text
        assert no_answer(await h.send(WEEKENDS, from_user=fakes.user(2002)))
    finally:
        await dp.emit_shutdown(bot=bot, **dp.workflow_data)


async def test_teaching_buttons_guard_against_stale_double_and_foreign_presses(harness: Harness) -> None:
    h = harness
    card_id, card = await question_card(h, WEEKENDS)
    data = data_of(card, "Добавить в FAQ")
    calls = await h.press(data, from_user=STAFF)  # from a private chat
    assert "устарела" in answer_text(calls) and not [c for c in calls if c.__api_method__ == "sendMessage"]
    picker_id, picker = await open_picker(h, data, card_id)
    calls = await staff_press(h, data_of(picker, "Отмена"), picker_id)
    assert [c.text for c in calls if c.__api_method__ == "editMessageText"] == ["Не добавлено."]
    picker_id, picker = await open_picker(h, data, card_id)
    entry = data_of(picker, "Что такое SMM")
    await staff_press(h, entry, picker_id)
    calls = await staff_press(h, entry, picker_id)  # a double press
    assert answer_text(calls) == "Этот вопрос уже добавлен в FAQ."
    assert len(await h.services.db.fetchall("SELECT * FROM faq_additions")) == 1
    calls = await staff_press(h, data, card_id)  # the card's button again
    assert answer_text(calls) == "Этот вопрос уже добавлен в FAQ."
    calls = await staff_press(h, "tf:u:999:s:0", card_id)  # an unanswered question that is gone
    assert "Этого вопроса уже нет" in answer_text(calls)
    card_id, card = await question_card(h, CRYPTO, fakes.user(2002))
    picker_id, picker = await open_picker(h, data_of(card, "Добавить в FAQ"), card_id)
    calls = await staff_press(h, data_of(picker, "Что такое SMM").rsplit(":", 1)[0] + ":9999", picker_id)
    assert answer_text(calls) == "Такой темы в FAQ больше нет. Откройте список тем заново."


async def test_a_phrasing_taught_from_a_question_goes_with_the_askers_withdrawal(harness: Harness) -> None:
    h = harness
    card_id, card = await question_card(h, WEEKENDS)
    picker_id, picker = await open_picker(h, data_of(card, "Добавить в FAQ"), card_id)
    await pick(h, picker_id, picker, "Контакты")
    assert len(await h.services.db.fetchall("SELECT * FROM faq_additions")) == 1
    await withdraw(h)
    assert await h.services.db.fetchall("SELECT * FROM faq_additions") == []
    log = await h.services.db.fetchone("SELECT categories FROM deletion_log ORDER BY id DESC LIMIT 1")
    assert "faq_phrasings_from_questions" in log["categories"]
    await deliver(h)
    picker_press = await staff_press(h, data_of(card, "Добавить в FAQ"), card_id)
    assert "Этого вопроса уже нет" in answer_text(picker_press)
    assert await h.services.faq.sync() == []  # nothing was trained with it: nothing to undo


def test_export_additions_writes_yaml_to_merge(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    additions = tmp_path / "bot-faq-additions.yaml"
    additions.write_text(yaml.safe_dump({"entries": {"contacts": [WEEKENDS, "Контакты"]}, "offtopic": [CRYPTO]},
                                        allow_unicode=True), encoding="utf-8")
    out = tmp_path / "merge.yaml"
    assert faq_main(["export-additions", "--additions", str(additions), "-o", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert "  contacts:  # Контакты\n  - " + WEEKENDS in text
    assert yaml.safe_load(text) == {"entries": {"contacts": [WEEKENDS]}, "offtopic": [CRYPTO]}  # the title is known
    corpus = load_corpus(None, out)  # valid as an additions file of the sources it is merged into
    assert (WEEKENDS, "contacts") in corpus.additions
    assert faq_main(["export-additions", "--additions", str(tmp_path / "missing.yaml")]) == 1
    assert AGENCY_CHAT_ID < 0
