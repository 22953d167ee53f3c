"""Issue 18, item 12: the retention period reads as Russian ("1 день", "2 дня", "31 день") in
the consent text and /privacy; the consent version changed with the wording."""

from __future__ import annotations

from pathlib import Path

import pymorphy3
import pytest

from bot.consent import pd_consent
from bot.plural import days_ru, plural_ru
from handlers.rights import privacy_text
from tests.conftest import make_settings


@pytest.fixture(scope="module")
def morph() -> pymorphy3.MorphAnalyzer:
    return pymorphy3.MorphAnalyzer()


def test_plural_rule_agrees_with_pymorphy3(morph: pymorphy3.MorphAnalyzer) -> None:
    day = morph.parse("день")[0]
    wrong = [n for n in range(0, 10_001) if plural_ru(n, "день", "дня", "дней") != day.make_agree_with_number(n).word]
    assert wrong == []


@pytest.mark.parametrize(("days", "reads"), [
    (1, "1 день"), (2, "2 дня"), (4, "4 дня"), (5, "5 дней"), (11, "11 дней"), (12, "12 дней"),
    (21, "21 день"), (22, "22 дня"), (31, "31 день"), (111, "111 дней"), (365, "365 дней"), (1001, "1001 день"),
])
def test_consent_and_privacy_read_correctly(tmp_path: Path, days: int, reads: str) -> None:
    settings = make_settings(tmp_path, lead_retention_days=days)
    assert days_ru(days) == reads
    consent = pd_consent(settings).text
    assert f"<b>Срок:</b> {reads} с момента отправки заявки" in consent
    assert f"<b>Срок хранения:</b> {reads} с момента" in privacy_text(settings)


def test_changed_wording_has_a_new_consent_version(tmp_path: Path) -> None:
    """The journal stores (version, SHA-256 of the text shown): the text of 'pd-2026-11-26'
    said "365 дней" through a template that also produced "1 дней"; that version must not be
    reused for the new wording."""
    consent = pd_consent(make_settings(tmp_path, lead_retention_days=1))
    assert consent.version != "pd-2026-11-26"
    assert "1 день с момента" in consent.text
