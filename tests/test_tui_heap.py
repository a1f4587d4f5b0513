"""The TUI takes the long-lived heap (libraries, SymPy, the first scenario) out of the
cyclic garbage collector's walk once (:func:`nnstep.tui.opening.settle_heap`), and only
once: what later scenarios leave behind is collected as usual."""

from __future__ import annotations

import asyncio
import gc
import time
import weakref

from nnstep.tui import NNStepApp
from nnstep.tui.testing import run_async_tests, settle, wait_idle


async def collected(ref: weakref.ref, seconds: float = 10) -> bool:
    """Whether ``ref``'s object is gone within ``seconds`` (a formula worker ends within a
    quarter second of its book being replaced)."""
    deadline = time.monotonic() + seconds
    while ref() is not None and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
        gc.collect()
    return ref() is None


async def test_the_heap_is_frozen_once_and_later_scenarios_are_collected(monkeypatch):
    freezes = []
    freeze = gc.freeze
    monkeypatch.setattr(gc, "freeze", lambda: (freezes.append(1), freeze()))
    app = NNStepApp("note-network")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        assert gc.get_freeze_count() > 0  # out of the collector's walk (here or in an earlier test)
        app.open_scenario("xor")
        await wait_idle(app, pilot)
        await settle(app, pilot)
        assert app.dbg.scenario.name == "XOR"
        assert len(freezes) <= 1  # once in a process, not per scenario
        dbg, book = weakref.ref(app.dbg), weakref.ref(app.book)
        app.open_scenario("one-neuron")
        await wait_idle(app, pilot)
        await settle(app, pilot)
        assert await collected(dbg) and await collected(book)  # XOR's debugger and formulas are gone
        for _ in range(3):
            await pilot.press("n")
        assert app.dbg.op_index == 2


run_async_tests(globals())
