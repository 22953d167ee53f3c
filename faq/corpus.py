"""Loading and validation of the human-edited FAQ corpus (``faq/corpus.yaml``).

The YAML file is a mapping with a single key ``entries`` (a bare top-level list
of entries is accepted too).  Every problem found is reported with the file
name, the 1-based line and the entry id, so an editor can fix all of them in
one pass: ``python -m faq check``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

__all__ = [
    "Entry",
    "OffTopic",
    "Corpus",
    "CorpusError",
    "load_corpus",
    "parse_corpus",
    "DEFAULT_CORPUS_PATH",
    "OFFTOPIC_FILE",
    "parse_offtopic",
    "MAX_ANSWER_CHARS",
    "MAX_TITLE_CHARS",
    "ID_RE",
]

DEFAULT_CORPUS_PATH = Path(__file__).with_name("corpus.yaml")
OFFTOPIC_FILE = "offtopic.yaml"  # off-topic examples, read from the corpus file's folder
MAX_ANSWER_CHARS = 4096  # Telegram message limit
MAX_TITLE_CHARS = 40  # inline button label
ID_RE = re.compile(r"^[a-z0-9_]{1,40}$")  # keeps callback_data short ASCII

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available
_REQUIRED_STR = ("id", "title", "question", "answer")
_KNOWN_KEYS = {"id", "title", "question", "phrasings", "answer", "related", "keywords"}


@dataclass(frozen=True, slots=True)
class Entry:
    id: str
    title: str
    question: str
    phrasings: tuple[str, ...]
    answer: str
    related: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class OffTopic:
    """A kind of question the FAQ must not answer ("SEO of a website"), with examples."""
    id: str
    title: str
    phrasings: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Corpus:
    entries: tuple[Entry, ...]
    by_id: dict[str, Entry] = field(compare=False)
    offtopic: tuple[OffTopic, ...] = ()

    @classmethod
    def from_entries(cls, entries: list[Entry] | tuple[Entry, ...],
                     offtopic: list[OffTopic] | tuple[OffTopic, ...] = ()) -> Corpus:
        entries = tuple(entries)
        return cls(entries=entries, by_id={e.id: e for e in entries}, offtopic=tuple(offtopic))

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self):
        return iter(self.entries)

    def get(self, entry_id: str) -> Entry | None:
        return self.by_id.get(entry_id)


class CorpusError(Exception):
    """Raised when the corpus cannot be loaded; ``.errors`` lists every problem."""

    def __init__(self, errors: list[str]):
        self.errors = list(errors)
        super().__init__("\n".join(self.errors) if self.errors else "invalid corpus")


def _read(p: Path) -> str:
    try:
        return p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CorpusError([f"{p}: cannot read file: {exc}"]) from None


def load_corpus(path: Path | str | None = None, *, offtopic: bool = True) -> Corpus:
    """Read and validate the corpus and, when ``offtopic`` and the file exists, the off-topic
    examples in ``offtopic.yaml`` next to it; raises :class:`CorpusError` on any problem
    (all problems of both files)."""
    p = Path(path) if path is not None else DEFAULT_CORPUS_PATH
    text = _read(p)
    op = p.with_name(OFFTOPIC_FILE)
    if not offtopic or not op.is_file():
        return parse_corpus(text, source=str(p))
    errors: list[str] = []
    try:
        corpus = parse_corpus(text, source=str(p))
    except CorpusError as exc:
        errors += exc.errors
        corpus = None
    try:
        topics = parse_offtopic(_read(op), source=str(op), corpus=corpus)
    except CorpusError as exc:
        errors += exc.errors
    if errors:
        raise CorpusError(errors)
    return Corpus.from_entries(corpus.entries, topics)


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _scalar_text(node: yaml.Node) -> str | None:
    if isinstance(node, yaml.ScalarNode):
        if node.tag == "tag:yaml.org,2002:null":
            return None
        return node.value
    return None


def _error_sink(source: str, errors: list[str], kind: str = "entry"):
    def err(line: int | None, entry_id: str | None, msg: str) -> None:
        where = f"{source}:{line}" if line else source
        who = f" {kind} '{entry_id}'" if entry_id else ""
        errors.append(f"{where}:{who}: {msg}" if who else f"{where}: {msg}")
    return err


def _root_list(text: str, key: str, err) -> yaml.SequenceNode:
    """The list under top-level ``key`` (or a bare top-level list); raises CorpusError."""
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        err(line, None, f"YAML syntax error: {problem}")
        raise CorpusError([]) from None
    if root is None:
        err(None, None, f"file is empty (expected '{key}:' with a list)")
        raise CorpusError([])
    seq: yaml.Node | None = None
    if isinstance(root, yaml.SequenceNode):
        seq = root
    elif isinstance(root, yaml.MappingNode):
        for k, v in root.value:
            if _scalar_text(k) == key:
                seq = v
            else:
                err(_line(k), None, f"unknown top-level key '{_scalar_text(k)}'")
        if seq is None:
            err(_line(root), None, f"missing top-level key '{key}'")
    else:
        err(_line(root), None, f"top level must be a mapping with '{key}' or a list")
    if seq is not None and not isinstance(seq, yaml.SequenceNode):
        err(_line(seq), None, f"'{key}' must be a list")
        seq = None
    if seq is None:
        raise CorpusError([])
    if not seq.value:
        err(_line(seq), None, f"no {key}")
    return seq


def _string_items(seq: yaml.SequenceNode, key: str, who: str, err):
    """(line, stripped text) of each string item of list ``seq`` of field ``key``; an empty or
    non-string item is reported and skipped."""
    for item in seq.value:
        s = _scalar_text(item) if isinstance(item, yaml.ScalarNode) else None
        if s is None or not s.strip():
            err(_line(item), who, f"empty or non-string item in '{key}'")
            continue
        yield _line(item), s.strip()


def parse_corpus(text: str, source: str = "<corpus>") -> Corpus:
    """Validate YAML text and build a :class:`Corpus` (used by :func:`load_corpus`)."""
    errors: list[str] = []
    err = _error_sink(source, errors)
    try:
        seq = _root_list(text, "entries", err)
    except CorpusError:
        raise CorpusError(errors) from None

    entries: list[Entry] = []
    first_seen: dict[str, int] = {}
    related_refs: list[tuple[int, str, str]] = []  # (line, entry id, ref)

    for idx, node in enumerate(seq.value, start=1):
        if not isinstance(node, yaml.MappingNode):
            err(_line(node), f"#{idx}", "entry must be a mapping")
            continue
        fields: dict[str, yaml.Node] = {}
        key_lines: dict[str, int] = {}
        for k, v in node.value:
            key = _scalar_text(k)
            if key is None:
                err(_line(k), f"#{idx}", "bad key")
                continue
            if key in fields:
                err(_line(k), f"#{idx}", f"duplicate key '{key}'")
            fields[key] = v
            key_lines[key] = _line(k)

        id_node = fields.get("id")
        raw_id = _scalar_text(id_node) if id_node is not None else None
        eid = raw_id.strip() if isinstance(raw_id, str) and raw_id.strip() else f"#{idx}"
        entry_line = _line(node)

        for key in fields:
            if key not in _KNOWN_KEYS:
                err(key_lines[key], eid, f"unknown field '{key}'")

        # --- id
        if id_node is None or not (raw_id or "").strip():
            err(key_lines.get("id", entry_line), eid, "missing or empty field 'id'")
        elif not ID_RE.match(eid):
            err(_line(id_node), eid, f"bad id '{eid}': must match {ID_RE.pattern}")
        elif eid in first_seen:
            err(_line(id_node), eid, f"duplicate id (first defined at line {first_seen[eid]})")
        else:
            first_seen[eid] = _line(id_node)

        # --- required strings
        values: dict[str, str] = {}
        for key in _REQUIRED_STR:
            vnode = fields.get(key)
            if vnode is None:
                if key != "id":
                    err(entry_line, eid, f"missing field '{key}'")
                continue
            if not isinstance(vnode, yaml.ScalarNode):
                err(_line(vnode), eid, f"field '{key}' must be a string")
                continue
            sval = (_scalar_text(vnode) or "").strip()
            if not sval:
                if key != "id":
                    what = "empty answer" if key == "answer" else f"empty field '{key}'"
                    err(_line(vnode), eid, what)
                continue
            values[key] = sval

        if "title" in values and len(values["title"]) > MAX_TITLE_CHARS:
            err(_line(fields["title"]), eid,
                f"title is {len(values['title'])} chars, max {MAX_TITLE_CHARS}")
        if "answer" in values and len(values["answer"]) > MAX_ANSWER_CHARS:
            err(_line(fields["answer"]), eid,
                f"answer is {len(values['answer'])} chars, max {MAX_ANSWER_CHARS}")

        # --- lists
        lists: dict[str, tuple[str, ...]] = {}
        for key, required in (("phrasings", True), ("related", False), ("keywords", False)):
            vnode = fields.get(key)
            if vnode is None or (isinstance(vnode, yaml.ScalarNode) and _scalar_text(vnode) is None):
                if required:
                    err(key_lines.get(key, entry_line), eid, f"missing or empty field '{key}'")
                lists[key] = ()
                continue
            if not isinstance(vnode, yaml.SequenceNode):
                err(_line(vnode), eid, f"field '{key}' must be a list of strings")
                lists[key] = ()
                continue
            items = [s for _line_no, s in _string_items(vnode, key, eid, err)]
            if required and not items:
                err(_line(vnode), eid, f"missing or empty field '{key}'")
            lists[key] = tuple(items)

        for ref in lists["related"]:
            related_refs.append((_line(fields["related"]), eid, ref))

        if len(values) == len(_REQUIRED_STR) and ID_RE.match(eid):
            entries.append(Entry(
                id=eid,
                title=values["title"],
                question=values["question"],
                phrasings=lists["phrasings"],
                answer=values["answer"],
                related=lists["related"],
                keywords=lists["keywords"],
            ))

    for line, eid, ref in related_refs:
        if ref not in first_seen:
            err(line, eid, f"unknown related id '{ref}'")
        elif ref == eid:
            err(line, eid, "entry lists itself in 'related'")

    if errors:
        raise CorpusError(errors)
    return Corpus.from_entries(entries)


_WORD_RE = re.compile(r"\w+")


def _plain(text: str) -> str:
    """Words of ``text``, case- and ё-folded, joined by spaces (to spot copied phrasings)."""
    return " ".join(_WORD_RE.findall(text.casefold().replace("ё", "е")))


def parse_offtopic(text: str, source: str = "<offtopic>", corpus: Corpus | None = None) -> tuple[OffTopic, ...]:
    """Validate the off-topic examples (``topics:``, each with ``id``, ``title`` and
    ``phrasings``).  With ``corpus``, an id equal to an entry's or a phrasing equal (as a
    phrase) to an entry's title, question or phrasing is an error too."""
    errors: list[str] = []
    err = _error_sink(source, errors, "topic")
    try:
        seq = _root_list(text, "topics", err)
    except CorpusError:
        raise CorpusError(errors) from None
    faq_phrases: dict[str, str] = {}
    if corpus is not None:
        for e in corpus.entries:
            for t in (e.title, e.question, *e.phrasings):
                faq_phrases.setdefault(_plain(t), e.id)
    topics: list[OffTopic] = []
    first_seen: dict[str, int] = {}
    for idx, node in enumerate(seq.value, start=1):
        if not isinstance(node, yaml.MappingNode):
            err(_line(node), f"#{idx}", "topic must be a mapping")
            continue
        fields = {_scalar_text(k): v for k, v in node.value}
        for k, _v in node.value:
            if _scalar_text(k) not in ("id", "title", "phrasings"):
                err(_line(k), f"#{idx}", f"unknown field '{_scalar_text(k)}'")
        tid = (_scalar_text(fields["id"]) or "").strip() if isinstance(fields.get("id"), yaml.ScalarNode) else ""
        who = tid or f"#{idx}"
        ok = True
        if not ID_RE.match(tid):
            err(_line(fields.get("id", node)), who, f"missing or bad id: must match {ID_RE.pattern}")
            ok = False
        elif tid in first_seen:
            err(_line(fields["id"]), who, f"duplicate id (first defined at line {first_seen[tid]})")
            ok = False
        elif corpus is not None and tid in corpus.by_id:
            err(_line(fields["id"]), who, "id is also an FAQ entry id")
            ok = False
        else:
            first_seen[tid] = _line(fields["id"])
        title_node = fields.get("title")
        title = (_scalar_text(title_node) or "").strip() if isinstance(title_node, yaml.ScalarNode) else ""
        if not title:
            err(_line(title_node or node), who, "missing or empty field 'title'")
            ok = False
        pnode = fields.get("phrasings")
        items: list[str] = []
        if not isinstance(pnode, yaml.SequenceNode) or not pnode.value:
            err(_line(pnode or node), who, "missing or empty field 'phrasings' (a list of strings)")
            ok = False
        else:
            for line, s in _string_items(pnode, "phrasings", who, err):
                other = faq_phrases.get(_plain(s))
                if other is not None:
                    err(line, who, f"phrasing '{s}' is also a phrasing of FAQ entry '{other}'")
                    ok = False
                items.append(s)
            ok = ok and len(items) == len(pnode.value)
        if ok:
            topics.append(OffTopic(tid, title, tuple(items)))
    if errors:
        raise CorpusError(errors)
    return tuple(topics)
