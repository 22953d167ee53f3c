"""FAQ retrieval: inverted index over stems with IDF weights plus typo tolerance.

Scoring
-------
Every entry is split into short *fields* (title, question, each phrasing,
each keyword) and its answer.  A query and a field are sets of stems weighted
by IDF (computed over entries).  For a field ``D`` and query ``Q``::

    qcov = Σ_{t∈Q∩D} m_t·w_t² / Σ_{t∈Q} w_t²      (how much of the question is explained)
    dcov = Σ_{t∈Q∩D} w_t²     / Σ_{t∈D} w_t²      (how much of the field is matched)
    sim  = qcov^α · dcov^(1-α)

``m_t`` < 1 for typo/transliteration matches.  Query words unknown to the
corpus add ``OOV_WEIGHT²`` to the query mass, which is what keeps "погода в
москве" or "рецепт борща" from matching anything.  The entry score is the
best field similarity blended with the answer-text coverage (weighted lower).

A few explicit off-topic patterns (SEO, Yandex Direct setup, SMM courses /
careers …) cap the score below the answer threshold.

Weak pseudo terms ("~вы", "~я", "~кто", "~где", "~хочу": pronouns and question
words, see ``text.WEAK_WORDS``) get a small fixed weight; social network names and
the agency name have a capped weight.  Unknown query words are first matched to
the vocabulary by spelling skeleton, stem prefix (derivations) and edit distance
(typos); only then do they count as OOV, verb-looking ones with a lower weight.

Long and chatty messages (fourth round):

* a message is also scored clause by clause (split on punctuation, on "а"/"но"/"если"…
  and before question words); the best clause counts at ``CLAUSE_FACTOR``.  Unknown words
  outside the clause are dropped, known ones still weigh ``CLAUSE_DROPPED_KNOWN`` of their
  mass, so the context ("у меня кофейня в казани") does not sink the question;
* low-information words (``text.LOW_INFO_STEMS``: cities, family, "лет") cost little
  when unknown and have a capped weight when known;
* an unknown word that is two known words typed without a space ("ктотакой",
  "какзаказать") is read as those two words;
* a one-word query whose runner-up scores almost as high as the top ("отзывы",
  "продвижение") gets suggestions instead of a guess;
* off-topic rules also see the Latin text transliterated with the soft signs restored
  ("kak stat smm menedzherom" ~ "как стать smm менеджером").

Decision rule (fifth round, ``faq/calibration.py``, ``python -m faq calibrate``):

* answer when the score is >= ``ANSWER_THRESHOLD``, or when it is >= ``LOW_ANSWER_THRESHOLD``,
  leads the runner-up by ``LOW_ANSWER_MARGIN`` and the message carries ``LOW_ANSWER_EVIDENCE``
  of IDF mass on distinct specific words found in the entry's own fields (long messages with
  context score low but match several words of their entry; chance matches of off-topic
  questions rest on one or two words).  The four parameters were chosen by
  leave-one-split-out cross-validation over all seen splits (tune, test, fresh, dev, ctx,
  holdout, holdout2, holdout3); a custom ``answer_threshold`` disables the low band;
* messages of acknowledgement/filler words only ("ок понял", "спасибо, ясно") are never
  answered (``FILLER_WORDS``);
* off-topic rules also cover salaries with any verb or noun (платят, получают, оклад, доход)
  and technical troubles of the platforms ("не грузится вк").

Sixth round: phrase features (bigram terms "+a b" of adjacent content words with their own
IDF, ``BIGRAM_WEIGHT``), a definition-intent detector (``definition_entry``: "что это такое" /
"X это что" / "what is X" plus a subject of the corpus' own definition phrasings anywhere in the
message), intent phrases in ``text`` ("через сколько" -> "сколько ждать", "dlya chego",
"what can X do for"), off-topic rules for named third-party companies and for requests to
produce work ("сделай контент план ..."); decision rule re-fitted (a=0.47, b=0.34, m=0.00, e=4.5).

Seventh and eighth rounds: twice as many phrasings; soft document frequency (a word in one
stray phrasing of an entry counts ``1/DF_FULL_FIELDS``) and a cap on words found in a single
field (``HAPAX_IDF``); the synonym lexicon ``faq/synonyms.yaml``; transliterated words read
several ways (``text.translit_variants``) and indexed as their Russian reading; a message of
several sentences is scored with the non-question sentences weighing ``CONTEXT_WEIGHT``;
"what is X" needs X right after it; intent words about an unknown subject ("сколько стоит
iphone") and more off-topic patterns; the decision rule is fitted with held-out corpus
phrasings (``calibration.phrasing_rows``) as well as the eval splits (a=0.43, b=0.30, e=3.5).

Ninth round: off-topic examples (``faq/offtopic.yaml``, kinds of questions the FAQ must not
answer, each with wordings) are indexed apart, in an index of the same kind
(``offtopic_match``: the whole message scored once).  A message whose best off-topic kind
scores at least ``OFFTOPIC_MIN`` and no less than its best FAQ entry minus ``OFFTOPIC_MARGIN``
is off-topic, provided a word of it is found in at least two examples of that kind and not in
the entry (``offtopic_novelty``): the patterns above name the kinds seen so far, the examples
let the ranking itself recognise new wordings of many more.

Speed (tenth round; every decision unchanged): each off-topic pattern is searched only when
the message has one of its needles (``faq/prefilter.py``); each index caches how it reads a
word (``_word_cached``); the off-topic examples are scored only when an upper bound of their
score (``_may_reach``: from the share of the query an example kind has) reaches what the rule
needs; ``_score`` zeroes its per-field sums as it reads them and needs a power only for fields
matched by weighted or typo words.
"""

from __future__ import annotations

import heapq
import math
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import compress
from operator import itemgetter
from typing import Literal

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from .corpus import Corpus, Entry
from .prefilter import needles
from .text import (
    LOW_INFO_STEMS,
    RU_STOPWORDS,
    SURFACE_SYNONYMS,
    WEAK_WORDS,
    analyze,
    fold,
    phrase_key,
    skeleton,
    surface_text,
)

__all__ = ["FaqIndex", "SearchResult", "Features", "Status", "ANSWER_THRESHOLD", "SUGGEST_THRESHOLD",
           "LOW_ANSWER_THRESHOLD", "LOW_ANSWER_MARGIN", "LOW_ANSWER_EVIDENCE", "is_filler"]

Status = Literal["answer", "unsure", "none"]

# --- calibrated parameters (see tests/faq_eval, all seen splits) -------------
ANSWER_THRESHOLD = 0.43
SUGGEST_THRESHOLD = 0.30
# Off-topic examples (``faq/offtopic.yaml``) are indexed apart; a message whose best off-topic
# match scores at least OFFTOPIC_MIN and no less than its best FAQ match minus OFFTOPIC_MARGIN
# is off-topic.
OFFTOPIC_MIN = 0.35
OFFTOPIC_MARGIN = 0.0
OFFTOPIC_NOVELTY = 0.5  # see FaqIndex.offtopic_novelty
OFFTOPIC_RESCORE_TOP = 8  # the off-topic index only needs its best kind
OFFTOPIC_POSTINGS = (60, 20)  # its postings caps (specific, generic words), see MAX_POSTINGS
# Low band of the decision rule (faq/calibration.py, leave-one-split-out over the eval splits):
# below ANSWER_THRESHOLD an entry is still answered when its score is at least
# LOW_ANSWER_THRESHOLD, it leads the runner-up by LOW_ANSWER_MARGIN and the message carries
# at least LOW_ANSWER_EVIDENCE of IDF mass on distinct content words found in the entry's own
# fields (long questions with context match several words of their entry; chance matches of
# off-topic questions rest on one or two common words).
LOW_ANSWER_THRESHOLD = 0.30
LOW_ANSWER_MARGIN = 0.0
LOW_ANSWER_EVIDENCE = 3.5
DF_FULL_FIELDS = 2  # fields of an entry a word must be in to count fully in its document frequency
DF_ANSWER = 0.5  # document frequency share of a word found in the answer only
ALPHA = 0.6  # weight of query coverage vs field coverage
ANSWER_BLEND = 0.15  # share of answer-text coverage in the final score
ENTRY_BLEND = 0.25  # share of whole-entry (all fields together) query coverage
OOV_WEIGHT = 3.5  # weight of a query word unknown to the corpus (nouns; see OOV_VERB_WEIGHT)
NUM_OOV_WEIGHT = 2.5  # same for numbers
OOV_VERB_WEIGHT = 1.6  # unknown word that looks like a verb form: topics are nouns, verbs are generic
# Cyrillic verb endings (infinitive, present/future, past, reflexive); nouns ending like this are rare
_VERB_RE = re.compile(
    r"(?:ть|ться|тся|ешь|ете|ет|ут|ют|ит|ят|ишь|ите|ала|али|ало|ила|или|ило|ела|ели|ется|ются"
    r"|ится|ятся|ось|ась|ись|есь|ал|ил|ел|ем|им|аю|яю|ею|ую|жу|шу|чу|щу)$")
_VERB_NOUN_EXCEPTIONS = frozenset(
    "бюджет билет пакет совет ответ интернет планшет кабинет предмет портрет кредит аппетит визит лимит"
    " депозит сайт канал сериал материал журнал финал сигнал персонал капитал арсенал".split())
MIN_IDF = 0.35
SKELETON_QUALITY = 0.95
FUZZY_STEP = 0.12  # quality loss per edit
PREFIX_QUALITY = 0.85  # unknown stem sharing a long prefix with a known one (derivations)
MIN_PREFIX = 5
KEYWORD_FIELD_WEIGHT = 0.9
SINGLE_TERM_FIELD_WEIGHT = 0.85  # a field reduced to one stem is weak evidence
MAX_SUGGESTIONS = 3
BOUND_SPAN = 8  # see FaqIndex._may_reach
MAX_POSTINGS = 150  # per-term postings used for candidate generation (impact-ordered)
MAX_POSTINGS_GENERIC = 40  # the same for generic words (IDF below GENERIC_IDF) and weak pseudo terms
RESCORE_TOP = 64  # entries re-scored with entry/answer coverage
MAX_QUERY_CHARS = 500
WEAK_IDF = 1.5  # fixed weight of weak pseudo terms ("~вы", "~где" ... see text.WEAK_WORDS)
PLATFORM_IDF = 1.2  # cap on the weight of social network names: they rarely decide the topic
PLATFORM_TERMS = frozenset(("вконтакт", "инстаграм", "телеграм", "фейсбук", "одноклассник", "ютуб",
                            "тикт", "тикток", "youtub", "tiktok", "дзен", "rutub", "рутуб", "пинтерест",
                            "pinterest", "твиттер", "twitter", "threads", "тредс", "likee", "лайк",
                            "ватсап", "whatsapp", "вайбер", "viber", "linkedin", "линкедин", "kosmmos"))  # the agency name says "you", not the topic
MIN_WEAK_ONLY = 2  # a query made of weak words only needs at least this many of them
# Low-information context words (text.LOW_INFO_STEMS: cities, family ...): cheap when unknown,
# capped weight when known.
LOW_INFO_OOV_WEIGHT = 1.0
LOW_INFO_IDF = 1.0
# Multi-clause messages: each clause ("у меня кофейня в казани, хочу больше гостей, через
# сколько будет эффект от смм?") is also scored on its own; the best clause counts at this factor.
CLAUSE_FACTOR = 0.95
MIN_CLAUSE_TERMS = 2  # known content terms a clause needs to be scored on its own
MAX_CLAUSES = 2  # clauses (distinct term sets) scored per message: bounds the cost of long ones
CLAUSE_SKIP = 0.8  # a message that already matches this well is not split (speed)
CLAUSE_DROPPED_KNOWN = 0.25  # share of the mass of known words outside the clause kept in its query mass
# Words that start a question (clauses of unpunctuated messages, the question sentence of a long one)
_QUESTION_WORDS = (r"как|какой|какая|какое|какие|каким|каких|сколько|скока|кто|почему|зачем|где|когда"
                   r"|можно\s+ли|есть\s+ли|нужно\s+ли|стоит\s+ли")
_CLAUSE_SPLIT_RE = re.compile(
    r"[.!?;:,()\n…]+|\s[-–—]\s|\s(?:а|но|однако|хотя|зато|ведь|причем|если|потому\s+что|так\s+как)(?=\s)"
    # unpunctuated messages: a question word starts a new clause ("... третий год работаем
    # сколько стоит ведение"); not "перед тем как / до того как", whose "как" asks nothing
    r"|(?<!\bтем)(?<!\bтого)\s(?=(?:" + _QUESTION_WORDS + r")\b\s*[^\s.!?;:,()…])")
# Clauses that set a time or condition for the question rather than ask it ("прежде чем ...").
_SUBORDINATE = r"(?:перед\s+тем\s+как|прежде\s+чем|до\s+того\s+как|после\s+того\s+как)\b"
_SUBORDINATE_RE = re.compile(_SUBORDINATE)
# splits such a clause off a sentence: "прежде чем X, Y" -> "прежде чем X," | "Y";
# "Y, прежде чем X" -> "Y" | ", прежде чем X"
_SUBORDINATE_SPLIT_RE = re.compile(r"^(" + _SUBORDINATE + r"[^,.:;!?]*[,:])\s*"
                                   r"|\s*(,\s*" + _SUBORDINATE + r"[^.!?]*[.!?…]*)$")
# Messages of several sentences: the words of sentences that do not ask (no "?", no question
# word at the start) weigh CONTEXT_WEIGHT when the message is scored (no clause scoring then).
CONTEXT_WEIGHT = 0.35
_SENTENCE_SPLIT_RE = re.compile(r"(?<=[.!?…])\s+|\n+")
_QUESTION_START_RE = re.compile(
    r"(?:а\s+|и\s+|так\s+|но\s+)?(?:" + _QUESTION_WORDS + r"|что|чем|можно|подскажите|скажите|объясните|расскажите"
    r"|поясните|хочу\s+понять"
    r"|хочу\s+узнать|интересно|how|what|why|where|when|who|can|do|does|is|are)\b")
# Glued words ("ктотакой", "какзаказать"): an unknown word split into two known ones.
GLUED_QUALITY = 0.9
MIN_LATIN_LOOSE = 5  # shorter Latin words are matched exactly only (no skeleton, prefix, glue, typo)
MIN_GLUED = 5
_GLUE_PREFIXES = frozenset("в во на по от за до из с со о об обо про при под над у к ко вы раз".split())
_NO_GLUE_LEFT = frozenset(("не", "ни"))  # никому, некогда, ничего: words, not glues
# A single word matching several entries about equally ("отзывы"), or a generic one found in
# most entries ("реклама", "smm": IDF below GENERIC_IDF), gets suggestions instead of a guess.
VAGUE_RATIO = 0.88
GENERIC_IDF = 1.0
HAPAX_IDF = 2.5  # cap on the weight of a word found in at most HAPAX_FIELDS fields of the corpus
HAPAX_FIELDS = 1
# Stems that ask something without naming a topic: a message whose other words are all
# unknown to the FAQ is about something else ("сколько стоит iphone", "зачем нужен блокчейн").
INTENT_STEMS = frozenset(("скольк", "цен", "смысл", "зач", "поч", "нужн", "нуж", "когд", "долг",
                          "быстр", "сделат", "помоч", "работа", "реклам"))
# Phrase features (sixth round): adjacent content words of a field ("зачем продвигаться",
# "через сколько") are also indexed as one bigram term "+a b" with its own IDF (document
# frequency over the entries' fields), weighted by BIGRAM_WEIGHT.  A query bigram unknown to
# the corpus is simply absent (no OOV mass), so intent phrases count beyond their single
# words without penalising new wordings.
BIGRAM_WEIGHT = 0.4
BIGRAM_PREFIX = "+"
BIGRAM_MIN_FIELD = 2  # distinct terms a field needs to get bigram terms
# Definition intent (sixth round): "что это такое", "X это что", "what is X" anywhere in the
# message, with the subject named in another clause or loosely ("все говорят надо заниматься
# смм, а я даже не понимаю что это такое", "smm eto chto voobshe").  The subjects of the
# corpus' own definition phrasings ("что такое smm" -> what_is_smm, "кто такой smm менеджер"
# -> what_is_smm_manager) are collected at build time; when the message has the intent and
# names a subject (resolved terms, so typos and transliteration count), its entry scores at
# least DEFINITION_SCORE.  The most specific subject (largest IDF mass) wins.
DEFINITION_SCORE = 0.75
_DEF_INTENT_RE = re.compile(
    r"\b(?:что|че|чо|шо|што)\s+(?:же\s+)?(?:это\s+)?(?:вообще\s+)?(?:такое|значит|означает|обозначает)\b"
    r"|\b(?:что|че|чо|шо|што)\s+(?:же\s+)?это(?:\s+(?:вообще\s+)?(?:за\s+)?(?:такое|значит|штука|зверь))?\s*(?:[|?!.,]|$)"
    r"|\bэто\s+(?:вообще\s+)?(?:что|че|чо|чё|шо|кто)\b|\bэто\s+(?:вообще\s+)?(?:про|о)\s+(?:что|чем)\b"
    r"|\bкто\s+(?:это\s+)?так(?:ой|ая|ие)\b"
    r"|\bwhat\s+(?:is|are|does)\b|\bwhat'?s\b|\bwho\s+is\b")
# Subject of a corpus definition phrasing (phrase_key text)
_DEF_SUBJECT_RES = tuple(re.compile(p) for p in (
    r"^(?:что|че|шо)\s+(?:такое|значит|означает)\s+(?P<s>.+)$",
    r"^кто\s+(?:это\s+)?так(?:ой|ая|ие)\s+(?P<s>.+)$",
    r"^(?P<s>.+?)\s+это\s+(?:что|кто)(?:\s+так\w*)?$",
    r"^(?:what|who)\s+is\s+(?:an?\s+)?(?P<s>.+)$",
))

# Named third-party companies (questions about what they do are not about us).
_SEARCH_ENGINES = r"яндекс\w*|yandex|гугл\w*|google"
_OTHER_COMPANIES = (r"сбер\w*|тинькофф\w*|т-банк\w*|озон\w*|ozon|apple|эппл\w*"
                r"|майкрософт\w*|microsoft|мтс|билайн\w*|мегафон\w*|вайлдберриз|wildberries|авито|газпром\w*"
                r"|роснефт\w*|лукойл\w*|ржд|аэрофлот\w*|самсунг\w*|samsung|макдоналдс\w*|магнит\w*"
                r"|пятерочк\w*|amazon|амазон\w*|tesla|тесл\w*|альфа[\s\-]?банк\w*|втб|ростелеком\w*|додо\w*"
                r"|госуслуг\w*|gosuslug\w*|мфц|соцфонд\w*|пенсионн\w+\s+фонд\w*")
_THIRD_PARTY = f"(?:{_SEARCH_ENGINES}|{_OTHER_COMPANIES})"
# The same without the search engines (a group "in Yandex/Google" is our topic)
_THIRD_PARTY_NOT_SEARCH = f"(?:{_OTHER_COMPANIES})"
# Work artifacts a user may ask the bot to produce for free.
_ARTIFACT = (r"(?:контент[\s\-]*план\w*|пост\w*|текст\w*|стать[июеяй]\w*|слоган\w*|логотип\w*|лого|назван\w*"
             r"|хештег\w*|хэштег\w*|описани\w*|стратеги\w*|сценари\w*|рилс\w*|сторис|баннер\w*|картинк\w*"
             r"|креатив\w*|объявлени\w*|презентаци\w*|аудит\w*|разбор\w*|план\w*|идеи|идею|стих\w*"
             r"|сочинени\w*|доклад\w*|реферат\w*|эссе|рубрик\w*|рубрикатор\w*|подпис[ьи]\w*|концепци\w*"
             r"|аватар\w*|аву|обложк\w*|шапк\w*|визитк\w*|макет\w*|иконк\w*|дизайн\w*|видео\w*|ролик\w*"
             r"|фото\w*|инфографик\w*|афиш\w*|листовк\w*|письм\w*|рассылк\w*)\b")

# Off-topic patterns (matched on folded text + transliteration of Latin words).
# Setting up search ads is off-topic unless the message weighs it against SMM / social networks.
def _not_smm(pattern: str) -> str:
    return r"^(?!.*(?:\bsmm\b|соцсет|социальн|\bвк\b|инст)).*?(?:" + pattern + ")"


# Each pattern is tried only when the text contains one of its needles (``prefilter.needles``:
# plain substrings, found fast), since a regex search tries every position of a long message.
_OFFTOPIC_SPECS: tuple[str, ...] = (
    r"\bseo\b|\bсео\b|\bсеошник",
    # search engine optimisation in other words ("вывести сайт в топ яндекса по ключевым запросам")
    _not_smm(r"\bв\s+топ\w*\s+(?:\w+\s+)?(?:гугл|google|яндекс|yandex|поиск|выдач)|\bключев\w+\s+(?:запрос|слов)"
             r"|\b(?:продвижени\w*|раскрутк\w*|продвинуть|раскрутить)\s+сайт\w*\s+в\s+(?:поиск|топ|гугл|яндекс)"),
    _not_smm(r"\bнастр\w*\b.*\bдирект|\bдирект\w*\b.*\bнастр|\bдиректолог|\bзапуст\w*\s.*\bдирект"),
    r"\b(?:стать|стану|become)\b(?:\s+\w+){0,2}\s+(?:smm|менеджер\w*|специалист\w*|manager|"
    r"таргетолог\w*|блогер\w*|маркетолог\w*|копирайтер\w*|дизайнер\w*)",
    r"\bкурс(?:ы|ов|ах|ам|ами)?\b|\bcourses?\b",
    r"\bобуч|\bнаучит|\bнаучи|\bвыучит|\bучит\w*ся\b|\bучеб|\bвебинар|\btraining\b",
    r"\bзарплат|\bзарабатыва|\bзаработ\w*\s+в\s+интернет|\bsalary\b",
    r"^(?!.*(?:соц|\bвк\b|вконтакт|инст|телеграм|\bтг\b|паблик|сообществ|групп)).*(?:\bрезюме\b|\bстажир|\bтрудоустр)"
    r"|\bустроиться\b|\bваканси\w*\s+(?:smm|менеджер)",
    r"\bтаргетолог",
    r"\bкак\s+(?:\w+\s+){0,2}настро|\bhow\s+to\s+(?:set\s*up|configure)\b",
    r"\b(?:найти|ищу|искать|поиск\w*)\s+работ[уыа]\b|\bустроиться\s+на\s+работу",
    _not_smm(r"\bнастр\w*\b.*\b(?:директ|гугл|google|аналитик|метрик|роутер|wi-?fi|вайфай)"
             r"|\b(?:директ|гугл|google|аналитик|метрик|роутер)\w*\b.*\bнастр"),
    # setting up / running search ads (Google Ads, Yandex Direct) is not our service
    _not_smm(r"\b(?:настр|запуст|запуск|созда|вест|ведени|оптимиз)\w*\b.*\b(?:google\s+ads|директ\w*)\b"
             r"|\b(?:google\s+ads|директ\w*)\b.*\b(?:настр|запуст|запуск|оптимиз)"),
    # programming, bots, sites development
    r"\b(?:python|питон\w*|javascript|js|php|html|css|sql|java|golang|c\+\+|api)\b"
    r"|\bпрограмм(?:ир\w*|ист\w*|а|у|ы|е)?\b|\bкод(?:а|е|у|ом|ы|ов|ить|инг\w*)?\b"
    r"|\b(?:написать|напиши|создать|сделать|разработ\w*|запрограммир\w*)\s+(?:\w+\s+)?бот\w*",
    # other companies' support lines, accounts and passwords in social networks
    r"\b(?:тех)?поддержк\w*\b.*\b(?:вк|вконтакт\w*|инстаграм\w*|телеграм\w*|тг|озон\w*|ozon|сбер\w*"
    r"|тинькофф\w*|авито|вайлдберр\w*|wildberries|яндекс\w*|гугл\w*|google|ютуб\w*|youtube"
    r"|одноклассник\w*|фейсбук\w*|ватсап\w*|whatsapp|мтс|билайн\w*|мегафон\w*)"
    r"|\b(?:вк|вконтакт\w*|инстаграм\w*|телеграм\w*|озон\w*|сбер\w*|тинькофф\w*|авито|вайлдберр\w*"
    r"|яндекс\w*|ютуб\w*|одноклассник\w*)\b.*\b(?:тех)?поддержк|\bгоряч\w+\s+лини",
    r"\b(?:восстанов|взлом|заблокир|разблок|забыл|сменить\s+пароль)\w*\b.*"
    r"\b(?:аккаунт|страниц|пароль|парол|профил|логин|доступ)"
    r"|\b(?:удалить|удалени\w*|удалят\w*)\s+(?:\w+\s+)?(?:аккаунт|страниц|профил|групп|сообществ|паблик|канал)\w*"
    # technical problems of the platforms themselves ("почему не грузится вк")
    r"|^(?!.*(?:реклам|продвиж|smm|таргет|продаж|клиент|заявк|охват|подписчик)).*(?:"
    r"\bне\s+(?:груз|работа|открыва|загружа|приход|воспроизвод|отправля|доставля|обновля|отобража"
    r"|звонит|пишет|присыла)\w*\b.*\b(?:вк|вконтакт|инст|телеграм|телег|тг|ютуб"
    r"|youtube|тикток|tiktok|ватсап|whatsapp|одноклассник|прилож)"
    r"|\b(?:вк|вконтакт\w*|инст\w*|телеграм\w*|телег\w*|тг|ютуб\w*|тикток\w*|ватсап\w*|одноклассник\w*|прилож\w*)\b"
    r".*\bне\s+(?:груз|работа|открыва|загружа|отправля|доставля|обновля|отобража|приход)|\bглюч\w*|\bвылета\w*)"
    r"|\bнакрут\w*|\bнакручива\w*",
    # news about platforms: blocking, slowdowns, VPN
    r"\b(?:заблокир|блокир|разблокир|блокировк|замедл|запрет\w*\s+ли)\w*\b.*\b(?:инстаграм|фейсбук|ютуб|youtube"
    r"|instagram|facebook|телеграм|тикток|tiktok|твиттер|twitter|вк|вконтакт|whatsapp|ватсап|соц\w*)"
    r"|\b(?:инстаграм|фейсбук|ютуб|youtube|instagram|facebook|телеграм|тикток|tiktok|твиттер|twitter"
    r"|whatsapp|ватсап|вк|вконтакт)\w*\b.*\b(?:заблокир|блокир|разблокир|замедл|забан)|\bvpn\b|\bвпн\w*",
    # jobs at the agency / salaries (hiring *through* social networks stays answerable)
    r"^(?!.*(?:соц|сокс|socs|\bвк\b|вконтакт|инст|телеграм|\bтг\b|\bсет|паблик|сообществ|групп|канал)).*\bваканс"
    r"|\b(?:возьм|бер)\w*\s+(?:\w+\s+)?на\s+работу|\bработать\s+(?:у\s+вас|в\s+вашем)"
    r"|\bсколько\s+(?:\w+\s+){0,3}(?:получа|зарабатыва)\w*",
    # salaries with any verb or noun ("сколько платят смм менеджеру", "оклад сммщика")
    r"\b(?:оклад\w*|зп|зарплат\w*|получк\w*|ставк\w*\s+(?:у\s+)?(?:smm|менеджер|специалист))\b"
    r"|\b(?:плат[яи]т|получа\w*|зарабатыва\w*|доход\w*|заработ\w*)\b(?:\s+\w+){0,3}\s+"
    r"(?:smm|менеджер\w*|специалист\w*|таргетолог\w*|маркетолог\w*|копирайтер\w*|дизайнер\w*)"
    r"|\b(?:smm|менеджер\w*|специалист\w*|таргетолог\w*|маркетолог\w*)\b(?:\s+\w+){0,3}\s+"
    r"(?:плат[яи]т|получа(?:ет|ют)(?!\s+доступ)|зарабатыва\w*|доход\w*)\b",
    # changing one's own profile in a messenger or a network ("как поменять аватарку в телеграме")
    r"^(?!.*\bбот)(?:.*)\b(?:поменять|сменить|изменить|поставить|удалить|загрузить|привязать|отвязать)\s+(?:\w+\s+)?"
    r"(?:аватар\w*|аву|фото\w*|ник\w*|юзернейм\w*|пароль|обложк\w*|статус\w*|номер\w*|почт\w*|имя)\b(?:\s+\w+){0,2}\s+"
    r"(?:в|во)\s+(?:телеграм\w*|тг|вк|вконтакт\w*|инст\w*|ватсап\w*|whatsapp|одноклассник\w*|ютуб\w*|тикток\w*)",
    r"\b(?:change|update|edit|reset|delete|remove)\s+(?:my\s+)?(?:telegram|instagram|vk|whatsapp|facebook|tiktok)\s+"
    r"(?:username|avatar|profile|photo|picture|password|number|name|account)",
    # jobs at the agency, said otherwise ("хочу к вам работать", "набираете смм-щиков на удаленку")
    r"\bк\s+вам\s+(?:на\s+)?работ\w*|\bработ\w*\s+к\s+вам\b|\bнабира\w*\s+(?:\w+\s+)?(?:smm|сотрудник\w*|менеджер\w*"
    r"|специалист\w*|стажер\w*)(?!.*\b(?:через|в|во)\s+(?:\w+\s+)?(?:соц|вк\b|вконтакт|инст|телеграм|паблик|групп|сообществ))|\bна\s+удаленк\w*|\bудаленн\w*\s+работ\w*",
    # taxes, loans, registering a business: not our trade
    r"\bналог\w*|\bусн\b|\bндс\b|\bндфл\b|\bупрощенк\w*|\bпатент\w*|\bипотек\w*|\bкредит(?:ы|а|ов|у|ом|е|ный|ная|ные|ную)?\b|\bбухгалтер\w*|\bфнс\b"
    r"|\b(?:открыть|зарегистрировать|регистрац\w*|оформить|закрыть)\s+(?:\w+\s+)?(?:ип|ооо|самозанят\w*|юрлиц\w*)\b",
    # choosing software, e-mail newsletter services
    r"\bкак(?:ую|ой|ое|ие)\s+(?:\w+\s+)?(?:crm|црм|программ\w*|сервис\w*|приложени\w*|платформ\w*|конструктор\w*|хостинг\w*)"
    r"\s+(?:\w+\s+)?(?:выбрать|взять|купить|лучше|посоветуете|посоветуй)"
    r"|\b(?:email|e-mail|почта|почтов\w*|емейл|имейл|емаил|емайл|имэйл)[\s\-]*рассыл\w*|\b(?:unisender|sendpulse|mailchimp|dashamail"
    r"|getresponse)\b|\bсервис\w*\s+(?:для\s+)?(?:писем|рассыл\w*)",
    # building a website ("на каком конструкторе собрать сайт-визитку")
    r"^(?!.*(?:соц|\bвк\b|вконтакт|инст|телеграм|\bтг\b|паблик|групп|\bsmm\b)).*?\b(?:сделать|создать|собрать|сверстать"
    r"|разработать|заказать)\s+(?:\w+\s+)?(?:сайт|лендинг|сайт-визитк)\w*"
    r"|\bконструктор\w*|\b(?:тильд\w*|tilda|викс|wix|wordpress|вордпресс|битрикс\w*|bitrix)\b|\bсайт-визитк\w*",
    # when to post, hashtags: content craft the FAQ does not cover
    r"\b(?:в\s+какое\s+время|во\s+сколько|когда)\s+(?:\w+\s+){0,3}(?:публиковать|постить|выкладывать|размещать)\b"
    r"|\bх[еэ]ш?тег\w*|\bhashtags?\b",
    # insults
    r"\b(?:идиот|дурак|дебил|тупой|тупая|тупые|тупица|козл|урод|лох|придур|кретин|мудак|сволоч|бездар|дура\b)\w*"
    r"|^(?!.*(?:соц|\bвк\b|вконтакт|инст|телеграм|паблик|групп|наним|найм)).*\b(?:собеседован|работодател)\w*",
    # marketing craft the FAQ does not cover: bloggers, chat bots, posting frequency, giveaway rules,
    # followers fast, content ideas, other agencies' prices
    r"\bблог+ер\w*|\bинфлюенсер\w*|\bчат[\s\-]?бот\w*|\bкак\s+часто\s+(?:\w+\s+)?(?:постить|публиковать|выкладывать"
    r"|писать|снимать)\b|\bправил\w*\s+(?:\w+\s+)?(?:розыгрыш|конкурс|giveaway)\w*|\b(?:розыгрыш|конкурс)\w*\s+(?:\w+\s+)?"
    r"(?:законн|налог|по\s+закону)\w*|\b(?:быстро|бесплатно|за\s+день|за\s+неделю)\s+(?:\w+\s+)?(?:набрать|получить"
    r"|раскрутить)\s+(?:\w+\s+){0,3}подписчик\w*|\b(?:набрать|получить)\s+(?:\w+\s+){0,3}подписчик\w*\s+(?:\w+\s+){0,3}"
    r"(?:быстро|бесплатно|за\s+день|за\s+неделю|без\s+вложений|без\s+бюджета)|\bидеи?\s+(?:для\s+)?(?:постов|контента|сторис|рилс|публикаций)"
    r"|\bо\s+ч[её]м\s+(?:писать|постить|снимать)|\b(?:други\w*|остальн\w*)\s+агентств\w*\s+(?:\w+\s+){0,3}"
    r"(?:берут|бер[её]т|сто[ия]т|просят|цен\w*)|\b(?:цен\w*|стоимост\w*|стоит|разниц\w*)\b.*\bна\s+рынке\b|\b(?:цен\w*|стоимост\w*|расценк\w*)\s+(?:\w+\s+)?по\s+рынку\b"
    r"|\bрыночн\w*\s+(?:цен|стоимост)\w*",
    # the date, the time, the weather
    r"\bкакой\s+(?:сегодня\s+|завтра\s+|вчера\s+)?(?:день|праздник)\b|\bкакое\s+(?:сегодня\s+|завтра\s+)?число\b"
    r"|\bкоторый\s+(?:сейчас\s+)?час\b|\bкакая\s+(?:сегодня\s+|завтра\s+)?(?:дата|погода)\b|\bпогод(?:а|е|у|ы|ой)\b",
    # unfollowing a page, a group, a channel: a platform matter, not our newsletter
    r"\bотпис\w*\s+(?:от\s+)?(?:\w+\s+)?(?:паблик|групп|канал|сообществ|блогер|человек|страниц|аккаунт|друз"
    r"|пользовател|звезд|инфлюенсер)\w*",
    # how to write / shoot content yourself, bots' features: not covered by the FAQ
    r"\bкак\s+(?:\w+\s+)?(?:написать|писать|составить|придумать|снять|снимать|смонтировать|сделать|создать)\s+"
    r"(?:\w+\s+){0,2}(?:текст|пост|рилс|сторис|видео|ролик|заголов|слоган|описани|контент[\s\-]*план|хештег|хэштег"
    r"|логотип|обложк|аватар)\w*"
    r"|\b(?:сделать|создать|настроить|запустить)\s+(?:\w+\s+){0,2}(?:рассылк|кнопк|меню|автоответ|воронк)\w*"
    r"\s+(?:\w+\s+)?(?:в\s+)?(?:\w+\s+)?бот\w*",
    # a named company that is not us, with no SMM matter around it ("политика вайлдберриз")
    r"^(?!.*(?:реклам|продвиж|smm|таргет|соц|конкурент|директ|поиск|выдач|кросс|коллаб|охват|бренд)).*\b"
    + _THIRD_PARTY_NOT_SEARCH + r"\b",
    # "что за агентство ingate": some other company
    r"\bчто\s+за\s+(?:компани|агентств|фирм|контор|студи)\w*\s+"
    r"(?!(?:ваш|твоя|твой|kosm|косм|котор|эта|это|такая|такое|такой|у|в|и|по|на)\w*\b)[a-zа-я]{3,}",
    # questions about named third-party companies ("чем занимается компания яндекс")
    r"\b(?:чем\s+(?:занима|занят)\w*|что\s+(?:за\s+компани|производ|выпуска)\w*|кто\s+(?:владе|основ|созда)\w*"
    r"|расскаж\w*\s+(?:о|об|про)|история)\b.*\b" + _THIRD_PARTY + r"\b"
    r"|\b" + _THIRD_PARTY + r"\b.*\b(?:чем\s+(?:занима|занят)\w*|кто\s+(?:владе|основ|созда)\w*"
    r"|что\s+(?:это\s+)?за\s+компани\w*)"
    r"|\bчем\s+(?:занима|занят)\w*\s+(?:компани|фирм|корпораци|организаци)\w*\s+"
    r"(?!(?:ваш|твоя|твой|kosm|косм|котор|эта|это|по|в|на|и|для)\w*\b)[a-zа-я]{3,}",
    # requests to do the work for free ("сделай контент план для цветочного магазина"): an
    # imperative of making/writing with a work artifact as its object
    r"^(?!.*\b(?:вы|вас|вам|ваш\w*)\b).*?(?:^|[|.!?,])\s*(?:(?:а|ну|пожалуйста|плиз|бот|слушай|быстро|срочно|мне|нам)\s+)*"
    r"(?:сделай|сделайте|напиши|напишите|составь|составьте|придумай|придумайте|создай|создайте|разработай"
    r"|разработайте|нарисуй|нарисуйте|сгенерируй|сгенерируйте|подбери|подберите|сочини|сочините|накидай"
    r"|накидайте|распиши|распишите|проанализируй|проанализируйте|оцени|оцените|пропиши|пропишите)\b"
    r"\s+(?:\w+\s+){0,4}?" + _ARTIFACT +
    r"|\b(?:write|make|create|generate|draw|design)\s+(?:me\s+|us\s+)?(?:a\s+|an\s+|some\s+)?"
    r"(?:content\s+plan|post|text|slogan|logo|caption|hashtag|strateg|plan|name|description|ad\b)",
)
OFFTOPIC_PATTERNS: tuple[re.Pattern[str], ...] = tuple(re.compile(p) for p in _OFFTOPIC_SPECS)
_COMMON_WORDS = ("как", "что", "сколько", "можно", "нужно", "это", "для")  # poor needles: most questions have them
# (needles or None, pattern) of each rule
_OFFTOPIC_RULES: tuple[tuple[tuple[str, ...] | None, re.Pattern[str]], ...] = tuple(
    (needles(p.pattern, _COMMON_WORDS), p) for p in OFFTOPIC_PATTERNS)


# Acknowledgements and filler: a message made only of these is never answered ("ок понял",
# "спасибо, ясно", "супер").  Matched on the folded words of the message.
FILLER_WORDS = frozenset("""
ок окей окэй оке океюшки ok okay okey kk понял поняла поняли понятно понятненько ясно ясненько
ясн ясен принял приняла принято спасибо спс спасибки благодарю благодарим сенкс мерси пасиб thanks
thank thx ty хорошо хор харашо отлично отличненько супер круто класс классно клево здорово
замечательно прекрасно шикарно огонь топ норм нормально ладно ладушки лады ага угу ну да нет
так вот а и все всё уже теперь большое огромное вам тебе you very much good great cool nice fine
got it sure yes no ok-ok хм хмм ммм эх ох ой ах ух вау wow пока до свидания всего доброго хорошего
дня удачи bye got разобрался разобралась спасибочки благодарствую подумаю подумаем подумать посмотрим
решу решим позже потом попозже вернусь вернемся напишу свяжусь
за ответ ответы информацию инфу инфо информация помощь подсказку консультацию разъяснение
разъяснения пояснение пояснения понятненько ясненько буду знать учту приму к сведению
""".split())


_WORD_RE = re.compile(r"[a-zа-я0-9]+")


@lru_cache(maxsize=4096)
def is_filler(query: str) -> bool:
    """A message made of acknowledgement/filler words only ("ок понял", "спасибо, ясно")."""
    words = _WORD_RE.findall(fold(query or ""))
    return bool(words) and all(w in FILLER_WORDS for w in words)


def _bigrams(seq: list[tuple[str, int]]) -> list[str]:
    """Bigram terms ("+a b") of adjacent words (term, source-word group); words of one source
    word ("соцсети" -> "социальн", "сет") do not pair.  Group -1: glued words, always pair."""
    out = []
    for (a, ga), (b, gb) in zip(seq, seq[1:]):
        if a != b and (ga != gb or ga == -1):
            out.append(f"{BIGRAM_PREFIX}{a} {b}")
    return out


@lru_cache(maxsize=8192)
def _offtopic_text(s: str) -> bool:
    for gate, rx in _OFFTOPIC_RULES:
        if gate is not None:
            for n in gate:
                if n in s:
                    break
            else:
                continue
        if rx.search(s):
            return True
    return False


@lru_cache(maxsize=4096)
def _focus_text(q: str) -> str | None:
    """The sentences of a message that ask (end with "?" or start with a question word; else
    the last one), when some others do not; None otherwise (see ``FaqIndex._focused``)."""
    sents = [x for x in _SENTENCE_SPLIT_RE.split(q.strip()) if x and not x.isspace()]
    # "Прежде чем заказывать, хочу узнать ...": the condition is context too
    sents = [p.strip() for x in sents for p in _SUBORDINATE_SPLIT_RE.split(fold(x).strip()) if p and not p.isspace()]
    if len(sents) < 2:
        return None
    focus = [x for x in sents if x.endswith("?") or _QUESTION_START_RE.match(x)]
    if not focus:
        focus = sents[-1:]
    if len(focus) == len(sents):
        return None
    return " ".join(focus)


@dataclass(frozen=True, slots=True)
class SearchResult:
    query: str
    entry: Entry | None
    score: float
    suggestions: tuple[Entry, ...] = ()

    @property
    def status(self) -> Status:
        if self.entry is not None:
            return "answer"
        return "unsure" if self.suggestions else "none"


# kinds of word readings (FaqIndex._word_uncached)
_TERM, _GLUED, _GAP, _OOV = range(4)


@dataclass(frozen=True, slots=True)
class _Resolved:
    terms: dict[str, float]  # term -> match quality
    oov_mass: float
    strong: int = 0  # content words (known or not; weak pseudo terms excluded)
    weight: dict[str, float] | None = None  # query-side weight of terms (context words < 1)


@dataclass(slots=True)
class FaqIndex:
    corpus: Corpus
    answer_threshold: float = ANSWER_THRESHOLD
    suggest_threshold: float = SUGGEST_THRESHOLD
    low_threshold: float = LOW_ANSWER_THRESHOLD
    low_margin: float = LOW_ANSWER_MARGIN
    low_evidence: float = LOW_ANSWER_EVIDENCE
    offtopic_min: float = OFFTOPIC_MIN
    offtopic_margin: float = OFFTOPIC_MARGIN
    rescore_top: int = RESCORE_TOP
    max_postings: tuple[int, int] = (MAX_POSTINGS, MAX_POSTINGS_GENERIC)
    # --- built data
    _neg: FaqIndex | None = field(default=None, repr=False)  # index of the off-topic examples
    _neg_core: frozenset[str] = field(default=frozenset(), repr=False)  # words any kind can be novel on
    _entry_pos: dict[str, int] = field(default_factory=dict, repr=False)
    _idf: dict[str, float] = field(default_factory=dict, repr=False)
    _postings: dict[str, tuple[int, ...]] = field(default_factory=dict, repr=False)
    _field_entry: list[int] = field(default_factory=list, repr=False)
    _field_norm2: list[float] = field(default_factory=list, repr=False)
    _field_weight: list[float] = field(default_factory=list, repr=False)
    _field_const: list[float] = field(default_factory=list, repr=False)  # fweight / norm2^(1-α)
    _answer_terms: list[frozenset[str]] = field(default_factory=list, repr=False)
    _entry_terms: list[frozenset[str]] = field(default_factory=list, repr=False)
    _core_terms: list[frozenset[str]] = field(default_factory=list, repr=False)  # in >= DF_FULL_FIELDS fields
    _title_terms: list[frozenset[str]] = field(default_factory=list, repr=False)
    # term -> entries that have it in their fields, in their answer (see _coverage)
    _term_entries: dict[str, tuple[int, ...]] = field(default_factory=dict, repr=False)
    _term_answers: dict[str, tuple[int, ...]] = field(default_factory=dict, repr=False)
    _wide_terms: dict[str, frozenset[int]] = field(default_factory=dict, repr=False)  # in > BOUND_SPAN entries
    _skeleton: dict[str, str] = field(default_factory=dict, repr=False)
    _surface_buckets: dict[tuple[str, int], list[str]] = field(default_factory=dict, repr=False)
    _surface_term: dict[str, str] = field(default_factory=dict, repr=False)
    _exact: dict[str, int] = field(default_factory=dict, repr=False)
    _by_prefix: dict[str, str] = field(default_factory=dict, repr=False)
    _def_subjects: tuple[tuple[frozenset[str], int, float], ...] = field(default=(), repr=False)
    _acc_d: list[float] = field(default_factory=list, repr=False)  # scoring buffers, see _score
    _acc_b: list[float] = field(default_factory=list, repr=False)
    _acc_x: list[float] = field(default_factory=list, repr=False)
    _resolve_cached: object = field(default=None, repr=False)
    _fuzzy_cached: object = field(default=None, repr=False)
    _word_cached: object = field(default=None, repr=False)
    _rank_cached: object = field(default=None, repr=False)
    _neg_cached: object = field(default=None, repr=False)
    _reach_cached: object = field(default=None, repr=False)

    # ------------------------------------------------------------------ build
    @classmethod
    def build(cls, corpus: Corpus, *, answer_threshold: float = ANSWER_THRESHOLD,
              suggest_threshold: float = SUGGEST_THRESHOLD, low_threshold: float | None = None,
              low_margin: float = LOW_ANSWER_MARGIN,
              low_evidence: float = LOW_ANSWER_EVIDENCE) -> FaqIndex:
        """``low_threshold`` defaults to ``LOW_ANSWER_THRESHOLD`` with the default answer
        threshold and to ``answer_threshold`` (no low band) with a custom one."""
        if low_threshold is None:
            low_threshold = LOW_ANSWER_THRESHOLD if answer_threshold == ANSWER_THRESHOLD else answer_threshold
        self = cls(corpus=corpus, answer_threshold=answer_threshold,
                   suggest_threshold=suggest_threshold, low_threshold=min(low_threshold, answer_threshold),
                   low_margin=low_margin, low_evidence=low_evidence)
        return self._build()

    def _build(self) -> FaqIndex:
        corpus = self.corpus
        self._entry_pos = {e.id: i for i, e in enumerate(corpus.entries)}
        if corpus.offtopic:
            neg = FaqIndex(corpus=Corpus.from_entries([
                Entry(id=t.id, title=t.title, question=t.phrasings[0], phrasings=t.phrasings[1:], answer="")
                for t in corpus.offtopic]), rescore_top=OFFTOPIC_RESCORE_TOP, max_postings=OFFTOPIC_POSTINGS)
            self._neg = neg._build()
            self._neg_core = frozenset().union(*self._neg._core_terms)
        n = len(corpus.entries)
        df: dict[str, float] = defaultdict(float)
        fields_total: dict[str, int] = defaultdict(int)  # fields (all entries) a term is in
        field_terms: list[frozenset[str]] = []
        surface_term: dict[str, str] = {}

        # Analysis first, terms after: a transliterated word of a phrasing ("skolko stoit") is
        # indexed as its Russian reading when the corpus has that word in Cyrillic, so texts
        # with such words wait until the Cyrillic vocabulary is complete.
        cyr_vocab: set[str] = set()
        # per entry: (text, weight, slots) of its fields and the answer's slots
        analysed: list[tuple[list[tuple[str, float, tuple]], tuple]] = []
        for e in corpus.entries:
            texts = [(e.title, 1.0), (e.question, 1.0)]
            texts += [(p, 1.0) for p in e.phrasings]
            texts += [(k, KEYWORD_FIELD_WEIGHT) for k in e.keywords]
            fields = []
            for text, weight in texts:
                slots = analyze(text, True)
                cyr_vocab.update(s.terms[0] for s in slots if len(s.terms) == 1)
                fields.append((text, weight, slots))
            ans = analyze(e.answer, True)
            cyr_vocab.update(s.terms[0] for s in ans if len(s.terms) == 1)
            analysed.append((fields, ans))

        def terms_of(slots: tuple, bigrams: bool = False) -> frozenset[str]:
            """Index terms of analysed text (with the bigram terms of adjacent content words
            when ``bigrams``); also records surface word -> term for typo matching."""
            pairs = [(next((t for t in s.terms[1:] if t in cyr_vocab), s.terms[0]), s) for s in slots]
            for t, slot in pairs:
                if slot.surface and slot.surface not in surface_term and len(slot.terms) == 1:
                    surface_term[slot.surface] = t
            out = {t for t, _ in pairs}
            if bigrams and len(out) >= BIGRAM_MIN_FIELD:  # short fields: the words are the phrase
                out.update(_bigrams([(t, s.group) for t, s in pairs if t[0] != "~"]))
            return frozenset(out)

        for ei, (e, (fields, ans_slots)) in enumerate(zip(corpus.entries, analysed)):
            entry_terms: set[str] = set()
            field_count: dict[str, int] = defaultdict(int)
            seen: set[frozenset[str]] = set()
            for text in (e.title, e.question, *e.phrasings):
                self._exact.setdefault(phrase_key(text), ei)
            for _text, weight, slots in fields:
                terms = terms_of(slots, True)
                if not terms or terms in seen:
                    continue
                seen.add(terms)
                field_terms.append(terms)
                self._field_entry.append(ei)
                self._field_weight.append(weight * (SINGLE_TERM_FIELD_WEIGHT if len(terms) == 1 else 1.0))
                entry_terms |= terms
                for t in terms:
                    field_count[t] += 1
            self._entry_terms.append(frozenset(entry_terms))
            self._core_terms.append(frozenset(t for t, k in field_count.items() if k >= DF_FULL_FIELDS))
            self._title_terms.append(terms_of(fields[0][2]))
            ans = terms_of(ans_slots)
            self._answer_terms.append(ans)
            # soft document frequency: a word in one stray phrasing of an entry counts little,
            # one found in DF_FULL_FIELDS of its fields (or in its answer) counts fully
            for t, k in field_count.items():
                fields_total[t] += k
            for t in entry_terms | ans:
                df[t] += max(DF_ANSWER if t in ans else 0.0, min(1.0, field_count.get(t, 0) / DF_FULL_FIELDS))
        del analysed

        idf = {t: max(MIN_IDF, math.log(1.0 + (n - d + 0.5) / (d + 0.5))) for t, d in df.items()}
        for t in idf:
            if t[0] == "~":
                idf[t] = WEAK_IDF
            elif t[0] == BIGRAM_PREFIX:
                idf[t] *= BIGRAM_WEIGHT
            elif t in PLATFORM_TERMS:
                idf[t] = min(idf[t], PLATFORM_IDF)
            elif t in LOW_INFO_STEMS:
                idf[t] = min(idf[t], LOW_INFO_IDF)
            if HAPAX_IDF and fields_total.get(t, 0) <= HAPAX_FIELDS and t[0] not in "~+":
                idf[t] = min(idf[t], HAPAX_IDF)

        self._idf = idf
        postings: dict[str, list[int]] = defaultdict(list)
        for fi, terms in enumerate(field_terms):
            # bigram terms are left out of the field norm: a field is not penalised for the
            # phrases a query lacks, only rewarded (numerator and norm) for those it shares
            self._field_norm2.append(sum(idf[t] ** 2 for t in terms if t[0] != BIGRAM_PREFIX))
            for t in terms:
                postings[t].append(fi)
        for terms_of, name in ((self._entry_terms, "_term_entries"), (self._answer_terms, "_term_answers")):
            entries_of: dict[str, list[int]] = defaultdict(list)
            for ei, terms in enumerate(terms_of):
                for t in terms:
                    entries_of[t].append(ei)
            setattr(self, name, {t: tuple(es) for t, es in entries_of.items()})
        self._wide_terms = {t: frozenset(es) for t, es in self._term_entries.items() if len(es) > BOUND_SPAN}
        norm2 = self._field_norm2
        self._field_const = [w / n ** (1.0 - ALPHA) if n else 0.0 for w, n in zip(self._field_weight, norm2)]
        self._postings = {
            t: tuple(sorted(lst, key=norm2.__getitem__)[
                :self.max_postings[0 if idf[t] >= GENERIC_IDF and t[0] != "~" else 1]])
            for t, lst in postings.items()
        }
        for t in idf:
            if t[0] != "~" and t[0] != BIGRAM_PREFIX:
                self._skeleton.setdefault(skeleton(t), t)
        # prefix -> most frequent known stem with that prefix (for derivational variants)
        by_prefix: dict[str, str] = {}
        for t in sorted(idf, key=lambda t: (-df[t], t)):
            if t[0] == "~" or len(t) < MIN_PREFIX or not ("а" <= t[0] <= "я"):
                continue
            for k in range(MIN_PREFIX, len(t) + 1):
                by_prefix.setdefault(t[:k], t)
        self._by_prefix = by_prefix
        # definition subjects: subject term set -> entry (majority of the phrasings)
        votes: dict[frozenset[str], dict[int, int]] = defaultdict(lambda: defaultdict(int))
        for ei, e in enumerate(corpus.entries):
            for text in (e.question, *e.phrasings):
                key = phrase_key(text)
                for rx in _DEF_SUBJECT_RES:
                    m = rx.match(key)
                    if m:
                        subj = frozenset(s.terms[0] for s in analyze(m.group("s"), True)
                                         if s.terms[0][0] != "~")
                        if subj and len(subj) <= 3:
                            votes[subj][ei] += 1
                        break
        subjects = []
        for subj, v in votes.items():
            ranked_v = sorted(v.items(), key=lambda kv: -kv[1])
            if len(ranked_v) > 1 and ranked_v[1][1] == ranked_v[0][1]:
                continue  # ambiguous subject
            subjects.append((subj, ranked_v[0][0], sum(idf.get(t, 0.0) for t in subj)))
        subjects.sort(key=lambda x: -x[2])
        self._def_subjects = tuple(subjects)
        buckets: dict[tuple[str, int], list[str]] = defaultdict(list)
        for w in surface_term:
            if len(w) >= 5:
                buckets[(w[0], len(w))].append(w)
        self._surface_buckets = dict(buckets)
        self._surface_term = surface_term
        self._init_caches()
        return self

    _CACHES = ("_resolve_cached", "_word_cached", "_fuzzy_cached", "_rank_cached", "_neg_cached", "_reach_cached")
    _BUFFERS = ("_acc_d", "_acc_b", "_acc_x")

    def _init_caches(self) -> None:
        """Per-message caches and scoring buffers (after a build or a snapshot load)."""
        self._acc_d = [0.0] * len(self._field_norm2)
        self._acc_b = [0.0] * len(self._field_norm2)
        self._acc_x = [0.0] * len(self._field_norm2)
        self._resolve_cached = lru_cache(maxsize=4096)(self._resolve_uncached)
        self._fuzzy_cached = lru_cache(maxsize=16384)(self._fuzzy_uncached)
        self._word_cached = lru_cache(maxsize=32768)(self._word_uncached)  # per word, like the stems
        self._rank_cached = lru_cache(maxsize=4096)(self._rank_uncached)  # the index never changes
        self._neg_cached = lru_cache(maxsize=4096)(self._neg_uncached)
        self._reach_cached = lru_cache(maxsize=4096)(self._reach_uncached)

    def __getstate__(self) -> dict:
        """Built data only (see ``faq/snapshot.py``): caches and buffers are made anew on load."""
        return {name: getattr(self, name) for name in self.__dataclass_fields__
                if name not in self._CACHES and name not in self._BUFFERS}

    def __setstate__(self, state: dict) -> None:
        for name, value in state.items():
            setattr(self, name, value)
        self._init_caches()

    # ------------------------------------------------------------------ query
    def _fuzzy_uncached(self, word: str) -> tuple[str, int] | None:
        n = len(word)
        if n < 5:
            return None
        maxd = 1 if n <= 6 else 2 if n <= 9 else 3
        best: tuple[str, int] | None = None
        for L in range(n - maxd, n + maxd + 1):
            choices = self._surface_buckets.get((word[0], L))
            if not choices:
                continue
            limit = maxd if best is None else best[1] - 1
            if limit < 0:
                break
            hit = process.extractOne(word, choices, scorer=Levenshtein.distance, score_cutoff=limit)
            if hit is not None and (best is None or hit[1] < best[1]):
                best = (hit[0], int(hit[1]))
        if best is None:
            return None
        return self._surface_term[best[0]], best[1]

    def _prefix_match(self, stem: str) -> tuple[str, float] | None:
        """A known stem that extends ``stem`` or shares all but its last letter
        ("расшифр" ~ "расшифровк", "коллаб" ~ "коллаборац")."""
        n = len(stem)
        if n < MIN_PREFIX:
            return None
        t = self._by_prefix.get(stem)
        if t is None and n - 1 >= MIN_PREFIX:
            t = self._by_prefix.get(stem[:-1])
            if t is not None and len(t) > n + 1:
                t = None
        return (t, PREFIX_QUALITY) if t is not None else None

    def _known_word(self, word: str) -> tuple[tuple[str, ...], bool] | None:
        """Index terms of a word that is in the vocabulary exactly (or a stop/weak word: no
        terms); None if unknown.  The flag says the word is a function word."""
        if word in RU_STOPWORDS or word in WEAK_WORDS:
            w = WEAK_WORDS.get(word)
            return ((w,) if w and w in self._idf else ()), True
        if SURFACE_SYNONYMS.get(word) == "":
            return (), True
        if len(word) < 2:
            return None
        if len(word) < 5 and word not in self._surface_term:
            return None  # "нич"+"его", "идио"+"ты": a short stem is no evidence of a word
        slots = analyze(word)
        if not slots or any(sl.terms[0] not in self._idf for sl in slots):
            return None
        return tuple(sl.terms[0] for sl in slots), False

    def _split_glued(self, word: str) -> tuple[str, ...] | None:
        """Terms of ``word`` read as two known words typed without a space."""
        n = len(word)
        if n < MIN_GLUED or not ("а" <= word[0] <= "я"):
            return None
        for i in range(1, n - 1):
            left, right = word[:i], word[i:]
            if left in _NO_GLUE_LEFT or (len(left) < 3 and left not in _GLUE_PREFIXES and left not in RU_STOPWORDS
                                         and left not in WEAK_WORDS):
                continue  # "ид"+"иоты": a two-letter piece must be a preposition or a function word
            if left in _GLUE_PREFIXES and (len(right) < 4 or right not in self._surface_term):
                continue  # "на"+"сайт" is a glue only if "сайт" is a corpus word ("ни"+"кому" is not)
            a = self._known_word(left)
            if a is None:
                continue
            b = self._known_word(right)
            if b is None:
                continue
            if left in _GLUE_PREFIXES and b[1]:  # "на"+"то", "по"+"том": a word, not a glue
                continue
            return a[0] + b[0]
        return None

    def _word_uncached(self, terms: tuple[str, ...], surface: str) -> tuple:
        """How the index reads one content word (slot ``terms``, ``surface``), as one of
        ``(_TERM, term, quality)``, ``(_GLUED, terms)``, ``(_GAP,)`` (in-domain, no topic),
        ``(_OOV, key, weight)`` (unknown: ``key`` counts once per message)."""
        idf = self._idf
        if any(t in PLATFORM_TERMS for t in terms) and not any(t in idf for t in terms):
            return (_GAP,)  # a social network the FAQ never names: in-domain, not a topic
        if terms[0] in LOW_INFO_STEMS and terms[0] not in idf:
            return (_OOV, terms[0], LOW_INFO_OOV_WEIGHT)
        for cand in terms:
            if cand in idf:
                return (_TERM, cand, 1.0)
        # a short Latin word ("joke", "hi") read as Russian is too short to guess at
        if not (len(terms) > 1 and len(surface) < MIN_LATIN_LOOSE):
            for cand in terms:
                sk = self._skeleton.get(skeleton(cand))
                if sk is not None:
                    return (_TERM, sk, SKELETON_QUALITY)
            found = self._prefix_match(terms[0])
            if found is not None:
                return (_TERM, *found)
            if surface:
                glued = self._split_glued(surface)
                if glued is not None:
                    return (_GLUED, glued)
                fz = self._fuzzy_cached(surface)
                if fz is not None:
                    return (_TERM, fz[0], max(0.4, 1.0 - FUZZY_STEP * fz[1]))
        key = terms[0]
        if key.isdigit():
            w = NUM_OOV_WEIGHT
        elif surface and _VERB_RE.search(surface) and surface not in _VERB_NOUN_EXCEPTIONS:
            w = OOV_VERB_WEIGHT
        else:
            w = OOV_WEIGHT
        return (_OOV, key, w)

    def _resolve_uncached(self, query: str) -> _Resolved:
        terms: dict[str, float] = {}
        oov = 0.0
        oov_seen: set[str] = set()
        idf = self._idf
        word = self._word_cached
        strong = weak = 0
        seq: list[tuple[str, int] | None] = []  # resolved content terms in order (None: a gap)
        for slot in analyze(query):
            if slot.terms[0][0] == "~":  # weak pseudo term: never OOV, never fuzzy
                t = slot.terms[0]
                if t in idf:
                    terms[t] = 1.0
                    weak += 1
                continue
            strong += 1
            r = word(slot.terms, slot.surface)
            kind = r[0]
            if kind == _TERM:
                t, m = r[1], r[2]
                seq.append((t, slot.group))
                if m > terms.get(t, 0.0):
                    terms[t] = m
            elif kind == _OOV:
                seq.append(None)
                if r[1] not in oov_seen:
                    oov_seen.add(r[1])
                    oov += r[2] * r[2]
            elif kind == _GAP:
                seq.append(None)
            else:  # two known words typed without a space
                glued = r[1]
                for t in glued:
                    if t[0] == "~":
                        terms[t] = 1.0
                        weak += 1
                        continue
                    seq.append((t, -1))
                    if GLUED_QUALITY > terms.get(t, 0.0):
                        terms[t] = GLUED_QUALITY
                if not any(t[0] != "~" for t in glued):
                    strong -= 1
        if strong == 0 and weak < MIN_WEAK_ONLY:
            terms = {}
        else:
            # phrase features: bigrams of adjacent resolved words known to the corpus
            run: list[tuple[str, int]] = []
            for item in seq + [None]:
                if item is not None:
                    run.append(item)
                    continue
                if len(run) > 1:
                    for b in _bigrams(run):
                        if b in idf:
                            a, c = b[1:].split(" ", 1)
                            terms[b] = min(terms.get(a, 1.0), terms.get(c, 1.0))
                run = []
        return _Resolved(terms, oov, strong)

    def _query_weights(self, res: _Resolved) -> tuple[dict[str, float], dict[str, float], float]:
        """Squared IDF of the query terms, the same on the query side (context words weigh
        less) and the query mass (with the unknown words')."""
        idf = self._idf
        cw = res.weight
        w2 = {t: idf[t] ** 2 for t in res.terms}
        wq2 = w2 if cw is None else {t: w * cw.get(t, 1.0) for t, w in w2.items()}
        return w2, wq2, sum(wq2.values()) + res.oov_mass

    def _may_reach(self, res: _Resolved, need: float) -> bool:
        """Whether some entry's score ``_score(res)`` can reach ``need``, found without the
        fields.  An entry's fields hold at most the query terms the entry has (their share of the
        query mass is its entry coverage c), so its best field similarity is at most c^α (field
        coverage and field weight are at most 1) and its score at most (1-ab-eb)·c^α + eb·c +
        ab·(answer coverage).  Terms found in more than ``BOUND_SPAN`` entries are first counted
        as found in all of them (a looser bound, fast); the entries that pass it are then
        checked exactly, best first."""
        _w2, wq2, q_mass = self._query_weights(res)
        ecov: dict[int, float] = {}
        acov: dict[int, float] = {}
        wide: list[tuple[float, frozenset[int]]] = []
        e_all = a_all = 0.0
        for t, m in res.terms.items():
            w = wq2[t] * m / q_mass
            es = self._term_entries.get(t, ())
            if len(es) > BOUND_SPAN:
                e_all += w
                wide.append((w, self._wide_terms[t]))
            else:
                for ei in es:
                    ecov[ei] = ecov.get(ei, 0.0) + w
            es = self._term_answers.get(t, ())
            if len(es) > BOUND_SPAN:
                a_all += w
            else:
                for ei in es:
                    acov[ei] = acov.get(ei, 0.0) + w
        ab, eb = ANSWER_BLEND, ENTRY_BLEND
        sb = 1.0 - ab - eb

        def bound(c: float, ac: float) -> float:
            return sb * c ** ALPHA + eb * c + ab * ac

        a_max = a_all + max(acov.values(), default=0.0)
        if e_all and bound(e_all, a_max) >= need:
            # entries with wide terms only might reach it: each of them, exactly
            for ei in frozenset().union(*(es for _w, es in wide)) - ecov.keys():
                if bound(sum(w for w, es in wide if ei in es), a_all + acov.get(ei, 0.0)) >= need:
                    return True
        for ei, c in sorted(ecov.items(), key=itemgetter(1), reverse=True):
            if bound(c + e_all, a_max) < need:
                break  # (sorted: no later entry passes the loose form either)
            if bound(c + sum(w for w, es in wide if ei in es), a_all + acov.get(ei, 0.0)) >= need:
                return True
        return False

    def _score(self, res: _Resolved) -> dict[int, float]:
        """Entry index -> score for resolved query terms."""
        w2, wq2, q_mass = self._query_weights(res)
        postings = self._postings
        a = ALPHA
        # per-field accumulators: persistent zeroed lists indexed by field (cheaper than dicts),
        # zeroed again as they are read: word terms, phrase (bigram) terms, and how much lower
        # the query side is than the field side (context words, typo matches; mostly nothing)
        acc_d, acc_b, acc_x = self._acc_d, self._acc_b, self._acc_x
        touched: set[int] = set()
        touched_b: set[int] = set()
        top = [0.0] * len(self._answer_terms)  # best field similarity per entry
        short_any = False
        try:
            for t, m in res.terms.items():
                pl = postings.get(t)
                if not pl:
                    continue
                wt = w2[t]
                acc = acc_b if t[0] == BIGRAM_PREFIX else acc_d
                (touched_b if acc is acc_b else touched).update(pl)
                short = wt - wq2[t] * m
                if short:
                    short_any = True
                    for fi in pl:
                        acc[fi] += wt
                        acc_x[fi] += short
                else:
                    for fi in pl:
                        acc[fi] += wt
            fentry = self._field_entry
            fweight = self._field_weight
            norm2 = self._field_norm2
            # the best field of each entry, before the factor 1 / q_mass^α that all fields share:
            # sim = q^α · ((d + nb) / (norm2 + nb))^(1-α) · fweight / q_mass^α with d, nb the field
            # side of the shared words and phrases and q = d + nb - x the query side; when q = d
            # + nb that is (d + nb) · fweight / (norm2 + nb)^(1-α), and without a shared phrase
            # d · fconst (fconst = fweight / norm2^(1-α), precomputed)
            fconst = self._field_const
            if not touched_b and not short_any:
                for fi in touched:
                    sim = acc_d[fi] * fconst[fi]
                    acc_d[fi] = 0.0
                    ei = fentry[fi]
                    if sim > top[ei]:
                        top[ei] = sim
            else:
                for fi in touched:
                    d = acc_d[fi]
                    acc_d[fi] = 0.0
                    nb = acc_b[fi]
                    x = acc_x[fi]
                    if nb:
                        if x:
                            acc_x[fi] = 0.0
                            sim = (d + nb - x) ** a * ((d + nb) / (norm2[fi] + nb)) ** (1.0 - a) * fweight[fi]
                        else:
                            sim = (d + nb) * fweight[fi] / (norm2[fi] + nb) ** (1.0 - a)
                    elif x:
                        acc_x[fi] = 0.0
                        sim = d * ((d - x) / d) ** a * fconst[fi]
                    else:
                        sim = d * fconst[fi]
                    ei = fentry[fi]
                    if sim > top[ei]:
                        top[ei] = sim
                for fi in touched_b:  # (with the fields that share a phrase only)
                    acc_b[fi] = acc_x[fi] = 0.0
        except BaseException:
            for fi in touched | touched_b:
                acc_d[fi] = acc_b[fi] = acc_x[fi] = 0.0
            raise
        inv = 1.0 / q_mass ** a
        best = {ei: top[ei] * inv for ei in compress(range(len(top)), top)}
        if len(best) > self.rescore_top:  # big corpora: blend only the best field matches
            best = dict(heapq.nlargest(self.rescore_top, best.items(), key=itemgetter(1)))
        qw = {t: wq2[t] * m / q_mass for t, m in res.terms.items()}
        ab, eb = ANSWER_BLEND, ENTRY_BLEND
        sb = 1.0 - ab - eb
        ecov = self._coverage(qw, best, self._entry_terms, self._term_entries)
        acov = self._coverage(qw, best, self._answer_terms, self._term_answers)
        return {ei: sb * sim + eb * ecov[ei] + ab * acov[ei] for ei, sim in best.items()}

    @staticmethod
    def _coverage(qw: dict[str, float], entries: dict[int, float], terms_of: list[frozenset[str]],
                  entries_of: dict[str, tuple[int, ...]]) -> dict[int, float]:
        """Entry -> sum of the weights ``qw`` of the query terms it has, for ``entries``: term
        by term over the entries that have each term, or entry by entry (set intersections),
        whichever visits fewer items."""
        if not entries_of:
            return dict.fromkeys(entries, 0.0)  # (off-topic kinds have no answer text)
        per_term = [(w, entries_of.get(t, ())) for t, w in qw.items()]
        if sum(len(es) for _w, es in per_term) <= 2 * len(entries) * len(qw):
            cov = dict.fromkeys(entries, 0.0)
            for w, es in per_term:
                for ei in es:
                    if ei in cov:
                        cov[ei] += w
            return cov
        w, qs = qw.__getitem__, frozenset(qw)
        return {ei: sum(map(w, qs & terms_of[ei])) for ei in entries}

    @staticmethod
    def clauses(query: str) -> list[str]:
        """Clauses of a message (split on punctuation and contrastive/conditional conjunctions);
        [] for a single-clause message."""
        parts = [p.strip() for p in _CLAUSE_SPLIT_RE.split(fold(query)) if p and not p.isspace()]
        return parts if len(parts) > 1 else []

    def rank(self, query: str) -> list[tuple[Entry, float]]:
        """All candidate entries with scores, best first (before thresholds).

        The score of an entry is the best of the whole message and, at ``CLAUSE_FACTOR``,
        each of its clauses with at least ``MIN_CLAUSE_TERMS`` known content terms."""
        q = (query or "")[:MAX_QUERY_CHARS]
        if not q.strip():
            return []
        return list(self._rank_cached(q))

    def _focused(self, q: str) -> _Resolved | None:
        """A message of several sentences with the question in some of them ("У нас фитнес-клуб
        в Краснодаре, рядом открылись ещё два. Как через соцсети быть в курсе их акций?"):
        the words of the other sentences weigh ``CONTEXT_WEIGHT`` (their unknown words too)."""
        focus = _focus_text(q)
        if focus is None:
            return None
        fres: _Resolved = self._resolve_cached(focus)
        if not any(t[0] not in "~+" for t in fres.terms):
            return None
        # the statements' words are those of the whole message (resolved anyway) beyond the question's
        full: _Resolved = self._resolve_cached(q)
        terms = dict(fres.terms)
        weight: dict[str, float] = {}
        for t, m in full.terms.items():
            if t not in terms:
                terms[t] = m
                weight[t] = CONTEXT_WEIGHT
        oov = fres.oov_mass + CONTEXT_WEIGHT * max(0.0, full.oov_mass - fres.oov_mass)
        return _Resolved(terms, oov, full.strong, weight)

    def _rank_uncached(self, q: str) -> tuple[tuple[Entry, float], ...]:
        res: _Resolved = self._resolve_cached(q)
        if not res.terms:
            return ()
        # a message with a question among statements is scored with the statements' words
        # weighing less (``_focused``) instead of all words alike
        focused = self._focused(q) if CONTEXT_WEIGHT < 1.0 else None
        scores = self._score(focused if focused is not None else res)
        idf = self._idf
        seen: set[frozenset[str]] = set()
        # clauses of a message already split into question and statements add nothing
        clauses = (self.clauses(q) if focused is None and max(scores.values(), default=0.0) < CLAUSE_SKIP
                   else ())
        for c in clauses:
            if _SUBORDINATE_RE.match(c):
                continue  # "перед тем как заполнить бриф, ...": a condition, not the question
            exact = self._exact.get(phrase_key(c))
            if exact is not None:  # a clause that is an FAQ question word for word
                scores[exact] = max(scores.get(exact, 0.0), CLAUSE_FACTOR)
                continue
            if len(seen) >= MAX_CLAUSES:
                continue  # (exact clauses above still count)
            cres: _Resolved = self._resolve_cached(c)
            if cres.strong >= res.strong or sum(1 for t in cres.terms if t[0] not in "~+") < MIN_CLAUSE_TERMS:
                continue  # a clause must leave some content out and keep some
            key = frozenset(cres.terms)
            if key in seen:
                continue
            seen.add(key)
            # known content words left out still count against the clause (they may be the
            # topic: "запускаем новинку, как продвинуть?"); unknown ones are context and do not
            dropped = sum(idf[t] ** 2 for t in res.terms if t[0] not in "~+" and t not in cres.terms)
            if dropped:
                cres = _Resolved(cres.terms, cres.oov_mass + CLAUSE_DROPPED_KNOWN * dropped, cres.strong)
            for ei, sc in self._score(cres).items():
                sc *= CLAUSE_FACTOR
                if sc > scores.get(ei, 0.0):
                    scores[ei] = sc
        d = self.definition_entry(q)
        if d is not None and scores.get(d, 0.0) < DEFINITION_SCORE:
            scores[d] = DEFINITION_SCORE
        entries = self.corpus.entries
        out = [(entries[ei], sc) for ei, sc in scores.items()]
        out.sort(key=lambda x: -x[1])
        return tuple(out)

    def is_vague(self, query: str, ranked: list[tuple[Entry, float]]) -> bool:
        """A one-word query of a generic word (IDF below ``GENERIC_IDF``) or whose runner-up
        scores within ``VAGUE_RATIO`` of the top."""
        if len(ranked) < 2 or len(phrase_key(query[:MAX_QUERY_CHARS]).split()) != 1:
            return False
        terms = self._resolve_cached(query[:MAX_QUERY_CHARS]).terms
        if len(terms) != 1:
            return False
        if self._title_terms[self._entry_pos[ranked[0][0].id]] == frozenset(terms):
            return False  # the word is the title of the top entry ("контакты", "contacts")
        if self._idf[next(iter(terms))] < GENERIC_IDF:
            return True  # "реклама", "smm", "клиенты": a word found in most entries
        return ranked[1][1] >= VAGUE_RATIO * ranked[0][1]

    def definition_entry(self, query: str) -> int | None:
        """Entry index of the definition the message asks for ("что это такое" + a subject of
        a corpus definition phrasing among its resolved words), or None."""
        if not self._def_subjects:
            return None
        text = surface_text(query[:MAX_QUERY_CHARS])
        m = _DEF_INTENT_RE.search(text)
        if not m:
            return None
        if m.group(0).startswith(("what", "who")):
            # English: the subject follows ("what is smm", not "what's the price of smm")
            words = [w for w in text[m.end():].split("|", 1)[0].split() if w not in ("a", "an", "the")]
            after = " ".join(words[:2])
            terms = self._resolve_cached(after).terms if after else {}
        else:
            terms = self._resolve_cached(query[:MAX_QUERY_CHARS]).terms
        for subj, ei, _mass in self._def_subjects:
            if all(terms.get(t, 0.0) >= 0.8 for t in subj):
                return ei
        return None

    def is_offtopic(self, query: str) -> bool:
        q = (query or "")[:MAX_QUERY_CHARS]
        if _offtopic_text(surface_text(q)):
            return True
        # "сколько стоит iphone": the only known words ask "how much / why / is it worth", the
        # subject is a word the FAQ does not know
        res: _Resolved = self._resolve_cached(q)
        # (a word found only in answers, "билет", names no topic either)
        return (res.oov_mass >= OOV_WEIGHT * OOV_WEIGHT and bool(res.terms)
                and all(t[0] in "~+" or t in INTENT_STEMS or t not in self._postings for t in res.terms))

    def offtopic_match(self, query: str) -> tuple[str | None, float]:
        """The off-topic example kind closest to ``query`` and its score (None, 0.0 without any):
        the whole message scored once (its question sentence first, as in ``rank``), without
        clauses or definitions (speed: this runs for almost every message)."""
        if self._neg is None:
            return None, 0.0
        return self._neg_cached((query or "")[:MAX_QUERY_CHARS])

    def offtopic_may_reach(self, query: str, need: float) -> bool:
        """Whether ``offtopic_match`` can give ``query`` a score of at least ``need`` (see
        ``_may_reach``), found without scoring the examples."""
        if self._neg is None:
            return False
        return self._reach_cached((query or "")[:MAX_QUERY_CHARS], need)

    def _neg_query(self, q: str) -> _Resolved | None:
        """``q`` as the off-topic index reads it (its question sentence first, as in ``rank``),
        or None without a known word."""
        neg = self._neg
        res: _Resolved = neg._resolve_cached(q)
        return (neg._focused(q) or res) if res.terms else None

    def _reach_uncached(self, q: str, need: float) -> bool:
        res = self._neg_query(q)
        return res is not None and self._neg._may_reach(res, need)

    def _neg_uncached(self, q: str) -> tuple[str | None, float]:
        neg = self._neg
        res = self._neg_query(q)
        if res is None:
            return None, 0.0
        scores = neg._score(res)
        if not scores:
            return None, 0.0
        ei = max(scores, key=scores.__getitem__)
        return neg.corpus.entries[ei].id, scores[ei]

    def offtopic_novelty(self, query: str, kind: str, entry_index: int) -> float:
        """Weight of the content words of ``query`` that the off-topic kind ``kind`` has and FAQ
        entry ``entry_index`` lacks: a message only counts as closer to an off-topic kind when
        some word of it speaks for that kind and not for the entry ("запрещаю обрабатывать мои
        данные" is no closer to "как запретить банку обрабатывать мои данные" than to the FAQ's
        consent entry, "как отписаться от паблика в вк" is).  Only words found in at least
        ``DF_FULL_FIELDS`` examples of the kind count (a word of one stray example is no mark of
        it); each weighs its FAQ IDF, or its OOV weight when the FAQ does not know it."""
        neg = self._neg
        if neg is None:
            return 0.0
        core = neg._core_terms[neg._entry_pos[kind]]
        idf = self._idf
        return sum(idf.get(t, OOV_WEIGHT) for t in self._novel_terms(query, entry_index, core))

    def _may_be_novel(self, query: str, entry_index: int) -> bool:
        """Whether ``offtopic_novelty`` can be above zero for some kind (see ``_neg_core``)."""
        return self._neg is not None and any(self._novel_terms(query, entry_index, self._neg_core))

    def _novel_terms(self, query: str, entry_index: int, core: frozenset[str]) -> Iterator[str]:
        """Content words of ``query`` (as the off-topic index reads it) in ``core`` and in neither
        the fields nor the answer of FAQ entry ``entry_index``."""
        fields, answer = self._entry_terms[entry_index], self._answer_terms[entry_index]
        res: _Resolved = self._neg._resolve_cached(query[:MAX_QUERY_CHARS])
        return (t for t in res.terms if t[0] not in "~+" and t in core and t not in fields and t not in answer)

    def evidence(self, query: str, entry_index: int) -> float:
        """IDF mass of the distinct specific content words of ``query`` (quality-weighted) that
        occur in the fields (title, question, phrasings, keywords) of entry ``entry_index``;
        generic words (IDF below ``GENERIC_IDF``: "реклама", "соцсети", "smm") are no evidence."""
        res: _Resolved = self._resolve_cached(query[:MAX_QUERY_CHARS])
        ent = self._entry_terms[entry_index]
        idf = self._idf
        return sum(idf[t] * m for t, m in res.terms.items()
                   if t[0] not in "~+" and t in ent and idf[t] >= GENERIC_IDF)

    def features(self, query: str) -> Features:
        """Everything the decision rule looks at (threshold-free; see ``faq/calibration.py``)."""
        query = query if isinstance(query, str) else str(query or "")
        if not query.strip() or is_filler(query):
            return Features(query, ())
        exact = self._exact.get(phrase_key(query[:MAX_QUERY_CHARS]))
        offtopic = self.is_offtopic(query)
        if exact is not None and not offtopic:
            return Features(query, ((self.corpus.entries[exact], 1.0),), exact=True)
        ranked = self.rank(query)
        if not ranked:
            return Features(query, ())
        top = ranked[0][1]
        # the evidence matters in the low band only (speed: skip it elsewhere)
        ev = 0.0
        if self.low_threshold <= top < self.answer_threshold:
            ev = self.evidence(query, self._entry_pos[ranked[0][0].id])
        neg = 0.0
        # below the suggest threshold nothing is offered anyway; without a word that some kind
        # has and the top entry lacks, no kind can reach OFFTOPIC_NOVELTY; and a message no kind
        # can match as well as the rule needs is not scored against the examples (speed)
        ei = self._entry_pos[ranked[0][0].id]
        need = max(self.offtopic_min, top - self.offtopic_margin)
        if (not offtopic and top >= self.suggest_threshold and self._may_be_novel(query, ei)
                and self.offtopic_may_reach(query, need - 1e-9)):
            kind, neg = self.offtopic_match(query)
            offtopic = neg >= need and self.offtopic_novelty(query, kind, ei) >= OFFTOPIC_NOVELTY
        return Features(query, tuple(ranked[:MAX_SUGGESTIONS + 1]), offtopic=offtopic,
                        vague=self.is_vague(query, ranked), evidence=ev, neg=neg)

    def confident(self, f: Features) -> bool:
        """The decision rule: answer the top entry of ``f``?"""
        if not f.ranked or f.offtopic or f.vague:
            return f.exact
        if f.exact or f.top >= self.answer_threshold:
            return True
        return (f.top >= self.low_threshold and f.top - f.second >= self.low_margin
                and f.evidence >= self.low_evidence)

    def search(self, query: str) -> SearchResult:
        f = self.features(query)
        query = f.query
        if not f.ranked:
            return SearchResult(query=query, entry=None, score=0.0)
        top_entry, top = f.ranked[0]
        if f.exact:
            return SearchResult(query=query, entry=top_entry, score=1.0)
        if f.offtopic:  # a kind the FAQ does not cover: no answer and no SMM topics to offer
            return SearchResult(query=query, entry=None, score=round(min(top, self.answer_threshold - 1e-6), 4))
        score = round(top, 4)
        if self.confident(f):
            return SearchResult(query=query, entry=top_entry, score=score)
        if f.vague and top >= self.answer_threshold:
            sugg = tuple(e for e, s in f.ranked[:MAX_SUGGESTIONS] if s >= self.suggest_threshold)
            return SearchResult(query=query, entry=None, score=score, suggestions=sugg)
        if top < self.suggest_threshold:
            return SearchResult(query=query, entry=None, score=score)
        sugg = tuple(e for e, s in f.ranked[:MAX_SUGGESTIONS] if s >= self.suggest_threshold)
        return SearchResult(query=query, entry=None, score=score, suggestions=sugg)


@dataclass(frozen=True, slots=True)
class Features:
    """Inputs of the decision rule for one message (``FaqIndex.features``)."""
    query: str
    ranked: tuple[tuple[Entry, float], ...]  # best candidates first (up to MAX_SUGGESTIONS + 1)
    exact: bool = False  # the message is an FAQ question/phrasing word for word
    offtopic: bool = False
    vague: bool = False  # one generic word with a close runner-up
    evidence: float = 0.0  # see FaqIndex.evidence (computed in the low band only)
    neg: float = 0.0  # best off-topic example score (see FaqIndex.offtopic_match); 0.0 when not scored

    @property
    def top(self) -> float:
        return self.ranked[0][1] if self.ranked else 0.0

    @property
    def second(self) -> float:
        return self.ranked[1][1] if len(self.ranked) > 1 else 0.0
