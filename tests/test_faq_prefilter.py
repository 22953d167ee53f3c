"""faq.prefilter: substring needles that every match of a pattern contains."""

from __future__ import annotations

import re

import pytest

from faq import load_corpus
from faq.evaluation import load_eval
from faq.prefilter import needles
from faq.search import _OFFTOPIC_RULES, OFFTOPIC_PATTERNS, _offtopic_text
from faq.text import surface_text


@pytest.mark.parametrize(("pattern", "expected"), [
    (r"\bseo\b|\bсео\b|\bсеошник", ("seo", "сео")),  # "сеошник" contains "сео"
    (r"\bкурс(?:ы|ов)?\b", ("курс",)),  # an optional part adds nothing
    (r"\bпоиск\w*\s+работ[уыа]\b", ("работа", "работу", "работы")),  # a class of letters multiplies
    (r"\bвк\b.*\bне\s+(?:груз|работа)", ("груз", "работа")),  # the most selective part wins
    (r"\bблог+ер", ("бло",)),  # a repeat breaks the literal run
    (r"(?:ab){2,}", ("ab",)),
    (r"^(?!.*\bsmm\b).*\bдирект", ("директ",)),  # a look-ahead is no needle
    (r"(?:x|y)z", ("xz", "yz")),
    # every branch needs "директ": that one string filters the whole alternation
    (r"\bнастр\w*\b.*\bдирект|\bдиректолог|\bзапуст\w*\s.*\bдирект", ("директ",)),
])
def test_needles(pattern, expected):
    assert needles(pattern) == expected


def test_common_words_make_poor_needles():
    pattern = r"\bсколько\s+(?:\w+\s+){0,3}(?:получа|зарабатыва)\w*"
    assert needles(pattern) == ("сколько",)  # the longest
    assert needles(pattern, common=("сколько",)) == ("зарабатыва", "получа")


@pytest.mark.parametrize("pattern", [
    r"\w+", r"(?:abc)?d", r"abc|\d+", r"a", r"[^a]bc?", r"ab{0,3}",
])
def test_no_needles(pattern):
    # nothing every match must contain, or only single letters (found in almost every text)
    assert needles(pattern) is None


def test_offtopic_rules_match_only_where_their_needles_are():
    """Soundness on every text at hand: a rule that matches a text has a needle in it, so the
    prefilter never hides a match (the needles are derived, not written by hand)."""
    corpus = load_corpus()
    texts = [it.q for it in load_eval()]
    texts += [p for e in corpus.entries for p in (e.question, *e.phrasings)]
    texts += [p for t in corpus.offtopic for p in t.phrasings]
    surfaces = [surface_text(t) for t in texts]
    assert [rx for _ns, rx in _OFFTOPIC_RULES] == list(OFFTOPIC_PATTERNS)
    assert all(ns for ns, _rx in _OFFTOPIC_RULES)  # every rule is prefiltered
    for ns, rx in _OFFTOPIC_RULES:
        for s in surfaces:
            if rx.search(s):
                assert any(n in s for n in ns), (rx.pattern[:60], s)
    # and the prefiltered search gives the plain one's answer
    for s in surfaces:
        assert _offtopic_text.__wrapped__(s) == any(rx.search(s) for rx in OFFTOPIC_PATTERNS)


def test_needles_of_random_patterns_are_sound():
    """Generated patterns from literals, classes, alternations and repeats: every match of a
    pattern, found in generated text, contains one of its needles."""
    import random
    rng = random.Random(5)
    atoms = ["ab", "cd", "[ab]", r"\w", "(?:ab|ca)", "b+", "(?:dc)?", "a{2,3}", r"\s", "(?:a|bd)c"]
    for _ in range(400):
        pattern = "".join(rng.choice(atoms) for _ in range(rng.randint(1, 5)))
        if rng.random() < 0.3:
            pattern += "|" + "".join(rng.choice(atoms) for _ in range(rng.randint(1, 3)))
        ns = needles(pattern)
        rx = re.compile(pattern)
        for _ in range(30):
            text = "".join(rng.choice("abcd ") for _ in range(rng.randint(0, 12)))
            m = rx.search(text)
            if m and ns is not None:
                assert any(n in m.group(0) for n in ns), (pattern, text, ns)
