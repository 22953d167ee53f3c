"""The duplicate drill (issue 18, item 9): `python -m bot` against the Bot API stand-in, which
posts chosen cards to the agency chat and then drops the connection before answering (the
bot sees a disconnect after its request went out; the card is in the chat). At the end the
agency chat is read: how many cards each lead or question has there.

    .venv/bin/python bench/duplicate_drill.py [--items 20] [--kind lead|question] [--every 2]
        [--first] [--users 5] [--baseline DIR]

--every K drops the answer to the first attempt of every K-th card; --first drops the very
first card of the process too (nothing is known about the chat before it, so its copy cannot
be probed for: it stays until someone replies to it). --baseline DIR runs another checkout's
bot (e.g. `git worktree add DIR d54253e`, the code before this drill's fix) in the same way.
Figures print to the terminal; none is a test assertion."""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.drill import drill  # noqa: E402


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--kind", choices=["lead", "question"], default="lead")
    parser.add_argument("--every", type=int, default=2)
    parser.add_argument("--first", action="store_true")
    parser.add_argument("--users", type=int, default=5)
    parser.add_argument("--baseline", type=Path)
    args = parser.parse_args()

    def drop(n: int) -> bool:
        return (n == 1 and args.first) or (n > 1 and n % args.every == 0)

    runs = [("this checkout", {})]
    if args.baseline:
        runs.append((f"baseline {args.baseline}", {"PYTHONPATH": str(args.baseline.resolve())}))
    for name, env in runs:
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            r = await drill(Path(tmp), items=args.items, kind=args.kind, drop=drop, users=args.users, env=env)
        took = time.perf_counter() - t0
        print(f"{name}: {r.items} {args.kind}s, {r.dropped} card sends posted with the answer lost; "
              f"{r.duplicated} {args.kind}s end with more than one card in the agency chat "
              f"({r.duplicated / r.items:.0%}); {sum(r.copies.values())} cards shown for {len(r.copies)} "
              f"{args.kind}s; {r.removed} copies deleted or marked ({took:.0f} s)")


if __name__ == "__main__":
    asyncio.run(main())
