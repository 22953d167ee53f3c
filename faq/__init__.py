"""FAQ of the kosmmos.ru bot: a trained model answers prospects' questions from the corpus.

    from faq import load_index
    index = load_index(cache_dir=data_folder)   # trained in a child process when needed
    result = index.search(text)                 # SearchResult: status, entry, intent, score, suggestions

The bot's process never imports scikit-learn: ``faq.index`` scores with numpy.
"""

from __future__ import annotations

from .corpus import INTENTS, Corpus, CorpusError, Entry, Kind, load_corpus
from .index import FaqIndex, SearchResult, load_index
from .text import normalize

__all__ = ["INTENTS", "Corpus", "CorpusError", "Entry", "FaqIndex", "Kind", "SearchResult", "load_corpus",
           "load_index", "normalize"]
