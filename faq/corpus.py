"""The FAQ's editable sources and their validation.

* ``corpus.yaml``: ``entries:``, each with ``id``, ``title``, ``question``, ``phrasings``, ``answer``;
* ``offtopic.yaml`` (next to it): ``topics:``, kinds of questions the FAQ must not answer;
* ``intents.yaml`` (next to it): ``intents:``, conversation moves (greeting, thanks ...);
* an additions file anywhere (optional): more examples, ``{entries: {<entry id>: [text, ...]},
  offtopic: [text, ...], intents: {<intent>: [text, ...]}}``, shaped to be merged into the above.

Every problem is reported with file and line (``python -m faq check``); an example that stands
in two classes is one of them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .text import words

DEFAULT_CORPUS_PATH = Path(__file__).with_name("corpus.yaml")
OFFTOPIC_FILE, INTENTS_FILE = "offtopic.yaml", "intents.yaml"
INTENTS = ("greeting", "thanks", "human", "callback", "order", "bot")
OFFTOPIC = "~"  # the class label of the off-topic examples; an intent's is "~" + its name
MAX_ANSWER_CHARS = 4096  # Telegram message limit
MAX_TITLE_CHARS = 40  # inline button label
ID_RE = re.compile(r"^[a-z0-9_]{1,40}$")  # keeps callback_data short ASCII
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_ENTRY_KEYS = ("id", "title", "question", "phrasings", "answer")


@dataclass(frozen=True, slots=True)
class Entry:
    id: str
    title: str
    question: str
    phrasings: tuple[str, ...]
    answer: str


@dataclass(frozen=True, slots=True)
class Kind:
    """An off-topic kind or an intent: an id, a title and example phrasings."""
    id: str
    title: str
    phrasings: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Corpus:
    entries: tuple[Entry, ...]
    by_id: dict[str, Entry] = field(compare=False)
    offtopic: tuple[Kind, ...] = ()
    intents: tuple[Kind, ...] = ()
    additions: tuple[tuple[str, str], ...] = ()  # (text, class label) from an additions file

    @classmethod
    def from_entries(cls, entries: tuple[Entry, ...] | list[Entry], offtopic: tuple[Kind, ...] = (),
                     intents: tuple[Kind, ...] = (), additions: tuple[tuple[str, str], ...] = ()) -> Corpus:
        entries = tuple(entries)
        return cls(entries, {e.id: e for e in entries}, tuple(offtopic), tuple(intents), additions)

    def examples(self) -> list[tuple[str, str]]:
        """(text, class label) of every training example."""
        out = [(t, e.id) for e in self.entries for t in (e.title, e.question, *e.phrasings)]
        out += [(t, OFFTOPIC) for k in self.offtopic for t in k.phrasings]
        out += [(t, OFFTOPIC + k.id) for k in self.intents for t in k.phrasings]
        return out + list(self.additions)


class CorpusError(Exception):
    """The sources cannot be loaded; ``.errors`` lists every problem as 'file:line: ...'."""

    def __init__(self, errors: list[str]):
        self.errors = list(errors)
        super().__init__("\n".join(self.errors) if self.errors else "invalid corpus")


Err = Callable[[yaml.Node | int | None, str | None, str], None]


def _sink(source: str, errors: list[str], kind: str) -> Err:
    def err(node: yaml.Node | int | None, who: str | None, msg: str) -> None:
        line = node if isinstance(node, int) else node.start_mark.line + 1 if node is not None else None
        where = f"{source}:{line}" if line else source
        errors.append(f"{where}: {kind} '{who}': {msg}" if who else f"{where}: {msg}")
    return err


def _text(node: yaml.Node | None) -> str | None:
    """A scalar's stripped text (None for null, a non-scalar or a blank)."""
    if isinstance(node, yaml.ScalarNode) and node.tag != "tag:yaml.org,2002:null" and node.value.strip():
        return node.value.strip()
    return None


def _compose(path: Path, err: Err) -> yaml.Node | None:
    try:
        root = yaml.compose(path.read_text(encoding="utf-8"), Loader=_Loader)
    except (OSError, UnicodeDecodeError) as exc:
        err(None, None, f"cannot read file: {exc}")
        return None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        problem = getattr(exc, "problem", None) or exc
        err(mark.line + 1 if mark is not None else None, None, f"YAML syntax error: {problem}")
        return None
    if root is None:
        err(None, None, "file is empty")
    return root


def _mapping(node: yaml.Node, who: str | None, err: Err, known: tuple[str, ...]) -> dict[str, yaml.Node]:
    out: dict[str, yaml.Node] = {}
    if not isinstance(node, yaml.MappingNode):
        err(node, who, "must be a mapping")
        return out
    for k, v in node.value:
        key = _text(k) or ""
        if key not in known:
            err(k, who, f"unknown field '{key}'")
        elif key in out:
            err(k, who, f"duplicate key '{key}'")
        out[key] = v
    return out


def _strings(node: yaml.Node | None, who: str, key: str, err: Err,
             parent: yaml.Node) -> list[tuple[str, yaml.Node]]:
    """(text, node) of each item of a list of strings; a missing, empty or bad list is reported."""
    if not isinstance(node, yaml.SequenceNode) or not node.value:
        err(node if node is not None else parent, who, f"missing or empty field '{key}' (a list of strings)")
        return []
    out = []
    for item in node.value:
        s = _text(item)
        if s is None:
            err(item, who, f"empty or non-string item in '{key}'")
        else:
            out.append((s, item))
    return out


def _root_list(root: yaml.Node, key: str, err: Err) -> list[yaml.Node]:
    if isinstance(root, yaml.SequenceNode):
        return list(root.value)
    seq = _mapping(root, None, err, (key,)).get(key)
    if not isinstance(seq, yaml.SequenceNode) or not seq.value:
        err(seq if seq is not None else root, None, f"'{key}' must be a non-empty list")
        return []
    return list(seq.value)


def _parse_entries(root: yaml.Node, err: Err, seen: dict[str, list]) -> list[Entry]:
    """The entries (any error is reported, and then the whole corpus is refused)."""
    entries: list[Entry] = []
    ids: dict[str, int] = {}
    for idx, node in enumerate(_root_list(root, "entries", err), start=1):
        f = _mapping(node, f"#{idx}", err, _ENTRY_KEYS)
        eid = _text(f.get("id")) or f"#{idx}"
        for key in ("id", "title", "question", "answer"):
            if key not in f:
                err(node, eid, f"missing field '{key}'")
            elif _text(f[key]) is None:
                err(f[key], eid, "empty answer" if key == "answer" else f"empty field '{key}'")
        if _text(f.get("id")) and not ID_RE.match(eid):
            err(f["id"], eid, f"bad id '{eid}': must match {ID_RE.pattern}")
        elif eid in ids:
            err(f["id"], eid, f"duplicate id (first defined at line {ids[eid]})")
        elif "id" in f:
            ids[eid] = f["id"].start_mark.line + 1
        title, question, answer = (_text(f.get(k)) or "" for k in ("title", "question", "answer"))
        if len(title) > MAX_TITLE_CHARS:
            err(f["title"], eid, f"title is {len(title)} chars, max {MAX_TITLE_CHARS}")
        if len(answer) > MAX_ANSWER_CHARS:
            err(f["answer"], eid, f"answer is {len(answer)} chars, max {MAX_ANSWER_CHARS}")
        items = _strings(f.get("phrasings"), eid, "phrasings", err, node) if f else []
        for text, n in [(title, f.get("title")), (question, f.get("question")), *items]:
            if text and n is not None:
                seen.setdefault(example_key(text), []).append((eid, n, err))
        entries.append(Entry(eid, title, question, tuple(t for t, _ in items), answer))
    return entries


def _parse_kinds(root: yaml.Node, key: str, err: Err, seen: dict[str, list], label: Callable[[str], str],
                 allowed: tuple[str, ...] | None = None, taken: dict[str, Entry] | None = None) -> tuple[Kind, ...]:
    """Off-topic kinds or intents (any error is reported, and then the whole corpus is refused)."""
    kinds: list[Kind] = []
    for idx, node in enumerate(_root_list(root, key, err), start=1):
        f = _mapping(node, f"#{idx}", err, ("id", "title", "phrasings"))
        kid = _text(f.get("id")) or ""
        if not ID_RE.match(kid) or kid in {k.id for k in kinds}:
            err(f.get("id", node), kid or f"#{idx}", f"missing, bad or duplicate id: must match {ID_RE.pattern}")
        elif allowed is not None and kid not in allowed:
            err(f["id"], kid, f"unknown intent (the intents are {', '.join(allowed)})")
        elif taken is not None and kid in taken:
            err(f["id"], kid, "id is also an FAQ entry id")
        if _text(f.get("title")) is None:
            err(f.get("title", node), kid or f"#{idx}", "missing or empty field 'title'")
        items = _strings(f.get("phrasings"), kid or f"#{idx}", "phrasings", err, node)
        for text, n in items:
            seen.setdefault(example_key(text), []).append((label(kid), n, err))
        kinds.append(Kind(kid, _text(f.get("title")) or "", tuple(t for t, _ in items)))
    if allowed is not None and kinds and (missing := [i for i in allowed if i not in {k.id for k in kinds}]):
        err(root, None, f"missing intents: {', '.join(missing)}")
    return tuple(kinds)


def _parse_additions(root: yaml.Node, err: Err, seen: dict[str, list],
                     entries: dict[str, Entry]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    f = _mapping(root, None, err, ("entries", "offtopic", "intents"))
    groups: list[tuple[str, yaml.Node, yaml.Node]] = []
    for key, valid in (("entries", entries), ("intents", INTENTS)):
        node = f.get(key)
        if node is None:
            continue
        for k, v in (node.value if isinstance(node, yaml.MappingNode) else []):
            name = _text(k) or ""
            if name not in valid:
                err(k, None, f"unknown {'entry' if key == 'entries' else 'intent'} '{name}'")
            else:
                groups.append((name if key == "entries" else OFFTOPIC + name, v, k))
        if not isinstance(node, yaml.MappingNode):
            err(node, None, f"'{key}' must be a mapping of id to a list of phrasings")
    if "offtopic" in f:
        groups.append((OFFTOPIC, f["offtopic"], f["offtopic"]))
    for label, node, parent in groups:
        for s, n in _strings(node, label, "phrasings", err, parent):
            seen.setdefault(example_key(s), []).append((label, n, err))
            out.append((s, label))
    return out


def example_key(text: str) -> str:
    """What two examples share when they are the same words (case, punctuation aside)."""
    return " ".join(w for w in words(text) if w[0].isalnum() or w[0] == "_")


def load_corpus(path: Path | str | None = None, additions: Path | str | None = None) -> Corpus:
    """Read and validate ``path`` (default: the packaged corpus.yaml), the off-topic and intent
    files next to it (when present) and ``additions``; raises :class:`CorpusError` listing every
    problem of every file."""
    p = Path(path) if path is not None else DEFAULT_CORPUS_PATH
    errors: list[str] = []
    seen: dict[str, list[tuple[str, yaml.Node, Err]]] = {}  # example key -> (label, node, sink)
    err = _sink(str(p), errors, "entry")
    root = _compose(p, err)
    entries = _parse_entries(root, err, seen) if root is not None else []
    by_id = {e.id: e for e in entries}
    offtopic: tuple[Kind, ...] = ()
    intents: tuple[Kind, ...] = ()
    extra: list[tuple[str, str]] = []
    op, ip = p.with_name(OFFTOPIC_FILE), p.with_name(INTENTS_FILE)
    if op.is_file() and (r := _compose(op, e := _sink(str(op), errors, "topic"))) is not None:
        offtopic = _parse_kinds(r, "topics", e, seen, lambda _kid: OFFTOPIC, taken=by_id)
    if ip.is_file() and (r := _compose(ip, e := _sink(str(ip), errors, "intent"))) is not None:
        intents = _parse_kinds(r, "intents", e, seen, lambda kid: OFFTOPIC + kid, allowed=INTENTS)
    if additions is not None:
        ap = Path(additions)
        if (r := _compose(ap, e := _sink(str(ap), errors, "class"))) is not None:
            extra = _parse_additions(r, e, seen, by_id)
    for key, uses in seen.items():
        labels = {label for label, _n, _e in uses}
        if key and len(labels) > 1:
            first_label, first, _ = uses[0]
            where = f"line {first.start_mark.line + 1}"
            for label, node, sink in uses[1:]:
                if label != first_label:
                    sink(node, None, f"example '{key}' stands in two classes: '{label}' and '{first_label}' ({where})")
    if errors:
        raise CorpusError(errors)
    return Corpus.from_entries(entries, offtopic, intents, tuple(extra))
