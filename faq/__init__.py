"""FAQ subsystem of the kosmmos.ru bot.

Typical use from the bot::

    from faq import get_index
    result = get_index().search(text)      # SearchResult
    if result.status == "answer":   ...result.entry.answer...
    elif result.status == "unsure": ...buttons for result.suggestions...
    else:                           ...offer "Спросить менеджера" / /brief...

Entries for the menu: ``get_index().corpus.entries`` (in menu order),
lookup by id (callback data): ``get_index().corpus.by_id[entry_id]``.
"""

from __future__ import annotations

from functools import lru_cache

from .corpus import Corpus, CorpusError, Entry, load_corpus
from .search import FaqIndex, SearchResult
from .snapshot import load_index

__all__ = [
    "Corpus",
    "CorpusError",
    "Entry",
    "FaqIndex",
    "SearchResult",
    "get_index",
    "load_corpus",
    "load_index",
]


@lru_cache(maxsize=1)
def get_index() -> FaqIndex:
    """The index over the packaged ``faq/corpus.yaml`` and ``faq/offtopic.yaml`` (built once
    per process; see ``load_index`` for a snapshot on disk).  Cached here too: ``load_index``
    hashes every input file before its own lookup, too slow for a call per question."""
    return load_index()
