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
    "Corpus",
    "CorpusError",
    "load_corpus",
    "parse_corpus",
    "DEFAULT_CORPUS_PATH",
    "MAX_ANSWER_CHARS",
    "MAX_TITLE_CHARS",
    "ID_RE",
]

DEFAULT_CORPUS_PATH = Path(__file__).with_name("corpus.yaml")
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
class Corpus:
    entries: tuple[Entry, ...]
    by_id: dict[str, Entry] = field(compare=False)

    @classmethod
    def from_entries(cls, entries: "list[Entry] | tuple[Entry, ...]") -> "Corpus":
        entries = tuple(entries)
        return cls(entries=entries, by_id={e.id: e for e in entries})

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


def load_corpus(path: Path | str | None = None) -> Corpus:
    """Read and validate the corpus; raises :class:`CorpusError` on any problem."""
    p = Path(path) if path is not None else DEFAULT_CORPUS_PATH
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CorpusError([f"{p}: cannot read file: {exc}"]) from None
    return parse_corpus(text, source=str(p))


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _scalar_text(node: yaml.Node) -> str | None:
    if isinstance(node, yaml.ScalarNode):
        if node.tag == "tag:yaml.org,2002:null":
            return None
        return node.value
    return None


def parse_corpus(text: str, source: str = "<corpus>") -> Corpus:
    """Validate YAML text and build a :class:`Corpus` (used by :func:`load_corpus`)."""
    errors: list[str] = []

    def err(line: int | None, entry_id: str | None, msg: str) -> None:
        where = f"{source}:{line}" if line else source
        who = f" entry '{entry_id}'" if entry_id else ""
        errors.append(f"{where}:{who}: {msg}" if who else f"{where}: {msg}")

    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        err(line, None, f"YAML syntax error: {problem}")
        raise CorpusError(errors) from None

    if root is None:
        err(None, None, "file is empty (expected 'entries:' with a list of entries)")
        raise CorpusError(errors)

    seq: yaml.Node | None = None
    if isinstance(root, yaml.SequenceNode):
        seq = root
    elif isinstance(root, yaml.MappingNode):
        for k, v in root.value:
            if _scalar_text(k) == "entries":
                seq = v
            else:
                err(_line(k), None, f"unknown top-level key '{_scalar_text(k)}'")
        if seq is None:
            err(_line(root), None, "missing top-level key 'entries'")
    else:
        err(_line(root), None, "top level must be a mapping with 'entries' or a list")
    if seq is not None and not isinstance(seq, yaml.SequenceNode):
        err(_line(seq), None, "'entries' must be a list")
        seq = None
    if seq is None:
        raise CorpusError(errors)
    if not seq.value:
        err(_line(seq), None, "no entries")

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
            items: list[str] = []
            for item in vnode.value:
                s = _scalar_text(item) if isinstance(item, yaml.ScalarNode) else None
                if s is None or not s.strip():
                    err(_line(item), eid, f"empty or non-string item in '{key}'")
                    continue
                items.append(s.strip())
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
