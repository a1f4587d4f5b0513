"""A seeded fuzz of the TUI: thousands of random keys (every binding, the palette,
dialogs with typing), resizes from 20x8 to 250x80; no exception, and the engine
ends exactly where a fresh debugger moved to the same position would be.

The keys go through ``Pilot.press`` as in any Pilot test, but without its waits for
the whole process to go idle (Textual's ``wait_for_idle``: at least 20 ms, twice
per key, and a full second whenever the formula worker, a long run or the play
timer keeps a thread busy). ``Pilot.press`` still waits, after each key, until the
app and every widget on the screen have handled the messages queued before it
(the app has taken the key); every ``REST`` steps, and after each resize, the event loop runs
for a few milliseconds so that timers, resizes and workers' results come in
between keys as they do for a person. The last step comes to rest with Textual's
own idle waits before the engine is compared."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Iterator

import pytest

pytest.importorskip("textual")

import textual.app  # noqa: E402
import textual.pilot  # noqa: E402
from textual import events  # noqa: E402
from textual._wait import wait_for_idle  # noqa: E402
from textual.app import App  # noqa: E402

from nnstep.debugger import Debugger  # noqa: E402
from nnstep.tui import NNStepApp  # noqa: E402
from nnstep.tui.testing import wait_idle  # noqa: E402

BINDINGS = ["n", "right", "p", "left", "f", "s", "e", "c", "space", "plus", "minus", "b", "B", "g", "r", "o",
            "t", "v", "z", "escape", "question_mark", "ctrl+p"]
MOVES = ["up", "down", "pageup", "pagedown", "home", "end", "enter", "tab", "shift+tab"]
TYPING = list("0123456789abcdefxyzLw_. <>=()") + ["backspace", "enter", "escape", "tab", "space"]
WORDS = ["L < 0.01", "abs(d_L_d_w1) > 0.1", "__import__('os')", "9**9**9", "xor", "iris", "jump to op d_L_d_w1",
         "3", "0", "999999", "nope", "d_L_d_h1", "((((", "circuit"]
REST = 25  # steps between breathers
BREATHE = 0.02  # seconds the event loop runs freely in a breather


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


async def yield_to_the_loop(min_sleep: float = 0.0, max_sleep: float = 1.0) -> None:
    """Stands in for Textual's ``wait_for_idle`` during the random steps."""
    await asyncio.sleep(0)
    await asyncio.sleep(0)


@contextlib.contextmanager
def without_idle_waits() -> Iterator[None]:
    """Pilot's ``press``, ``pause`` and ``resize_terminal`` without waits for idle."""
    with pytest.MonkeyPatch.context() as patch:
        for module in (textual.app, textual.pilot):  # each imports wait_for_idle by name
            patch.setattr(module, "wait_for_idle", yield_to_the_loop)
        yield


async def drive(seed: int, count: int) -> None:
    app = NNStepApp("note-network")
    async with app.run_test(size=(120, 36)) as pilot:
        with without_idle_waits():
            for i, (kind, what) in enumerate(plan(seed, count), 1):
                if kind == "size":
                    await pilot.resize_terminal(*what)
                    await pilot.pause(BREATHE)  # Textual applies a resize on a timer
                elif kind == "type":
                    await pilot.press(*[("space" if ch == " " else ch) for ch in what])
                else:
                    await pilot.press(what)
                if i % REST == 0:
                    await pilot.pause(BREATHE)
                if app.return_code is not None or not app.is_running:
                    pytest.fail(f"the app exited after step {i} ({kind} {what!r})")
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


@pytest.mark.long
@pytest.mark.parametrize("seed", [1, 2])
def test_two_thousand_random_keys_and_resizes(seed, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # x (export this step) writes its handouts there
    asyncio.run(drive(seed, 1000))


class Recorder(App[None]):
    """Records every key event that reaches the app."""

    ENABLE_COMMAND_PALETTE = False

    def __init__(self) -> None:
        super().__init__()
        self.events: dict[int, events.Key] = {}  # by id: a key bubbling back up is the same event

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key):
            self.events.setdefault(id(event), event)
        await super().on_event(event)

    @property
    def keys(self) -> list[tuple[str, str | None]]:
        return [(event.key, event.character) for event in self.events.values()]


def test_without_idle_waits_every_key_arrives_in_order_as_the_same_event():
    vocabulary = sorted({*BINDINGS, *MOVES, *TYPING, *(ch for word in WORDS for ch in word if ch != " ")})

    async def record(fast: bool) -> list[tuple[str, str | None]]:
        app = Recorder()
        async with app.run_test() as pilot:
            with without_idle_waits() if fast else contextlib.nullcontext():
                await pilot.press(*vocabulary)
                assert textual.pilot.wait_for_idle is (yield_to_the_loop if fast else wait_for_idle)
            await pilot.pause()
        return app.keys

    by_pilot = asyncio.run(record(fast=False))
    assert len(by_pilot) == len(vocabulary)
    assert asyncio.run(record(fast=True)) == by_pilot
    assert textual.app.wait_for_idle is textual.pilot.wait_for_idle is wait_for_idle  # put back
