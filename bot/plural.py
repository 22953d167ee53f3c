"""Russian plural forms of a noun after a number (1 день, 2 дня, 5 дней, 21 день, 111 дней).

A ten-line rule instead of pymorphy3's make_agree_with_number: pymorphy3 loads its dictionary
into the process (+20 MB of RSS on top of the bot's modules, ~11% of the bot's ~180 MB; +30 MB
in a bare interpreter), for the one word the bot inflects. tests/test_plural.py checks this
rule against pymorphy3 (a test-only dependency) for 0..10000.
"""

from __future__ import annotations


def plural_ru(n: int, one: str, few: str, many: str) -> str:
    """The form of the noun that agrees with `n`: one (1, 21, 101), few (2-4, 22-24), many (the rest)."""
    n = abs(n)
    if n % 10 == 1 and n % 100 != 11:
        return one
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return few
    return many


def days_ru(n: int) -> str:
    """'1 день', '3 дня', '365 дней'."""
    return f"{n} {plural_ru(n, 'день', 'дня', 'дней')}"
