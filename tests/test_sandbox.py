"""`python -m bot sandbox`: the demo script end to end, the rendering of Bot API calls, the
numbered buttons and the settings that can never come from the environment."""

from __future__ import annotations

import asyncio
import io
import os
import re
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import sandbox
from bot.__main__ import parse_args
from bot.cards import render_redacted_card
from bot.settings import Settings
from bot.standin import Call
from bot.texts import brief as brief_texts
from bot.texts import consent as consent_texts
from bot.texts import faq as faq_texts
from bot.texts import rights as rights_texts

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "sandbox_demo.txt"

# What a careless sandbox would pick up from the environment or .env.
HOSTILE = {
    "BOT_TOKEN": "999:LEAKED-token-from-env",
    "AGENCY_CHAT_ID": "-100999",
    "DB_PATH": "prod.sqlite3",
    "TELEGRAM_API_URL": "http://127.0.0.1:9",
    "OPERATOR_NAME": "LEAKED OPERATOR",
    "FAQ_PATH": "missing.yaml",
    "AGENCY_SEND_INTERVAL": "30",
    "LOG_LEVEL": "DEBUG",
}


def plain(html_text: str) -> str:
    return sandbox.html_to_text(html_text)


def block_after(transcript: str, inp: str) -> str:
    """What the bot printed in response to the input `inp` (up to the next input)."""
    start = ("\n" + transcript).index(f"\n> {inp}\n") + len(inp) + 3
    nxt = transcript.find("\n> ", start)
    return transcript[start: nxt if nxt != -1 else None]


def test_demo_script_end_to_end(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(tuple(HOSTILE))}
    env.update(HOSTILE, PYTHONPATH=str(REPO))
    (tmp_path / ".env").write_text("DB_PATH=dotenv.sqlite3\nOPERATOR_NAME=LEAKED DOTENV\n", encoding="utf-8")
    db = tmp_path / "sb" / "demo.sqlite3"
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "sandbox", "--script", str(DEMO), "--db", str(db)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )
    out = proc.stdout
    assert proc.returncode == 0, proc.stderr + out[-2000:]
    assert "Traceback" not in proc.stderr and "INFO" not in proc.stderr and "DEBUG" not in proc.stderr

    # the key moments
    faq = block_after(out, "смм это чё такое")
    assert "SMM" in faq and faq_texts.UNSURE not in faq and plain(faq_texts.NO_ANSWER) not in faq
    assert plain(faq_texts.NO_ANSWER) in block_after(out, "как испечь торт наполеон")
    assert "> /brief\n" in out and "Согласие на обработку персональных данных" in out
    assert "[1] Согласен  [2] Не согласен" in out
    assert "самозанятая Горбачева Дарья Андреевна" in out
    assert "Шаг 1 из 8." in out and "Шаг 8 из 8." in out and "из 11" not in out
    assert "· отправлен ваш контакт: +79161234567" in out and "Номер сохранён: +7 916 123-45-67" in out
    assert "Продолжим: шаг 4 из 8." in block_after(out, "сколько стоит продвижение?")
    assert "Заявка №1 принята" in out
    card_id = re.search(r"^\[агентство\] #(\d+): #lead_1\n   Новая заявка из брифа$", out, re.M)
    assert card_id, out
    assert "Телефон: +7 916 123-45-67" in out and "E-mail: —" in out
    assert "Сайт и соцсети: https://vk.com/kofe_u_doma" in out
    assert "• Забыла сказать: у нас две точки, вторая у метро" in out  # the addition, on the card
    assert "Статистика" in block_after(out, "agency: /stats")
    # the relay: the owner's Reply to the card reaches the prospect, their answers come back threaded
    owner = block_after(out, "agency: reply 2 Мария, добрый день! Позвоню сегодня после 18:00. "
                             "Пришлите, пожалуйста, меню")
    assert "(сообщение менеджера): Мария, добрый день!" in owner and "Завершить диалог" in owner
    assert re.search(r"^\[агентство\] #\d+ ↩ #(\d+): ✅ Доставлено$", owner, re.M), owner
    answer = block_after(out, "Спасибо, жду звонка")
    assert "💬 Иван (tg://user?id=700001) @ivan_sandbox · заявка №1" in answer and "Передал менеджеру" in answer
    assert "📷 фото" in block_after(out, ":photo меню кофейни")
    assert "2 сообщения переписки" in out  # cleaned by /withdraw
    mydata = out[out.index("\n> /mydata\n"):out.index("\n> /withdraw\n")]
    assert plain(rights_texts.MYDATA_TITLE) in mydata and "Звоните после 18:00" in mydata
    assert plain(rights_texts.WITHDRAW_DONE).split("\n")[0] in out
    redacted = plain(render_redacted_card(1, "withdrawal"))
    assert f"[агентство] ✎ изменено сообщение {card_id.group(1)}: {redacted}" in out
    assert "💬 " + rights_texts.WITHDRAW_ALERT_DONE in out
    assert "> 1  → " + brief_texts.BTN_SUBMIT in out
    assert consent_texts.BTN_MARKETING_YES in out

    # deterministic and clean: no ports, no clock times, no ANSI codes, nothing from env/.env
    assert "127.0.0.1" not in out and "\033[" not in out and "LEAKED" not in out
    assert not re.search(r"\d{2}:\d{2}:\d{2}|\d{2}\.\d{2}\.\d{4}", out)
    assert sandbox.TIME_PLACEHOLDER in out

    # the sandbox file is the given one; no production or default file appeared
    assert db.exists()
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT id, status FROM leads").fetchall() == [(1, "erased")]
    for path in ("prod.sqlite3", "dotenv.sqlite3", "data/bot.sqlite3", "data/sandbox.sqlite3"):
        assert not (tmp_path / path).exists(), path


def test_settings_come_from_nowhere_but_the_sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in HOSTILE.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("MASKED_CARD", "true")
    monkeypatch.setenv("LEAD_RETENTION_DAYS", "1")
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("TIMEZONE=Asia/Tokyo\nPOLICY_URL=https://leak.example\n", encoding="utf-8")
    s = sandbox.sandbox_settings(tmp_path / "x.sqlite3", "http://127.0.0.1:1234")
    assert s.bot_token.get_secret_value() == sandbox.TOKEN
    assert s.agency_chat_id == sandbox.AGENCY_CHAT_ID < 0
    assert s.db_path == tmp_path / "x.sqlite3" and s.telegram_api_url == "http://127.0.0.1:1234"
    assert s.log_level == "WARNING" and s.agency_send_interval == 0 and s.faq_path is None
    for name, field in Settings.model_fields.items():
        if field.is_required() or name in ("db_path", "telegram_api_url", "log_level", "agency_send_interval",
                                           "flood_limit"):
            continue
        assert getattr(s, name) == field.get_default(call_default_factory=True), name


def test_argparse_modes() -> None:
    assert parse_args([]).mode == "run"
    assert parse_args(["run"]).mode == "run"
    args = parse_args(["sandbox", "--script", "demo.txt", "--db", "x.sqlite3", "--fresh"])
    assert (args.mode, args.script, args.db, args.fresh) == ("sandbox", "demo.txt", Path("x.sqlite3"), True)
    assert parse_args(["sandbox"]).db is None  # -> sandbox.DEFAULT_DB, never DB_PATH
    with pytest.raises(SystemExit) as exc:
        parse_args(["--script", "demo.txt"])  # a sandbox option without the sandbox mode
    assert exc.value.code == 2


def test_script_lines_skip_blanks_and_comments() -> None:
    text = "# intro\n\n/start\n  1  \n   # indented comment\nagency: /stats\n"
    assert sandbox.script_lines(text) == ["/start", "1", "agency: /stats"]


def test_html_to_text() -> None:
    html_text = ('<b>Клиент:</b> <a href="tg://user?id=5">Иван &amp; Co</a> &lt;тег&gt; '
                 '<a href="https://kosmmos.ru">https://kosmmos.ru</a> <i>курсив</i> <code>x</code>')
    assert sandbox.html_to_text(html_text) == (
        "Клиент: Иван & Co (tg://user?id=5) <тег> https://kosmmos.ru курсив x")
    assert sandbox.html_to_text("<b>жирный</b>", ansi=True) == "\033[1mжирный\033[22m"


def _call(method: str, result: object = True, **params: object) -> Call:
    return Call(method, dict(params), result=result)


def _sent(chat_id: int, message_id: int, text: str, markup: dict | None = None) -> Call:
    params: dict[str, object] = {"chat_id": chat_id, "text": text, "parse_mode": "HTML"}
    if markup is not None:
        params["reply_markup"] = markup
    return Call("sendMessage", params, result={"message_id": message_id})


def _kb(*rows: list[tuple[str, str]]) -> dict:
    return {"inline_keyboard": [[{"text": t, "callback_data": d} for t, d in row] for row in rows]}


async def test_rendering_and_button_presses(tmp_path: Path) -> None:
    box = sandbox.Sandbox(tmp_path / "unused.sqlite3", io.StringIO())
    r = box.renderer
    user, agency = sandbox.USER_ID, sandbox.AGENCY_CHAT_ID

    lines = r.render([_sent(user, 7, "<b>Согласие</b>\nтекст", _kb([("Согласен", "c:1"), ("Не согласен", "c:0")]))])
    assert lines == ["бот #7: Согласие", "   текст", "   [1] Согласен  [2] Не согласен"]

    # a number presses the button: a callback_query on the message that carried it
    update_id = box.press(2)
    update = box.api.queued[-1]
    assert update["update_id"] == update_id
    query = update["callback_query"]
    assert query["data"] == "c:0" and query["message"]["message_id"] == 7 and query["from"]["id"] == user

    lines = r.render([
        _call("answerCallbackQuery", callback_query_id="1", text="Готово"),
        _call("answerCallbackQuery", callback_query_id="2", text="Устарела", show_alert=True),
        _call("answerCallbackQuery", callback_query_id="3"),
        _call("editMessageReplyMarkup", chat_id=user, message_id=7),
        _call("editMessageText", chat_id=agency, message_id=3, text="Заявка <b>#lead_1</b>: удалено",
              parse_mode="HTML"),
        _call("deleteMessage", chat_id=user, message_id=5),
    ])
    assert lines == [
        "💬 Готово",
        "⚠ окно: Устарела",
        "✎ кнопки сообщения 7 убраны",
        "[агентство] ✎ изменено сообщение 3: Заявка #lead_1: удалено",
        "✖ удалено сообщение 5",
    ]
    assert box.press(1) is None and r.numbers == {}  # the buttons are gone

    # the reply keyboard: "share my number" sends the user's own contact; a text button its text
    reply = {"keyboard": [[{"text": "📱 Поделиться номером", "request_contact": True}], [{"text": "← Назад"}]],
             "resize_keyboard": True}
    lines = r.render([_sent(user, 9, "Ваш номер?", reply)])
    assert lines == ["бот #9: Ваш номер?", "   ⌨ [1] 📱 Поделиться номером", "     [2] ← Назад"]
    box.press(1)
    contact = box.api.queued[-1]["message"]["contact"]
    assert contact["user_id"] == user and contact["phone_number"] == sandbox.USER_PHONE
    box.press(2)
    assert box.api.queued[-1]["message"]["text"] == "← Назад"

    # inline buttons shown later renumber; the reply keyboard under the input keeps a number
    lines = r.render([_call("editMessageReplyMarkup", chat_id=user, message_id=7, reply_markup=_kb([("Да", "y")]))])
    assert lines == ["✎ новые кнопки сообщения 7:", "   [1] Да", "   ⌨ [2] 📱 Поделиться номером", "     [3] ← Назад"]

    lines = r.render([_sent(user, 10, "Номер сохранён", {"remove_keyboard": True})])
    assert lines == ["бот #10: Номер сохранён", "   ⌨ клавиатура убрана"]
    assert [b.text for b in r.numbers.values()] == ["Да"]

    # a file: name, size, the first lines of JSON
    body = ("{\n" + "".join(f'  "k{i}": {i},\n' for i in range(12)) + '  "t": "2026-01-02T03:04:05+00:00"\n}').encode()
    r.hide_times = True
    lines = r.render([_call("sendDocument", {"message_id": 11}, chat_id=user, caption="Ваши данные",
                            document={"filename": "my_data.json", "content": body})])
    assert lines[0] == f"бот #11: 📎 файл my_data.json, {len(body)} байт"
    assert lines[1] == "   Ваши данные" and lines[2] == "   │ {" and lines[3] == '   │   "k0": 0,'
    assert lines[-1] == f"   │ … ещё {len(body.decode().splitlines()) - sandbox.DOC_PREVIEW_LINES} строк"

    # the agency chat has its own prefix; agency input comes from an agency member in that chat
    lines = r.render([_sent(agency, 1, "#lead_1\n<b>Новая заявка</b>")])
    assert lines == ["[агентство] #1: #lead_1", "   Новая заявка"]
    box.api.push_text(sandbox.MEMBER_ID, "/stats", chat=sandbox.AGENCY_CHAT)
    msg = box.api.queued[-1]["message"]
    assert msg["chat"]["id"] == agency and msg["chat"]["type"] == "supergroup" and msg["from"]["id"] != user
    assert msg["entities"][0]["type"] == "bot_command"


def renderer(ansi: bool) -> sandbox.Renderer:
    return sandbox.Renderer(sandbox.Style(ansi), prospect=sandbox.USER_ID, agency_chat=sandbox.AGENCY_CHAT_ID)


def test_ansi_only_for_a_terminal() -> None:
    call = _sent(sandbox.AGENCY_CHAT_ID, 1, "карточка")
    assert renderer(False).render([call]) == ["[агентство] #1: карточка"]
    painted = renderer(True).render([call])
    assert painted == ["\033[35m[агентство] #1: карточка\033[0m"]


def test_unknown_button_number_is_reported(tmp_path: Path) -> None:
    out = io.StringIO()
    box = sandbox.Sandbox(tmp_path / "unused.sqlite3", out)
    assert box.press(3) is None and box.errors == 1
    assert "нет кнопок на экране" in out.getvalue() and "\\3" in out.getvalue()


# --- the sandbox's own commands -------------------------------------------------------------


def play(tmp_path: Path, lines: list[str], db: Path | None = None) -> tuple[int, str]:
    out = io.StringIO()
    code = asyncio.run(sandbox.play(lines, db or tmp_path / "box.sqlite3", out))
    return code, out.getvalue()


def test_media_users_agency_reply_and_unknown_commands(tmp_path: Path) -> None:
    code, out = play(tmp_path, [
        ":photo смотрите, какой у нас зал",
        ":voice",
        ":sticker",
        ":document прайс.pdf",
        "привет бот",
        "как испечь торт наполеон",
        "1",
        "1",
        ":user 2 -",
        "/start",
        ":user 3 @olga",
        "/mydata",
        ":user 1",
        "agency: reply 1 Добрый день! Ответим сегодня",
        "agency: reply 99 такого нет",
        ":dance",
    ])
    # media are offered to a manager (the relay: tests/test_sandbox.py::test_relay_both_ways)
    assert "Фото я сам не разберу. Передать это фото с подписью «смотрите, какой у нас зал» менеджеру?" in \
        block_after(out, ":photo смотрите, какой у нас зал")
    assert "Голосовые я сам не слушаю" in block_after(out, ":voice")
    assert "напишите его" in block_after(out, ":sticker")
    assert "Файлы я сам не открываю. Передать файл «прайс.pdf» менеджеру?" in block_after(out, ":document прайс.pdf")
    assert "· теперь вы — клиент 2: Мария, без ника" in out
    assert "· теперь вы — клиент 3: Олег, @olga" in out
    assert "Здравствуйте" in block_after(out, "/start")  # prospect 2's own chat, no label
    assert "ничего не хранится" in block_after(out, "/mydata")  # prospect 3 has nothing stored
    # prospect 1's question reached the agency chat from @ivan_sandbox, not from the others
    assert "(@ivan_sandbox)" in out and "@olga" not in out.split("> :user 3 @olga")[0]
    assert "в чате агентства нет сообщения #99" in out
    assert "неизвестная команда «:dance»" in out
    assert code == 1  # the unknown command and the missing message count as failed inputs


def test_clock_moves_on_and_the_reminder_comes(tmp_path: Path) -> None:
    code, out = play(tmp_path, ["/brief", "1", "Кофейня у дома", ":clock +2h", ":clock", ":clock +30m"])
    reminder = block_after(out, ":clock +2h")
    assert "часы бота переведены вперёд на 2h" in reminder and "не закончили" in reminder
    assert "не закончили" not in block_after(out, ":clock +30m")  # one reminder per draft
    assert "укажите, на сколько" in block_after(out, ":clock")
    assert code == 1
    assert sandbox.parse_duration("+2h") == 7200 and sandbox.parse_duration("30m") == 1800
    assert sandbox.parse_duration("+1д") == 86400 and sandbox.parse_duration("soon") is None


def test_a_paste_over_4096_characters_goes_in_parts_and_is_joined(tmp_path: Path) -> None:
    text = "Расскажу подробно о нашем проекте. " * 150
    code, out = play(tmp_path, [text])
    assert code == 0 and "· длинный текст: 2 сообщения" in out
    assert "✎ изменено сообщение" in out  # the reply to the first part, updated for the whole text


def test_fresh_keeps_the_old_database_and_a_script_plays_in_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    db = tmp_path / "data" / "sandbox.sqlite3"
    db.parent.mkdir()
    db.write_bytes(b"interactive data")
    assert sandbox.set_aside(db) == Path(str(db) + ".bak")
    assert not db.exists() and Path(str(db) + ".bak").read_bytes() == b"interactive data"
    db.write_bytes(b"interactive again")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "demo.txt").write_text("/start\n", encoding="utf-8")
    assert sandbox.main(parse_args(["sandbox", "--script", "demo.txt", "--fresh"])) == 0
    assert "Здравствуйте" in capsys.readouterr().out
    assert db.read_bytes() == b"interactive again"  # the interactive database was not touched
    assert sorted(p.name for p in db.parent.iterdir()) == ["sandbox.sqlite3", "sandbox.sqlite3.bak"]


def test_relay_both_ways(tmp_path: Path) -> None:
    """A question to a manager, the manager's Reply from the agency chat (text and a photo), the
    prospect's answers threaded there, a file offered and sent, the end of the conversation."""
    code, out = play(tmp_path, [
        "как испечь торт наполеон",
        "1",
        "1",
        "agency: reply 1 Здравствуйте! Тортами не занимаемся. Когда удобно созвониться?",
        "завтра в 10",
        ":photo наша витрина",
        "agency: reply 4 :photo вот пример нашей работы",
        "1",
    ])
    assert code == 0, out
    reply = block_after(out, "agency: reply 1 Здравствуйте! Тортами не занимаемся. Когда удобно созвониться?")
    assert "(сообщение менеджера): Здравствуйте! Тортами не занимаемся." in reply
    assert "[агентство] #3 ↩ #2: ✅ Доставлено" in reply
    answer = block_after(out, "завтра в 10")
    assert "Передал менеджеру ✓ Пока диалог открыт" in answer
    assert "[агентство] #4 ↩ #2: 💬 Иван (tg://user?id=700001) @ivan_sandbox" in answer and "завтра в 10" in answer
    photo = block_after(out, ":photo наша витрина")
    assert "[агентство] #5 ↩ #4: 📷 фото" in photo and "наша витрина" in photo
    manager_photo = block_after(out, "agency: reply 4 :photo вот пример нашей работы")
    assert "(сообщение менеджера): 📷 фото" in manager_photo and "вот пример нашей работы" in manager_photo
    ended = block_after(out, "1  → ✖️ Завершить диалог")
    assert "Диалог с менеджером завершён" in ended and "◽️ Клиент завершил диалог" in ended


def test_owner_works_a_lead_exports_and_broadcasts(tmp_path: Path) -> None:
    """The agency's side in the sandbox: a status from the card, /leads, /export as a CSV
    document, and /broadcast as a Reply to a member's own message (a bot's message refused)."""
    demo = sandbox.script_lines(DEMO.read_text(encoding="utf-8"))
    brief = demo[: demo.index("agency: /stats")]  # up to the lead card and the marketing consent
    out = io.StringIO()

    def lines() -> Iterator[str]:
        yield from [*brief, "agency: /lead 1", "1", "1", "agency: /leads", "agency: /export",
                    "agency: Новость: мы открыли второй офис!"]
        found = re.search(r"· ваше сообщение #(\d+) в чате агентства", out.getvalue())
        assert found, out.getvalue()[-2000:]
        card = re.search(r"^\[агентство\] #(\d+): #lead_1$", out.getvalue(), re.M)
        assert card
        yield from [f"agency: reply {card.group(1)} /broadcast", f"agency: reply {found.group(1)} /broadcast", "1"]

    code = asyncio.run(sandbox.play(lines(), tmp_path / "box.sqlite3", out))
    text = out.getvalue()
    assert code == 0, text[-3000:]
    assert "Статус: 🔧 В работе — Дарья" in text and "• Взять в работу •" in text
    assert "💬 Статус уже такой: 🔧 В работе" in text  # the second press changes nothing
    assert "#lead_1 · Мария · 🔧 В работе" in block_after(text, "agency: /leads")
    export = block_after(text, "agency: /export")
    assert "📎 файл leads-" in export and "│ №;Создана;Статус;" in export and "│ 1;" in export
    assert "Это сообщение бота" in text
    assert "получат 1" in text and "Рассылка №1 завершена" in text and "доставлено: 1" in text
    assert re.search(r"\nбот #\d+: Новость: мы открыли второй офис!\n\n   —\n   Отписаться от новостей: /unsubscribe\n",
                     text), text[-1500:]  # the prospect (a subscriber) got the news with the line
