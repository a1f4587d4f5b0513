"""A seeded fuzz of the TUI: thousands of random keys (every binding, the palette,
dialogs with typing), resizes from 20x8 to 250x80; no exception, and the engine
ends exactly where a fresh debugger moved to the same position would be."""

from __future__ import annotations

import asyncio
import random

import pytest

pytest.importorskip("textual")

from nnstep.debugger import Debugger  # noqa: E402
from nnstep.tui import NNStepApp  # noqa: E402
from nnstep.tui.testing import wait_idle  # noqa: E402

BINDINGS = ["n", "right", "p", "left", "f", "s", "e", "c", "space", "plus", "minus", "b", "B", "g", "r", "o",
            "t", "v", "z", "escape", "question_mark", "ctrl+p"]
MOVES = ["up", "down", "pageup", "pagedown", "home", "end", "enter", "tab", "shift+tab"]
TYPING = list("0123456789abcdefxyzLw_. <>=()") + ["backspace", "enter", "escape", "tab", "space"]
WORDS = ["L < 0.01", "abs(d_L_d_w1) > 0.1", "__import__('os')", "9**9**9", "xor", "iris", "jump to op d_L_d_w1",
         "3", "0", "999999", "nope", "d_L_d_h1", "((((", "circuit"]


def plan(seed: int, count: int) -> list[tuple[str, object]]:
    rng = random.Random(seed)
    steps: list[tuple[str, object]] = []
    while len(steps) < count:
        r = rng.random()
        if r < 0.55:
            steps.append(("key", rng.choice(BINDINGS)))
        elif r < 0.72:
            steps.append(("key", rng.choice(MOVES)))
        elif r < 0.90:
            steps.append(("key", rng.choice(TYPING)))
        elif r < 0.95:
            steps.append(("type", rng.choice(WORDS)))
        else:
            steps.append(("size", (rng.randint(20, 250), rng.randint(8, 80))))
    return steps


async def drive(seed: int, count: int) -> None:
    app = NNStepApp("note-network")
    async with app.run_test(size=(120, 36)) as pilot:
        for kind, what in plan(seed, count):
            if kind == "size":
                await pilot.resize_terminal(*what)
            elif kind == "type":
                await pilot.press(*[("space" if ch == " " else ch) for ch in what])
            else:
                await pilot.press(what)
            if app.return_code is not None or not app.is_running:
                pytest.fail(f"the app exited after {kind} {what!r}")
        # come to rest: close dialogs, stop playing and running, then compare the engine
        for _ in range(4):
            await pilot.press("escape")
        app.stop_playing()
        await wait_idle(app, pilot)
        await asyncio.sleep(0.05)
        assert app.dbg is not None or app.load_error is not None
        if app.dbg is not None:
            dbg = app.dbg
            fresh = Debugger(dbg.scenario)
            fresh.goto(dbg.t)
            assert dbg.state() == fresh.state()


@pytest.mark.parametrize("seed", [1, 2])
def test_two_thousand_random_keys_and_resizes(seed):
    asyncio.run(drive(seed, 1000))
