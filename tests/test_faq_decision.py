"""Decision rule of FAQ search (faq.search.FaqIndex.confident) and its calibration
(faq.calibration): low band with margin and evidence, filler messages, salary questions,
platform troubles, clause splitting before a trailing question word."""

from __future__ import annotations

import pytest

from faq import FaqIndex, load_corpus
from faq.calibration import GRID, Rule, collect, cross_validate, decide, fit, score
from faq.evaluation import EvalItem, load_eval
from faq.search import ANSWER_THRESHOLD, LOW_ANSWER_EVIDENCE, LOW_ANSWER_THRESHOLD, is_filler


@pytest.fixture(scope="module")
def index() -> FaqIndex:
    return FaqIndex.build(load_corpus())


@pytest.mark.parametrize("q", [
    "ок", "ок понял", "понял", "ясно", "спасибо", "Спасибо, понятно!", "хорошо", "ага", "понятно",
    "супер", "круто", "ладно", "угу, ясненько", "ok thanks", "отлично, спасибо большое", "ну ладно",
])
def test_filler_is_never_answered(index, q):
    assert is_filler(q)
    r = index.search(q)
    assert r.entry is None and r.status == "none"


@pytest.mark.parametrize("q", ["хорошо, а сколько стоит ведение?", "понял, а как оставить заявку",
                               "спасибо, а что такое smm"])
def test_filler_with_a_question_is_answered(index, q):
    assert not is_filler(q)
    assert index.search(q).entry is not None


@pytest.mark.parametrize("q", [
    "сколько платят смм менеджеру в москве в месяц", "какой оклад у сммщика", "сколько получают таргетологи",
    "какой доход у smm специалиста", "smm менеджеры много зарабатывают?", "какая зарплата у смм менеджера",
    "зп смм специалиста в регионах",
])
def test_salary_questions_are_off_topic(index, q):
    assert index.is_offtopic(q)
    assert index.search(q).entry is None


@pytest.mark.parametrize("q, want", [("сколько платить за смм", "pricing"),
                                     ("сколько стоит ведение группы", "pricing"),
                                     ("сколько ждать результата от смм", "time_to_results")])
def test_client_money_questions_stay_answerable(index, q, want):
    assert not index.is_offtopic(q)
    r = index.search(q)
    assert r.entry is not None and r.entry.id == want


@pytest.mark.parametrize("q", ["почему не грузится вк", "телеграм не работает что делать", "как удалить группу в вк"])
def test_platform_troubles_are_off_topic(index, q):
    assert index.is_offtopic(q) and index.search(q).entry is None


def test_off_topic_rules_leave_the_faq_questions_alone(index):
    """A broken pattern (an empty alternative, say) would decline everything."""
    assert [e.id for e in index.corpus.entries if index.is_offtopic(e.question)] == []
    assert not index.is_offtopic("") and not index.is_offtopic("сколько стоит продвижение в вк")


@pytest.mark.parametrize("q", ["не отправляются сообщения в телеге", "как поменять номер телефона в телеграме",
                               "how do I change my telegram username", "какой налог платит самозанятый",
                               "на каком конструкторе собрать сайт-визитку", "какой сервис для email-рассылок выбрать",
                               "в какое время лучше публиковать посты", "хочу к вам работать на удаленку",
                               "сколько стоит реклама у блогера", "как часто постить в инсте",
                               "правила проведения розыгрыша", "как быстро набрать подписчиков",
                               "идеи для постов кофейни", "средняя цена по рынку на смм", "tell me a joke",
                               "вы там все идиоты что ли", "инсту взломали как восстановить доступ",
                               "вк заблокировал наше сообщество за спам",
                               "почему в телеграме не приходят уведомления"])
def test_more_kinds_of_off_topic(index, q):
    assert index.is_offtopic(q) and index.search(q).entry is None


@pytest.mark.parametrize("q,want", [("как поменять номер телефона в заявке", "privacy_update"),
                                    ("how do I change my phone number in the brief", "privacy_update"),
                                    ("как отписаться от рассылок", "privacy_unsubscribe")])
def test_own_matters_near_off_topic_rules_are_answered(index, q, want):
    assert not index.is_offtopic(q) and index.search(q).entry.id == want


def test_third_party_rule_without_search_engines():
    import faq.search as S

    assert "яндекс" in S._THIRD_PARTY and "яндекс" not in S._THIRD_PARTY_NOT_SEARCH
    assert "сбер" in S._THIRD_PARTY_NOT_SEARCH


def test_ads_not_working_is_not_a_platform_trouble(index):
    assert not index.is_offtopic("реклама в вк не работает, почему")


LOW_BAND_Q = "otricatelnye otzyvy v vk kak otvechat"


def test_low_band_answers_with_evidence(index):
    f = index.features(LOW_BAND_Q)
    assert LOW_ANSWER_THRESHOLD <= f.top < ANSWER_THRESHOLD
    assert f.evidence >= LOW_ANSWER_EVIDENCE
    r = index.search(LOW_BAND_Q)
    assert r.entry is not None and r.entry.id == "goal_negative_reviews" and r.score < ANSWER_THRESHOLD


@pytest.mark.parametrize("q", ["как поменять колесо", "сколько лететь до москвы"])
def test_low_band_declines_without_evidence(index, q):
    f = index.features(q)
    assert LOW_ANSWER_THRESHOLD <= f.top < ANSWER_THRESHOLD and f.evidence < LOW_ANSWER_EVIDENCE
    assert index.search(q).entry is None


@pytest.mark.parametrize("q", ["сколько стоит iphone", "сколько стоит реклама на билборде", "зачем нужен блокчейн"])
def test_intent_words_about_an_unknown_subject_are_off_topic(index, q):
    assert index.is_offtopic(q) and index.search(q).entry is None


@pytest.mark.parametrize("q", ["сколько стоит реклама в пинтересте", "сколько стоит продвижение барбершопа"])
def test_price_of_in_domain_things_is_answered(index, q):
    assert not index.is_offtopic(q) and index.search(q).entry.id == "pricing"


def test_generic_words_are_no_evidence(index):
    ei = index._entry_pos["pricing"]
    assert index.evidence("реклама", ei) == 0.0
    assert index.evidence("сколько стоит", ei) > 0.0


def test_custom_threshold_disables_low_band():
    strict = FaqIndex.build(load_corpus(), answer_threshold=0.9)
    assert strict.low_threshold == 0.9
    assert strict.search("хватит спамить акциями, как отключить").entry is None
    explicit = FaqIndex.build(load_corpus(), answer_threshold=0.9, low_threshold=0.3, low_evidence=0.0)
    assert explicit.low_threshold == 0.3


def test_trailing_question_word_does_not_start_a_clause(index):
    assert index.clauses("смм менеджер это кто?") == []
    assert index.clauses("у нас кафе кто будет вести группу") == ["у нас кафе", "кто будет вести группу"]


def test_calibration_decide_matches_search(index):
    items = load_eval()[:300]
    rows = collect(index, items)
    rule = Rule(index.answer_threshold, index.low_threshold, index.low_margin, index.low_evidence)
    for it, row in zip(items, rows):
        r = index.search(it.q)
        assert decide(row, rule) == (r.entry is not None), it.q
        if r.entry is not None:
            assert r.entry.id == row.top_id


def test_calibration_fit_and_cross_validation(index):
    items = [it for it in load_eval() if it.split in ("fresh", "ctx")]
    rows = collect(index, items)
    grid = tuple(r for r in GRID if r.m == 0.0 and r.e in (0.0, 3.5, 4.0))
    rule = fit(rows, 0.95, grid)
    c, n, j, u = score(rows, rule)
    assert j / u >= 0.95 and c / n >= 0.9
    cv = cross_validate(rows, 0.95, grid)
    assert [s for s, _, _ in cv] == ["fresh", "ctx"]
    assert all(isinstance(r, Rule) for _, r, _ in cv)


def test_fit_requires_reachable_floor():
    rows = collect(FaqIndex.build(load_corpus()), [EvalItem("что такое smm", None, "x")])
    with pytest.raises(ValueError):
        fit(rows, 1.0, (Rule(0.0, 0.0, 0.0, 0.0),))


def test_phrasing_rows_ask_held_out_phrasings(index):
    from faq.calibration import PHRASING_SPLIT, phrasing_rows

    rows = phrasing_rows(index, folds=3)
    n = sum(len(e.phrasings) for e in index.corpus.entries)
    assert 0.9 * n <= len(rows) <= n  # a few held-out phrasings repeat a kept one and are skipped
    assert all(r.split == PHRASING_SPLIT and r.want in index.corpus.by_id and not r.exact for r in rows)
    assert sum(r.top_id == r.want for r in rows) / len(rows) > 0.7
