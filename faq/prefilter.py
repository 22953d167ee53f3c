"""Substring prefilters for regular expressions.

``needles(pattern)`` reads a pattern with the standard library's own regex parser and returns
strings one of which every match of the pattern contains, or None when it finds no such set.
``str.__contains__`` tests on a few needles are much cheaper than a regex search that tries
every position of a long message, so a rule is searched only when one of its needles is
present (the idea of the literal prefilters of RE2 and Hyperscan).  The set is sound by
construction: literal runs are joined only across literal items, a repeat counts only when
it must occur at least once, an alternation only when every branch has needles, and any
other item (classes, ``\\w``, anchors, look-arounds) breaks the run.
"""

from __future__ import annotations

from re import _constants as C  # noqa: PLC2701 - the parser's opcodes, stable since 3.11
from re import _parser

__all__ = ["needles"]

MAX_ALTERNATIVES = 64  # strings a literal run may stand for (alternations multiply them)
MIN_NEEDLE = 2  # shorter needles are found in almost every message: no use as a filter
_REPEATS = tuple(op for op in (C.MAX_REPEAT, C.MIN_REPEAT, getattr(C, "POSSESSIVE_REPEAT", None)) if op)


def needles(pattern: str) -> tuple[str, ...] | None:
    """Strings one of which every match of ``pattern`` contains (case as written), or None."""
    found = _sequence(_parser.parse(pattern))
    if not found or min(map(len, found)) < MIN_NEEDLE:
        return None
    # a needle containing another is redundant: the shorter one is found whenever it is
    return tuple(sorted(n for n in found if not any(m != n and m in n for m in found)))


def _literals(items) -> set[str] | None:
    """The strings a sequence of literal items can be (None if it has any other item)."""
    out = {""}
    for op, av in items:
        if op is C.LITERAL:
            alts = {chr(av)}
        elif op is C.IN and all(o is C.LITERAL for o, _ in av):
            alts = {chr(v) for _, v in av}  # [её]
        elif op is C.SUBPATTERN:
            alts = _literals(av[3])
        elif op is C.BRANCH:
            parts = [_literals(b) for b in av[1]]
            alts = None if any(p is None for p in parts) else set().union(*parts)
        else:
            return None
        if alts is None or len(out) * len(alts) > MAX_ALTERNATIVES:
            return None
        out = {a + b for a in out for b in alts}
    return out


def _sequence(items) -> set[str] | None:
    """Needles of a concatenation: the most selective set among its items and its literal runs."""
    candidates: list[set[str]] = []
    run: list = []
    for item in [*items, None]:
        if item is not None and _literals([item]) is not None:
            run.append(item)
            continue
        if run:
            lit = _literals(run)
            if lit is not None and "" not in lit:
                candidates.append(lit)
            run = []
        if item is not None:
            s = _item(*item)
            if s:
                candidates.append(s)
    return max(candidates, key=lambda s: (min(map(len, s)), -len(s)), default=None)


def _item(op, av) -> set[str] | None:  # noqa: ANN001 - parser opcodes and arguments
    if op is C.SUBPATTERN:
        return _sequence(av[3])
    if op is C.BRANCH:
        parts = [_sequence(b) for b in av[1]]
        return None if any(not p for p in parts) else set().union(*parts)
    if op in _REPEATS:
        lo, _hi, sub = av
        return _sequence(sub) if lo >= 1 else None
    return None
