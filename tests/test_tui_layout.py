"""Layout follows the terminal (issue #13 item 2) and the footer fits (item 3)."""

from __future__ import annotations

import pytest

pytest.importorskip("textual")

from textual.widgets import Footer  # noqa: E402

from nnstep.tui import NNStepApp  # noqa: E402
from nnstep.tui.testing import run_async_tests, settle  # noqa: E402


def footer_text(app: NNStepApp) -> str:
    footer = app.query_one(Footer)
    lines = [strip.text for strip in app.screen._compositor.render_strips()][footer.region.y:]
    return "\n".join(lines)


def visible_panes(app: NNStepApp) -> set[str]:
    out = set()
    for name in ("program", "formula", "network", "values"):
        w = app.query_one(f"#{name}")
        if w.display and w.region.width > 0 and w.region.height > 0:
            out.add(name)
    return out


def assert_nothing_cut(app: NNStepApp, width: int, height: int) -> None:
    for name in visible_panes(app):
        r = app.query_one(f"#{name}").region
        assert r.right <= width and r.bottom <= height, (name, r)
        assert r.width >= 20 and r.height >= 5, (name, r)


async def test_resizes_lay_out_for_the_new_size_on_the_next_frame():
    app = NNStepApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        await pilot.press("n")
        for width, height in ((160, 40), (80, 24), (120, 36), (80, 24), (160, 40)):
            await pilot.resize_terminal(width, height)
            await pilot.pause()
            narrow = width < 100
            assert app.screen.has_class("-narrow") == narrow
            expected = {"program", "formula", "network"} | (set() if narrow else {"values"})
            assert visible_panes(app) == expected, (width, height)
            assert_nothing_cut(app, width, height)
            assert app.query_one("#status").region.width == width
            text = footer_text(app)
            assert "^p palette" in text, (width, text)


async def test_the_current_op_stays_in_sight_through_resizes():
    # the app's resize handler runs before the panes have their new size: the program
    # and values panes keep their row in sight on their own resize (200x50 -> 120x36 did not)
    app = NNStepApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        await pilot.press(*"n" * 26)  # d_L_d_w2: both panes scrolled
        pane = app.program_pane
        for width, height in ((80, 24), (100, 30), (200, 50), (120, 36), (80, 24), (200, 50), (100, 30), (120, 36)):
            await pilot.resize_terminal(width, height)
            for _ in range(3):
                await pilot.pause()
            row, top = pane.row_of[pane.current], round(pane.scroll_offset.y)
            assert top <= row < top + pane.scrollable_content_region.height, (width, height, row, top)
            assert "▶" in pane.render_line(row - top).text, (width, height)
            values = app.values_pane
            if values.display:  # hidden below 100 columns
                shown = [values.render_line(y).text.split() for y in range(values.scrollable_content_region.height)]
                assert any(words[:1] == [app.dbg.current_op.name] for words in shown), (width, height, shown)


@pytest.mark.parametrize("size", [(80, 24), (100, 30), (120, 36), (200, 50)])
async def test_footer_never_cuts_a_word_and_keeps_the_palette_and_help(size):
    app = NNStepApp()
    async with app.run_test(size=size) as pilot:
        await settle(app, pilot)
        text = footer_text(app)
        assert "^p palette" in text and "? help" in text, text
        assert "▏" not in text.replace("▏^p", ""), text  # no key squeezed under the palette
        footer = app.query_one(Footer)
        line = text.splitlines()[0]
        shown = set()
        for key in footer.query("FooterKey"):
            r = key.region
            assert r.width > 0 and r.right <= size[0], (key.key, r)
            # the label as drawn in the key's own cells: its key and its whole description
            label = line[r.x:r.right].strip().removeprefix("▏")  # the palette key's left edge
            assert label == f"{key.key_display} {key.description}".strip(), (size, label)
            shown.add(key.action)
        for group in footer.query("FooterLabel"):  # a group's label (f s e: "finish"), whole too
            r = group.region
            assert r.right <= size[0] and line[r.x:r.right].strip() == str(group.render()).strip(), (size, r)
        # keys others add with footer=False stay out of it; the footer's keys are all whole above
        from nnstep.tui.keys import KEYS

        assert not shown & {k.action for k in KEYS if not k.footer}, shown
        assert {k.action for k in KEYS if k.footer and k.min_width <= size[0]} <= shown | {"toggle_values"}
        # v is offered only where it works
        offered = any(k.key == "v" for k in footer.query("FooterKey"))
        assert offered == (size[0] < 100)
        if offered:
            await pilot.press("v")
            await pilot.pause()
            assert app.query_one("#values").display and app.query_one("#values").region.width > 0


run_async_tests(globals())
