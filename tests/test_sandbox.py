"""`python -m bot sandbox`: the demo script end to end, the rendering of Bot API calls, the
numbered buttons and the settings that can never come from the environment."""

from __future__ import annotations

import io
import os
import re
import sqlite3
import subprocess
import sys
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
    start = transcript.index(f"\n> {inp}\n") + len(inp) + 4
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
    assert "Шаг 1 из 11." in out and "Шаг 11 из 11." in out
    assert "· отправлен ваш контакт: +79161234567" in out and "Номер сохранён: +79161234567" in out
    assert "Заявка №1 принята" in out
    card_id = re.search(r"^\[агентство\] #(\d+): #lead_1\n   Новая заявка из брифа$", out, re.M)
    assert card_id, out
    assert "Телефон: +79161234567" in out and "E-mail: maria@coffee.ru" in out
    assert "Статистика" in block_after(out, "agency: /stats")
    mydata = out[out.index("\n> /mydata\n"):out.index("\n> /withdraw\n")]
    assert plain(rights_texts.MYDATA_TITLE) in mydata and "maria@coffee.ru" in mydata
    assert plain(rights_texts.WITHDRAW_DONE).split("\n")[0] in out
    redacted = plain(render_redacted_card(1, "withdrawal"))
    assert f"[агентство] ✎ изменено сообщение {card_id.group(1)}: {redacted}" in out
    assert "💬 " + rights_texts.WITHDRAW_ALERT_DONE in out
    assert "> 12  → " + brief_texts.BTN_SUBMIT in out
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
    update_id = box._press(2)
    update = box.api._updates[-1]
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
    assert box._press(1) is None and r.numbers == {}  # the buttons are gone

    # the reply keyboard: "share my number" sends the user's own contact; a text button its text
    reply = {"keyboard": [[{"text": "📱 Поделиться номером", "request_contact": True}], [{"text": "← Назад"}]],
             "resize_keyboard": True}
    lines = r.render([_sent(user, 9, "Ваш номер?", reply)])
    assert lines == ["бот #9: Ваш номер?", "   ⌨ [1] 📱 Поделиться номером", "     [2] ← Назад"]
    box._press(1)
    contact = box.api._updates[-1]["message"]["contact"]
    assert contact["user_id"] == user and contact["phone_number"] == sandbox.USER_PHONE
    box._press(2)
    assert box.api._updates[-1]["message"]["text"] == "← Назад"

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
    msg = box.api._updates[-1]["message"]
    assert msg["chat"]["id"] == agency and msg["chat"]["type"] == "supergroup" and msg["from"]["id"] != user
    assert msg["entities"][0]["type"] == "bot_command"


def test_ansi_only_for_a_terminal() -> None:
    call = _sent(sandbox.AGENCY_CHAT_ID, 1, "карточка")
    assert sandbox.Renderer(sandbox.Style(False)).render([call]) == ["[агентство] #1: карточка"]
    painted = sandbox.Renderer(sandbox.Style(True)).render([call])
    assert painted == ["\033[35m[агентство] #1: карточка\033[0m"]


def test_unknown_button_number_is_reported(tmp_path: Path) -> None:
    out = io.StringIO()
    box = sandbox.Sandbox(tmp_path / "unused.sqlite3", out)
    assert box._press(3) is None and box.errors == 1
    assert "нет кнопок на экране" in out.getvalue() and "\\3" in out.getvalue()
