"""Names from a scenario file are text in every widget: never markup, never raw
control characters (issue #10 items 1 and 2), driven through Pilot."""

from __future__ import annotations

import asyncio
import dataclasses
import os

import pytest

pytest.importorskip("textual")

from textual.command import CommandInput, CommandPalette  # noqa: E402
from textual.content import Content  # noqa: E402

from nnstep.scenario import load_scenario  # noqa: E402
from nnstep.text import visible  # noqa: E402
from nnstep.tui import NNStepApp  # noqa: E402
from nnstep.tui.components.program import ProgramView  # noqa: E402
from nnstep.tui.components.status import StatusBar  # noqa: E402
from nnstep.tui.screens.goto import GotoScreen  # noqa: E402
from nnstep.tui.testing import run_async_tests, settle, wait_idle  # noqa: E402

SIZE = (120, 36)
CLICK = "[@click=app.quit]>>> click <<<[/]"
OSC52 = "\x1b]52;c;cm0gLXJmIH4=\x07"
NAMES = (CLICK, "[/]", "[/x]", OSC52)


def hostile(tmp_path) -> object:
    """The note's network with hostile sample and scenario names, built in memory
    (the loader may refuse control characters in names)."""
    base = load_scenario("note-network")
    samples = tuple(dataclasses.replace(s, name=n) for s, n in zip(base.samples, NAMES, strict=True))
    shot = f"[@click=app.screenshot('owned.svg','{tmp_path}')]screenshot[/] {OSC52}"
    return dataclasses.replace(base, name=shot, description=CLICK, samples=samples)


def raw_controls(text: str) -> list[str]:
    return [c for c in text if c in "\x1b\x07" or (ord(c) < 32 and c not in "\n\t")]


def assert_screen_clean(app: NNStepApp) -> None:
    screen = app.export_screenshot()
    assert "\x1b" not in screen and "\x07" not in screen
    for widget in app.screen.walk_children():
        for y in range(widget.size.height):
            try:
                strip = widget.render_line(y)
            except Exception:  # widgets that do not render by lines
                break
            assert not raw_controls(strip.text), (widget, strip.text)


async def test_sample_names_are_text_in_title_status_palette_and_goto(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = NNStepApp(hostile(tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        program = app.query_one(ProgramView)
        for i, name in enumerate(NAMES):
            # the first op of each sample in turn (s finishes the one before)
            await pilot.press(*(("s", "n") if i else ("n",)))
            assert app.dbg.sample.name == name
            shown = visible(name)
            title = program._border_title  # the stored Content
            assert isinstance(title, Content) and shown in title.plain
            assert shown in app.query_one(StatusBar).plain
            assert_screen_clean(app)
        # the title, clicked where the link would be: no action runs
        region = program.region
        for x in range(region.x + 2, region.x + 40, 3):
            await pilot.click(offset=(x, region.y))
        await pilot.pause()
        assert app.is_running and app.return_code is None
        assert os.listdir(tmp_path) == []
        # the palette lists every sample by its shown name and jumps there
        for i, name in enumerate(NAMES):
            await run_palette(app, pilot, "Jump to sample " + visible(name))
            await wait_idle(app, pilot)
            assert app.dbg.sample_index == i, name
            assert_screen_clean(app)
        # the go-to dialog: a name typed as shown, and text that looks like markup
        await pilot.press("g")
        await pilot.pause()
        assert isinstance(app.screen, GotoScreen)
        app.screen.query_one("#goto-sample").value = "[/x]"
        app.screen.query_one("#goto-op").value = "[/x]"
        await pilot.press("enter")
        await pilot.pause()
        assert "op: '[/x]' is not a number" in str(app.screen.query_one("#goto-error").content)
        app.screen.query_one("#goto-sample").value = "[/x]]"
        await pilot.press("enter")
        await pilot.pause()
        assert "sample: '[/x]]' is not a number" in str(app.screen.query_one("#goto-error").content)
        app.screen.query_one("#goto-sample").value = visible(OSC52)
        app.screen.query_one("#goto-op").value = "2"
        await pilot.press("enter")
        await wait_idle(app, pilot)
        assert app.dbg.sample_index == 3 and app.dbg.op_index == 1
        assert_screen_clean(app)
        assert os.listdir(tmp_path) == []
        assert app.is_running


async def test_error_view_shows_file_text_escaped(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\n[network]\ninputs = ["a"]\nlayers = [{ neurons = 1, activation = "[b]\x1b]0;t\x07" }]\n')
    app = NNStepApp(bad)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await wait_idle(app, pilot)
        assert app.dbg is None
        assert_screen_clean(app)
        assert app.is_running


async def run_palette(app: NNStepApp, pilot, text: str) -> None:
    await pilot.press("ctrl+p")
    await pilot.pause()
    assert isinstance(app.screen, CommandPalette)
    app.screen.query_one(CommandInput).value = text
    for _ in range(100):
        await asyncio.sleep(0.02)
        await pilot.pause()
        ol = app.screen.query_one("CommandList")
        if ol.option_count and ol.get_option_at_index(0).prompt.plain.startswith(text):
            break
    assert ol.get_option_at_index(0).prompt.plain.startswith(text)
    await pilot.press("enter")
    await pilot.pause()
    await pilot.pause()


run_async_tests(globals())
