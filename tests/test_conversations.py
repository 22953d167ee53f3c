"""The conversation script in tests/conversations/ (real-life inputs: greetings, thanks, emoji,
questions in the middle of the brief, refusals at contact steps, long requests, media, /help, a
returning prospect) replayed in the sandbox: the transcript must be the committed one.

After a reviewed change to the bot's texts, flow or FAQ model, regenerate it (docs/sandbox.md):
    .venv/bin/python -m bot sandbox --script tests/conversations/prospect.txt \\
        > tests/conversations/prospect.transcript.txt
"""

from __future__ import annotations

import difflib
import io
from pathlib import Path

from bot import sandbox

HERE = Path(__file__).parent / "conversations"
MIN_INPUTS = 60


async def test_the_prospect_conversation_replays_as_committed(tmp_path: Path) -> None:
    script = HERE / "prospect.txt"
    lines = sandbox.script_lines(script.read_text(encoding="utf-8"))
    typed = [line for line in lines if not line.isdigit() and not line.startswith((":user", ":clock"))]
    assert len(typed) >= MIN_INPUTS  # what prospects type or send (not button numbers, not the sandbox's clock)
    out = io.StringIO()
    code = await sandbox.play(lines, tmp_path / "conversation.sqlite3", out)
    expected = (HERE / "prospect.transcript.txt").read_text(encoding="utf-8")
    got = out.getvalue()
    if got != expected:
        diff = "\n".join(list(difflib.unified_diff(expected.splitlines(), got.splitlines(), "committed",
                                                   "replayed", lineterm=""))[:80])
        raise AssertionError(f"the conversation changed:\n{diff}")
    assert code == 0  # every input worked: every button pressed existed
