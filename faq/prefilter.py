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

from collections.abc import Iterable

try:  # the standard library's own regex parser and its opcodes (these names since Python 3.11)
    from re import _constants as C  # noqa: PLC2701
    from re import _parser  # noqa: PLC2701
except ImportError:  # pragma: no cover - a Python that moved them: no prefilter, same results
    _parser = None

__all__ = ["needles"]

MAX_ALTERNATIVES = 64  # strings a literal run may stand for (alternations multiply them)
MIN_NEEDLE = 2  # shorter needles are found in almost every message: no use as a filter
_REPEATS = () if _parser is None else tuple(
    op for op in (C.MAX_REPEAT, C.MIN_REPEAT, getattr(C, "POSSESSIVE_REPEAT", None)) if op)


def needles(pattern: str, common: Iterable[str] = ()) -> tuple[str, ...] | None:
    """Strings one of which every match of ``pattern`` contains (case as written), or None.

    Where a pattern offers several such sets, the one with the longest shortest needle is taken,
    passing over sets with a needle that is part of one of the ``common`` words or has one in it
    (words most messages have, so a poor filter); an alternation whose branches all require one
    same string is filtered by that string alone."""
    if _parser is None:
        return None
    found = _Needles(tuple(common)).sequence(_parser.parse(pattern))
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


class _Needles:
    def __init__(self, common: tuple[str, ...]) -> None:
        self.common = common

    def _rank(self, s: set[str]) -> tuple:
        is_common = any(n in w or w in n for n in s for w in self.common)
        return (not is_common, min(map(len, s)), -len(s))

    def candidates(self, items) -> list[set[str]]:  # noqa: ANN001 - a parsed pattern
        """Needle sets each of which every match of the concatenation ``items`` needs."""
        out: list[set[str]] = []
        run: list = []
        for item in [*items, None]:
            if item is not None and _literals([item]) is not None:
                run.append(item)
                continue
            if run:
                lit = _literals(run)
                if lit is not None and "" not in lit:
                    out.append(lit)
                run = []
            if item is not None:
                s = self.item(*item)
                if s:
                    out.append(s)
        return out

    def sequence(self, items) -> set[str] | None:  # noqa: ANN001 - a parsed pattern
        return max(self.candidates(items), key=self._rank, default=None)

    def item(self, op, av) -> set[str] | None:  # noqa: ANN001 - parser opcodes and arguments
        if op is C.SUBPATTERN:
            return self.sequence(av[3])
        if op is C.BRANCH:
            branches = [self.candidates(b) for b in av[1]]
            if any(not b for b in branches):
                return None
            # one string that some needed set of every branch has in all its needles
            pool = sorted({n for b in branches for s in b for n in s if len(n) >= MIN_NEEDLE},
                          key=lambda n: self._rank({n}), reverse=True)
            for n in pool:
                if all(any(all(n in m for m in s) for s in b) for b in branches):
                    return {n}
            return set().union(*(max(b, key=self._rank) for b in branches))
        if op in _REPEATS:
            lo, _hi, sub = av
            return self.sequence(sub) if lo >= 1 else None
        return None
