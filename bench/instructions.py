"""Instructions per inbound `/me` (callgrind): stable where wall-clock timings are not (a
busy shared machine moves single bench runs by ±25 %).

Runs our Telegram app (as bench/inbound.py builds it: SQLite file, templates rendered)
twice under valgrind's callgrind, N and 3N timed `/me` updates after the same set-up and
warm-up; the difference over 2N is what one `/me` costs, set-up and start-up cancelled out.
Needs `valgrind` on the PATH. Slow (valgrind runs Python some 50 times slower).

    python bench/instructions.py [N]
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.inbound import USERS, _feed, me, our_app  # noqa: E402
from bench.loopback import text_update  # noqa: E402


async def _updates(n: int, home: Path) -> None:
    ours, request = our_app(home)
    async with ours:
        await _feed(ours, [text_update(1 + i, "/start", 1000 + i) for i in range(USERS)])
        await _feed(ours, me(1_000_000, 100))
        await _feed(ours, me(2_000_000, n))
    assert request.calls >= USERS + 100 + n, f"every /me must have been answered: {request.calls}"


def _collected(n: int, out: Path) -> int:
    """Instructions of one whole run of `n` timed updates under callgrind."""
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable,
         __file__, "--child", str(n)], capture_output=True, text=True, check=True,
        env={**os.environ, "PYTHONHASHSEED": "0"})  # the same dict layouts in both runs
    found = re.search(r"Collected : (\d+)", done.stderr)
    if found is None:
        raise RuntimeError(f"no instruction count from callgrind:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        with tempfile.TemporaryDirectory() as tmp:
            asyncio.run(_updates(int(sys.argv[2]), Path(tmp)))
        return
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    with tempfile.TemporaryDirectory() as tmp:
        low = _collected(n, Path(tmp) / "low.out")
        high = _collected(3 * n, Path(tmp) / "high.out")
    print(f"updates: {n} and {3 * n} /me after {USERS} members joined and 100 warm-up")
    print(f"instructions per /me: {(high - low) / (2 * n) / 1e6:.2f} M")


if __name__ == "__main__":
    main()
