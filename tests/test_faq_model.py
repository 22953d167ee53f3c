"""The FAQ model: the bot's numpy scorer against scikit-learn, decisions, intents, bad input,
the model file's life cycle (trained in a child process, corrupt or stale files rebuilt)."""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import faq
from faq import CorpusError, FaqIndex, load_corpus, load_index, normalize
from faq.corpus import DEFAULT_CORPUS_PATH, INTENTS
from faq.evaluation import load_all
from faq.index import MODEL_PREFIX, model_key, model_path

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def fitted():
    """The model fitted in this process (scikit-learn) and the bot's scorer built from it."""
    from faq.model import arrays, fit, settings

    cfg = settings()
    corpus = load_corpus()
    vec, clf, X = fit(corpus.examples(), cfg)
    index = FaqIndex(arrays(vec, clf, X, corpus, cfg, (cfg["answer_margin"], cfg["unsure_margin"])))
    return vec, clf, index


@pytest.fixture(scope="module")
def index(tmp_path_factory) -> FaqIndex:
    return load_index(cache_dir=tmp_path_factory.mktemp("faq-model"))


def test_runtime_scores_equal_scikit_learn_on_every_eval_text(fitted):
    vec, clf, index = fitted
    texts = [it.q for it in load_all()] + ["", "👍", "12345", "привет" * 700, "a\x00b\x1fc", "SMM смм smm-менеджер"]
    expected = clf.decision_function(vec.transform(texts))
    got = np.array([index.scores(t) for t in texts])
    assert list(clf.classes_) == index.classes and len(texts) > 4000
    assert np.abs(got - expected).max() < 1e-6


@pytest.mark.parametrize(("text", "intent"), [
    ("привет", "greeting"), ("Добрый день!", "greeting"), ("спасибо большое", "thanks"), ("👍", "thanks"),
    ("дайте человека", "human"), ("позовите менеджера пожалуйста", "human"), ("перезвоните мне", "callback"),
    ("хочу заказать", "order"), ("нужен таргетолог", "order"), ("ты бот или человек?", "bot"),
])
def test_intents(index, text, intent):
    r = index.search(text)
    assert (r.status, r.intent, r.entry, r.suggestions) == ("intent", intent, None, ())


@pytest.mark.parametrize(("text", "entry"), [
    ("что такое смм", "what_is_smm"), ("skolko stoit prodvizhenie", "pricing"), ("what is smm", "what_is_smm"),
    ("как отозвать согласие на обработку данных", "privacy_withdraw"), ("сколько ждать результата", "time_to_results"),
    ("сколко стоит ведение группы вк", "pricing"),
])
def test_answers_with_related_topics(index, text, entry):
    r = index.search(text)
    assert r.status == "answer" and r.entry is not None and r.entry.id == entry and r.intent is None
    assert len(r.suggestions) == 3 and entry not in {e.id for e in r.suggestions}
    assert r.score >= index.answer_margin


@pytest.mark.parametrize("text", ["как быстро похудеть к лету", "рецепт борща", "какая завтра погода в Москве",
                                  "как вывести сайт в топ яндекса"])
def test_off_topic_is_declined(index, text):
    r = index.search(text)
    assert r.status == "none" and r.entry is None and r.suggestions == () and r.score < index.unsure_margin


@pytest.mark.parametrize("text", ["", " ", "😀😀😀", "1234567890", "a" * 4096, "смм " * 1024, "\x00\x07\x1b[2J",
                                  "Ωμέγα 中文 عربى smm", "\u200b\u200b", "\ud800", "й" * 4096])
def test_never_raises(index, text):
    r = index.search(text)
    assert r.status in ("answer", "unsure", "none", "intent")
    assert (r.entry is not None) == (r.status == "answer") and (r.intent is not None) == (r.status == "intent")
    assert len(r.suggestions) <= 3


def test_nothing_known_is_no_answer(index):
    assert index.search("").status == "none" and index.search("🙂🙂").status == "none"


def test_unsure_gives_suggestions(index):
    margins = np.linspace(index.unsure_margin, index.answer_margin, 5)[1:-1]
    assert all(index.unsure_margin < m < index.answer_margin for m in margins)
    unsure = [r for r in map(index.search, (it.q for it in load_all())) if r.status == "unsure"]
    assert unsure and all(len(r.suggestions) == 3 and r.entry is None for r in unsure)


def test_related_of_every_entry(index):
    for e in index.corpus.entries:
        rel = index.related(e.id)
        assert len(rel) == 3 and e not in rel and all(r.id in index.corpus.by_id for r in rel)


def test_normalize():
    assert normalize("  Ёлка\tСММ\x00 ,  Привет!  ") == "елка смм , привет!"
    assert normalize("ＳＭＭ") == "smm"


def test_bot_never_imports_scikit_learn(tmp_path):
    code = textwrap.dedent(f"""
        import sys
        from pathlib import Path
        from tests.conftest import make_settings
        from bot.app import create_dispatcher
        dp = create_dispatcher(make_settings(Path({str(tmp_path)!r})), run_workers=False)
        r = dp["services"].faq.search("сколько стоит продвижение")
        assert r.entry.id == "pricing", r
        heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("sklearn", "scipy"))
        print("heavy:", heavy)
    """)
    p = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert "heavy: []" in p.stdout
    assert list(tmp_path.glob(f"{MODEL_PREFIX}*.npz"))  # the model file is kept next to the database


def test_corrupt_model_is_rebuilt_with_one_log_line(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(faq.index, "_memo", {})
    path = model_path(tmp_path, model_key())
    path.write_bytes(b"not a model")
    stale = tmp_path / f"{MODEL_PREFIX}0123.npz"
    stale.write_bytes(b"old")
    with caplog.at_level(logging.INFO, logger="faq"):
        index = load_index(cache_dir=tmp_path)
    assert index.search("что такое смм").entry.id == "what_is_smm"
    assert [r.levelname for r in caplog.records] == ["INFO"] and "unreadable" in caplog.records[0].message
    assert np.load(path)["hashes"].size and not stale.exists()


def test_edited_sources_train_a_new_model(tmp_path, monkeypatch):
    monkeypatch.setattr(faq.index, "_memo", {})
    src = tmp_path / "src"
    src.mkdir()
    for name in ("corpus.yaml", "offtopic.yaml", "intents.yaml"):
        shutil.copy(DEFAULT_CORPUS_PATH.with_name(name), src / name)
    models = tmp_path / "models"
    additions = tmp_path / "additions.yaml"
    additions.write_text("entries:\n  pricing:\n    - почём нынче раскрутка котиков\n"
                         "offtopic:\n  - где купить корм для котиков\n", encoding="utf-8")
    before = load_index(src / "corpus.yaml", models)
    after = load_index(src / "corpus.yaml", models, additions)
    assert after is not before and len(list(models.glob("*.npz"))) == 1
    assert after.search("почём нынче раскрутка котиков").entry.id == "pricing"
    assert after.search("где купить корм для котиков").status == "none"


def test_invalid_sources_raise_with_file_and_line(tmp_path, monkeypatch):
    monkeypatch.setattr(faq.index, "_memo", {})
    bad = tmp_path / "corpus.yaml"
    bad.write_text("entries:\n  - id: a\n    title: t\n    question: q\n    phrasings: [x\n", encoding="utf-8")
    with pytest.raises(CorpusError) as ei:
        load_index(bad, tmp_path)
    assert f"{bad}:" in ei.value.errors[0] and "YAML syntax error" in ei.value.errors[0]
    additions = tmp_path / "additions.yaml"
    additions.write_text("entries:\n  no_such_entry: [текст]\n", encoding="utf-8")
    with pytest.raises(CorpusError) as ei:
        load_index(None, tmp_path, additions)
    assert ei.value.errors == [f"{additions}:2: unknown entry 'no_such_entry'"]


def test_intents_file_has_exactly_the_intents():
    assert tuple(k.id for k in load_corpus().intents) == INTENTS
    assert all(len(k.phrasings) >= 40 for k in load_corpus().intents)


def test_bot_start_with_a_yaml_error_exits_2_with_file_and_line(tmp_path):
    from bot.standin import BotAPIStandIn
    from tests.e2e import bot_env
    from tests.fakes import BOT_TOKEN

    bad = tmp_path / "corpus.yaml"
    bad.write_text("entries:\n  - id: a\n    title: t\n    question: q\n    phrasings: [x]\n    answer: [\n",
                   encoding="utf-8")
    env = bot_env(BotAPIStandIn(BOT_TOKEN), tmp_path / "bot.sqlite3", FAQ_PATH=str(bad))
    p = subprocess.run([sys.executable, "-m", "bot"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    lines = p.stderr.strip().splitlines()
    assert p.returncode == 2 and len(lines) == 1, p.stderr
    assert lines[0].startswith(f"FAQ corpus is invalid: {bad}:7: YAML syntax error")
