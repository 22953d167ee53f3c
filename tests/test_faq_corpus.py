"""Corpus loading/validation (faq/corpus.py) and content rules of faq/corpus.yaml."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from faq.corpus import (
    DEFAULT_CORPUS_PATH,
    MAX_ANSWER_CHARS,
    Corpus,
    CorpusError,
    Entry,
    load_corpus,
)

REQUIRED_IDS = [
    "what_is_smm", "why_social", "based_on", "vs_search_ads", "goals", "what_is_smm_manager",
    "manager_duties", "time_to_results", "metrics",
    "goal_traffic", "goal_promotions", "goal_search_results", "goal_reach", "goal_values",
    "goal_image", "goal_negative_reviews", "goal_review_analytics", "goal_cross_marketing",
    "goal_competitors", "goal_hiring",
    "privacy_withdraw", "privacy_data_collected", "privacy_update", "privacy_unsubscribe",
    "privacy_third_parties",
    "pricing", "how_to_order", "contacts",
]

META_NOTE = "* Meta признана экстремистской организацией и запрещена в РФ"


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    return load_corpus()


# ---------------------------------------------------------------- real corpus

def test_default_path_is_packaged_file():
    assert DEFAULT_CORPUS_PATH == Path(__file__).resolve().parents[1] / "faq" / "corpus.yaml"
    assert load_corpus(DEFAULT_CORPUS_PATH).entries == load_corpus().entries


def test_required_ids_present(corpus):
    missing = [i for i in REQUIRED_IDS if i not in corpus.by_id]
    assert not missing


def test_types_and_order(corpus):
    assert isinstance(corpus.entries, tuple)
    assert corpus.entries[0].id == "what_is_smm"  # entry order = menu order
    for e in corpus.entries:
        assert isinstance(e, Entry)
        assert isinstance(e.phrasings, tuple) and len(e.phrasings) >= 3
        assert corpus.by_id[e.id] is e
    with pytest.raises(AttributeError):
        corpus.entries[0].id = "x"  # frozen


def test_answers_fit_telegram(corpus):
    for e in corpus.entries:
        assert 0 < len(e.answer) <= MAX_ANSWER_CHARS, e.id
        assert len(e.answer) < 1000, f"{e.id}: aim for short answers"
        assert len(e.title) <= 40, e.id
        assert re.fullmatch(r"[a-z0-9_]{1,40}", e.id)


def test_answers_are_plain_text(corpus):
    for e in corpus.entries:
        assert not re.search(r"</?[a-z]+[^>]*>|\*\*|__|\[[^\]]+\]\(", e.answer), e.id


def test_meta_networks_marked(corpus):
    for e in corpus.entries:
        if re.search(r"instagram|facebook|инстаграм|фейсбук", e.answer, re.I):
            assert re.search(r"(Instagram|Facebook)\*", e.answer), e.id
            assert META_NOTE in e.answer, e.id


def test_privacy_answers_have_commands_and_subjects(corpus):
    b = corpus.by_id
    assert "/withdraw" in b["privacy_withdraw"].answer
    assert "info@kosmmos.ru" in b["privacy_withdraw"].answer
    assert "«Отзыв согласия на обработку персональных данных»" in b["privacy_withdraw"].answer
    assert "/mydata" in b["privacy_update"].answer
    assert "«Актуализация персональных данных»" in b["privacy_update"].answer
    assert "/unsubscribe" in b["privacy_unsubscribe"].answer
    assert "«Отказ от уведомлений" in b["privacy_unsubscribe"].answer
    assert "/brief" in b["pricing"].answer and "/brief" in b["how_to_order"].answer
    assert "info@kosmmos.ru" in b["contacts"].answer and "kosmmos.ru" in b["contacts"].answer
    assert "Спросить менеджера" in b["contacts"].answer
    dc = b["privacy_data_collected"].answer
    for word in ("имя", "телефон", "e-mail", "Telegram", "брифа", "/mydata"):
        assert word in dc, word
    assert "третьим лицам" in b["privacy_third_parties"].answer
    assert "70 миллионов" in b["why_social"].answer and "4 миллиарда" in b["why_social"].answer


# ---------------------------------------------------------------- validation errors

GOOD = """\
entries:
  - id: first
    title: Первый
    question: Что это?
    phrasings: [один, два]
    answer: Ответ.
  - id: second
    title: Второй
    question: А это?
    phrasings:
      - три
    answer: |-
      Другой ответ.
"""


def write(tmp_path: Path, text: str, name: str = "c.yaml") -> Path:
    p = tmp_path / name
    p.write_text(textwrap.dedent(text), encoding="utf-8")
    return p


def errors_of(path: Path) -> list[str]:
    with pytest.raises(CorpusError) as ei:
        load_corpus(path)
    errs = ei.value.errors
    assert errs and all(str(path) in e for e in errs), errs
    assert str(ei.value)  # message is printable
    return errs


def test_good_tmp_corpus_loads(tmp_path):
    c = load_corpus(write(tmp_path, GOOD))
    assert [e.id for e in c.entries] == ["first", "second"]
    assert c.by_id["first"].phrasings == ("один", "два")
    assert c.by_id["second"].answer == "Другой ответ."


def test_bare_list_accepted(tmp_path):
    text = "\n".join(line[2:] for line in GOOD.splitlines()[1:])
    c = load_corpus(write(tmp_path, text))
    assert len(c.entries) == 2


def test_duplicate_id(tmp_path):
    p = write(tmp_path, GOOD.replace("id: second", "id: first"))
    errs = errors_of(p)
    assert any("duplicate id" in e and ":7:" in e and "'first'" in e for e in errs), errs


def test_missing_field(tmp_path):
    p = write(tmp_path, GOOD.replace("    question: А это?\n", ""))
    errs = errors_of(p)
    assert any("missing field 'question'" in e and "'second'" in e and ":7:" in e for e in errs), errs


def test_empty_field_and_empty_answer(tmp_path):
    p = write(tmp_path, GOOD.replace("title: Первый", 'title: ""').replace("answer: Ответ.", "answer: '  '"))
    errs = errors_of(p)
    assert any("empty field 'title'" in e and ":3:" in e for e in errs), errs
    assert any("empty answer" in e and ":6:" in e and "'first'" in e for e in errs), errs


def test_empty_phrasings(tmp_path):
    p = write(tmp_path, GOOD.replace("phrasings: [один, два]", "phrasings: []"))
    errs = errors_of(p)
    assert any("'phrasings'" in e and ":5:" in e for e in errs), errs


def test_answer_too_long(tmp_path):
    long = "а" * (MAX_ANSWER_CHARS + 1)
    p = write(tmp_path, GOOD.replace("answer: Ответ.", f"answer: {long}"))
    errs = errors_of(p)
    assert any("answer is 4097 chars" in e and ":6:" in e and "'first'" in e for e in errs), errs


def test_answer_exactly_at_limit_ok(tmp_path):
    p = write(tmp_path, GOOD.replace("answer: Ответ.", "answer: " + "а" * MAX_ANSWER_CHARS))
    assert len(load_corpus(p).by_id["first"].answer) == MAX_ANSWER_CHARS


def test_title_too_long(tmp_path):
    p = write(tmp_path, GOOD.replace("title: Первый", "title: " + "Т" * 41))
    errs = errors_of(p)
    assert any("title is 41 chars" in e and ":3:" in e for e in errs), errs


def test_unknown_field(tmp_path):
    p = write(tmp_path, GOOD.replace("    answer: Ответ.", "    answer: Ответ.\n    related: [second]"))
    errs = errors_of(p)
    assert any("unknown field 'related'" in e and ":7:" in e for e in errs), errs


def test_bad_slug(tmp_path):
    p = write(tmp_path, GOOD.replace("id: second", "id: Second-Entry"))
    errs = errors_of(p)
    assert any("bad id 'Second-Entry'" in e and ":7:" in e for e in errs), errs
    p2 = write(tmp_path, GOOD.replace("id: second", "id: " + "x" * 41), "c2.yaml")
    assert any("bad id" in e for e in errors_of(p2))
    p3 = write(tmp_path, GOOD.replace("id: second", "id: вопрос"), "c3.yaml")
    assert any("bad id" in e for e in errors_of(p3))


def test_yaml_syntax_error(tmp_path):
    p = write(tmp_path, GOOD.replace("phrasings: [один, два]", "phrasings: [один, два"))
    errs = errors_of(p)
    assert len(errs) == 1 and "YAML syntax error" in errs[0]
    assert re.search(re.escape(str(p)) + r":\d+:", errs[0])


def test_several_errors_reported_together(tmp_path):
    p = write(tmp_path, GOOD.replace("id: second", "id: BAD").replace("answer: Ответ.", "answer: ''"))
    errs = errors_of(p)
    assert len(errs) >= 2  # bad id, empty answer


def test_missing_file_and_empty_file(tmp_path):
    errs = errors_of(tmp_path / "nope.yaml")
    assert "cannot read" in errs[0]
    assert "empty" in errors_of(write(tmp_path, "", "e.yaml"))[0]


def test_same_example_in_two_entries(tmp_path):
    p = write(tmp_path, GOOD.replace("      - три", "      - Один!"))
    errs = errors_of(p)
    assert errs == [f"{p}:11: example 'один' stands in two classes: 'second' and 'first' (line 5)"]


def test_intents_errors(tmp_path):
    c = write(tmp_path, GOOD, "corpus.yaml")
    i = write(tmp_path, """\
        intents:
        - id: greeting
          title: Привет
          phrasings: [привет]
        - id: weather
          title: Погода
          phrasings: [какая погода]
        - id: thanks
          title: Спасибо
          phrasings: [Ответ]
        """, "intents.yaml")
    with pytest.raises(CorpusError) as ei:
        load_corpus(c)
    errs = ei.value.errors
    assert any(f"{i}:5: intent 'weather': unknown intent" in e for e in errs), errs
    assert any(f"{i}:1: missing intents: human, callback, order, bot" in e for e in errs), errs
    assert any(f"{i}:10: example 'ответ' stands in two classes" in e for e in errs) is False  # answers are no examples


def test_additions(tmp_path):
    c = write(tmp_path, GOOD, "corpus.yaml")
    a = write(tmp_path, """\
        entries:
          first: [ещё вопрос, другой]
        offtopic:
          - погода
        """, "add.yaml")
    corpus = load_corpus(c, a)
    assert ("ещё вопрос", "first") in corpus.examples() and ("погода", "~") in corpus.examples()
    bad = write(tmp_path, """\
        entries:
          nope: [вопрос]
          second: [один]
        colours: [red]
        """, "bad.yaml")
    with pytest.raises(CorpusError) as ei:
        load_corpus(c, bad)
    errs = ei.value.errors
    assert f"{bad}:2: unknown entry 'nope'" in errs
    assert f"{bad}:4: unknown field 'colours'" in errs
    assert any(e.startswith(f"{bad}:3: example 'один' stands in two classes: 'second' and 'first'") for e in errs)
