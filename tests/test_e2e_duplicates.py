"""Issue 18, item 9, end to end: `python -m bot` against a stand-in that drops the connection
after posting cards; at the end the agency chat shows one card per question."""

from __future__ import annotations

from pathlib import Path

from tests.drill import drill


async def test_lost_answers_leave_one_card_each(tmp_path: Path) -> None:
    # the 2nd and 3rd cards are posted but their answers lost; the 1st is delivered normally
    result = await drill(tmp_path, items=3, kind="question", drop=lambda n: n >= 2, users=1)
    assert result.dropped == 2
    assert len(result.copies) == 3
    assert result.duplicated == 0, result.copies
    assert result.removed == 2
