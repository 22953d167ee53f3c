"""Text normalisation and the model's features: character n-grams and Snowball stems.

Both the trainer (scikit-learn, in ``python -m faq train``) and the bot's scorer (numpy) call
these functions, so the features they see are the same by construction.
"""

from __future__ import annotations

import re
import unicodedata
import zlib
from functools import lru_cache

import Stemmer

_WORD_RE = re.compile(r"\w+|[^\w\s]")
_LATIN_RE = re.compile(r"[a-z]")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\ud800-\udfff\ufeff]")
_RU = Stemmer.Stemmer("russian")
_EN = Stemmer.Stemmer("english")

# A generic Latin -> Cyrillic character mapping (longest spelling first), for Russian typed
# in Latin letters ("skolko stoit" -> "сколко стоит").
_TRANSLIT = tuple(pair.split(":") for pair in (
    "shch:щ sch:щ zh:ж kh:х ch:ч sh:ш ts:ц yu:ю ju:ю ya:я ja:я yo:е ye:е ph:ф a:а b:б v:в g:г d:д e:е z:з i:и "
    "k:к l:л m:м n:н o:о p:п r:р s:с t:т u:у f:ф h:х c:к w:в q:к j:й x:кс y:ы").split())
_TRANSLIT_RE = re.compile("|".join(lat for lat, _ in _TRANSLIT))
_TRANSLIT_MAP = dict(_TRANSLIT)


def normalize(text: str) -> str:
    """NFKC, case folded, ё as е, no control characters, single spaces: the key under which
    the bot counts unanswered questions, and what the model reads."""
    t = unicodedata.normalize("NFKC", text).casefold().replace("ё", "е")
    return " ".join(_CONTROL_RE.sub(" ", t).split())


@lru_cache(maxsize=4096)
def translit(word: str) -> str:
    """A Latin word read as transliterated Russian ("zhdat" -> "ждат")."""
    return _TRANSLIT_RE.sub(lambda m: _TRANSLIT_MAP[m.group(0)], word)


@lru_cache(maxsize=4096)
def _word_features(word: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(spellings whose n-grams count, stem features) of one word."""
    if not _LATIN_RE.search(word):
        return (word,), ("~" + _RU.stemWord(word),)
    cyr = translit(word)
    return (word, cyr), ("~" + _EN.stemWord(word), "~" + _RU.stemWord(cyr))


def words(text: str) -> list[str]:
    return _WORD_RE.findall(normalize(text))


def features(text: str, ngrams: tuple[int, int] = (3, 5)) -> list[str]:
    """Character n-grams of every word padded with spaces (as scikit-learn's ``char_wb``), a
    Latin word also read in Cyrillic, and a ``~stem`` per word reading (Snowball)."""
    return [f for word in words(text) for f in word_features(word, ngrams)]


def word_features(word: str, ngrams: tuple[int, int]) -> list[str]:
    spellings, stems = _word_features(word)
    out = list(stems)
    for s in spellings:
        w = f" {s} "
        for n in range(ngrams[0], min(ngrams[1], len(w)) + 1):
            out += [w[i:i + n] for i in range(len(w) - n + 1)]
    return out


def stems(text: str) -> list[str]:
    """The ``~stem`` features of ``text`` alone."""
    return [s for word in words(text) for s in _word_features(word)[1]]


def feature_hash(feature: str) -> int:
    """A 64-bit key of a feature string (the bot's vocabulary is a sorted array of these)."""
    b = feature.encode("utf-8", "surrogatepass")
    return zlib.crc32(b) << 32 | zlib.adler32(b)
