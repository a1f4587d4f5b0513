"""Partial repaints are right: after every key, each pane that repaints only the rows it
thinks changed shows exactly what a full redraw of it would (text and styles).

The program and values panes decide what changed from a row key (``row_key``) rather
than by drawing every row; a key that missed something a row is drawn from (a value, the
selection, a breakpoint, the focus, the theme, a zoom, an edit's before → now) would
leave a stale row on screen, and this test would see it."""

from __future__ import annotations

from textual._styles_cache import StylesCache

from nnstep.tui import NNStepApp
from nnstep.tui.components.formula import FormulaView
from nnstep.tui.components.network import NetworkView
from nnstep.tui.components.program import ProgramView
from nnstep.tui.components.status import StatusLine
from nnstep.tui.components.strips import text_strip
from nnstep.tui.components.values import ValuesView
from nnstep.tui.testing import run_async_tests, settle, wait_idle, working
from tests.test_tui_edits import type_text  # noqa: E402


def shown(widget) -> list[list]:
    """The widget's lines as the screen has them: its cached lines (nothing is dirty
    after a frame), each as its segments."""
    return [list(strip) for strip in widget.render_lines(widget.size.region)]


def redrawn(widget) -> list[list]:
    """The widget's lines drawn afresh, every one, without touching its cache."""
    return [list(strip) for strip in StylesCache().render_widget(widget, widget.size.region)]


def stale(app) -> list[str]:
    out = []
    status = app.query_one(StatusLine)  # it keeps its line drawn: drawn again from its text, as it is now
    text = status.content.copy()
    text.truncate(status.content_size.width, overflow="ellipsis")
    fresh = text_strip(text, app.console, status.visual_style.rich_style, status.content_size.width)
    if status.content_size.width > 0 and list(status.render_line(0)) != list(fresh):
        out.append(f"StatusLine: shown {status.render_line(0).text!r}, drawn {fresh.text!r} (or their styles differ)")
    for kind in (ProgramView, ValuesView, FormulaView, NetworkView, StatusLine):
        pane = app.query_one(kind)
        if not pane.display or not pane.size.area:
            continue
        now, fresh = shown(pane), redrawn(pane)
        for y, (a, b) in enumerate(zip(now, fresh)):
            if a != b:
                out.append(f"{kind.__name__} line {y}: shown {''.join(s.text for s in a)!r}, "
                           f"drawn {''.join(s.text for s in b)!r} (or their styles differ)")
    return out


async def test_every_pane_shows_what_a_full_redraw_would_after_each_key():
    app = NNStepApp("note-network")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        # through the forward pass into the backward (the program pane scrolls on the way),
        # back, breakpoints, focus, zoom, the formula views, restart and its undo
        keys = ["n"] * 8 + ["p", "p", "n", "b", "down", "down", "b", "up", "n"] + ["n"] * 12
        keys += ["tab", "n", "tab", "p", "z", "n", "p", "z", "t", "n", "t", "t", "n"]
        keys += ["shift+tab", "n", "r", "p", "n"]
        checked = 0
        for key in keys:
            await pilot.press(key)
            if working(app):  # r on a big program, say: a worker
                await wait_idle(app, pilot)
            await pilot.pause()
            assert not stale(app), (key, stale(app))
            checked += 1
        # a what-if edit shows before → now in the values pane; the next key clears it
        await pilot.press("equals_sign")
        await pilot.pause()
        field = app.screen.query_one("#edit-input")
        field.value = ""
        await type_text(pilot, "w5 = 3")
        await pilot.press("enter")
        await wait_idle(app, pilot)
        await pilot.pause()
        assert app.query_one(ValuesView).changed_names(), "the edit changed no value"
        assert not stale(app)
        for key in ["n", "p", "p"]:
            await pilot.press(key)
            await pilot.pause()
            assert not stale(app), (key, stale(app))
        # the theme: every row's styles change
        app.theme = "textual-light" if app.theme != "textual-light" else "textual-dark"
        await pilot.pause()
        assert not stale(app)
        await pilot.press("n")
        await pilot.pause()
        assert not stale(app)
        assert checked == len(keys)


run_async_tests(globals())
