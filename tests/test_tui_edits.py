"""The TUI's what-if edits (``=``), watches (``w``) and sessions (``ctrl+s``, --session), with Pilot."""

from __future__ import annotations

import math
import re
from pathlib import Path

from nnstep import session
from nnstep.debugger import Debugger
from nnstep.tui import NNStepApp
from nnstep.tui.components.values import ValuesView
from nnstep.tui.screens.edit import EditScreen
from nnstep.tui.screens.watches import WatchesScreen
from nnstep.tui.testing import run_async_tests, settle, wait_idle

SIZE = (140, 44)


async def goto_op(app, pilot, name: str) -> None:
    dbg = app.dbg
    app.goto(dbg.program.by_name[name].index + 1)
    await wait_idle(app, pilot)


def value_in_pane(app, name: str) -> str:
    """The value text of ``name``'s row in the values pane."""
    for line in app.query_one(ValuesView).text_lines(80):
        m = re.match(rf"^ {re.escape(name)}\s+(.*\S)\s*$", line)
        if m:
            return m.group(1)
    raise AssertionError(f"{name} not in the values pane")


async def type_text(pilot, text: str) -> None:
    for ch in text:
        await pilot.press({" ": "space", "*": "asterisk", "=": "equals_sign", ".": "full_stop",
                           "(": "left_parenthesis", ")": "right_parenthesis", "-": "minus",
                           "+": "plus", "/": "slash"}.get(ch, ch))


async def test_edit_mid_backward_shows_old_to_new_and_p_undoes_it():
    app = NNStepApp("note-network")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await goto_op(app, pilot, "d_L_d_w5")
        dbg = app.dbg
        plain = dbg.state()
        before = dbg.value("d_L_d_w5")
        await pilot.press("equals_sign")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, EditScreen)
        field = screen.query_one("#edit-input")
        assert field.value == "w5 = "  # suggested by the selected op d_L_d_w5
        await type_text(pilot, "0.5")
        await pilot.press("enter")
        await pilot.pause()
        assert not isinstance(app.screen, EditScreen)
        assert [e.name for e in dbg.edits] == ["w5"] and dbg.value("w5") == 0.5
        after = dbg.value("d_L_d_w5")
        assert after != before and dbg.current_op.name == "d_L_d_w5"
        texts = app.pane_texts()
        assert re.search(r"✎ ?1( edit)?\b", texts["status"])
        values = app.query_one(ValuesView)
        assert {"w5", "d_L_d_w5", "y_pred", "L"} <= set(values.changed_names())
        shown = value_in_pane(app, "d_L_d_w5")
        old, new = (float(x) for x in shown.split(" → "))
        assert math.isclose(old, before, rel_tol=1e-5) and math.isclose(new, after, rel_tol=1e-5)
        await pilot.press("p")  # right after the edit: undo it exactly
        await pilot.pause()
        assert not dbg.edits and dbg.state() == plain
        assert "✎" not in app.pane_texts()["status"]
        await pilot.press("p")  # then p steps back as usual
        await pilot.pause()
        assert dbg.current_op.name != "d_L_d_w5"


async def test_edit_errors_stay_in_the_dialog():
    app = NNStepApp("note-network")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("equals_sign")
        await pilot.pause()
        screen = app.screen
        field = screen.query_one("#edit-input")
        field.value = "sum_h1 = 2"
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is screen
        error = str(screen.query_one("#edit-error").render())
        assert "is computed by op 1" in error and "\n" not in error.strip()
        field.value = "w1 = [@click=app.quit]"
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is screen and app.dbg.edits == []
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, EditScreen)


async def test_palette_set_command():
    app = NNStepApp("note-network")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.palette_edit("learn_rate", "learn_rate * 10")
        await pilot.pause()
        assert app.dbg.value("learn_rate") == app.dbg.scenario.learning_rate * 10
        assert re.search(r"✎ ?1( edit)?\b", app.pane_texts()["status"])
        from nnstep.tui.commands import _assignment

        assert _assignment("set w1 = w1 * 2") == ("w1", "w1 * 2")
        assert _assignment("jump to op h1") is None


async def test_watches_show_values_and_survive_restart_and_reopen():
    app = NNStepApp("note-network")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("w")
        await pilot.pause()
        assert isinstance(app.screen, WatchesScreen)
        await type_text(pilot, "h1*(1-h1)")
        await pilot.press("enter")
        await type_text(pilot, "nope+1")
        await pilot.press("enter")
        await pilot.pause()
        assert "unknown name" in str(app.screen.query_one("#watch-error").render())
        await pilot.press("escape")
        await pilot.pause()
        assert app.watch_texts == ["h1 * (1 - h1)"]
        assert value_in_pane(app, "h1 * (1 - h1)") == "·"  # h1 not computed yet
        await goto_op(app, pilot, "h1")
        h1 = app.dbg.value("h1")
        assert float(value_in_pane(app, "h1 * (1 - h1)")) == float(f"{h1 * (1 - h1):.6g}")
        await goto_op(app, pilot, "d_L_d_b1")  # far down the pane: the watch stays pinned on top
        values = app.query_one(ValuesView)
        assert values.scroll_offset.y > 0
        assert values.render_line(0).text.startswith("── watches")
        assert values.render_line(1).text.strip().startswith("h1 * (1 - h1)")
        assert "d_L_d_b1" in "".join(values.render_line(y).text for y in range(2, values.size.height))
        await pilot.press("r")
        await pilot.pause()
        assert value_in_pane(app, "h1 * (1 - h1)") == "·"
        app.open_scenario("xor")
        await wait_idle(app, pilot)
        await settle(app, pilot)
        assert app.watch_texts == ["h1 * (1 - h1)"]
        app.goto(app.dbg.program.by_name["h1"].index + 1)
        await wait_idle(app, pilot)
        h1 = app.dbg.value("h1")
        assert float(value_in_pane(app, "h1 * (1 - h1)")) == float(f"{h1 * (1 - h1):.6g}")


async def test_ctrl_s_saves_a_session_that_restores_bit_for_bit(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = NNStepApp("note-network")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        dbg = app.dbg
        dbg.toggle_breakpoint("d_L_d_w1")
        dbg.add_condition("L < 0.01")
        app.query_one(ValuesView).set_watches(["d_L_d_w1 / w1"])
        await goto_op(app, pilot, "d_L_d_w5")
        app.palette_edit("w5", "w5 * 2")
        await pilot.pause()
        app.goto(dbg.t + 50)
        await wait_idle(app, pilot)
        await pilot.press("ctrl+s")
        await pilot.pause()
        saved = tmp_path / "note-network.nnstep-session.toml"
        assert saved.is_file()
        assert any(str(saved) in str(n.message) for n in app._notifications)
        state, edits = dbg.state(), list(dbg.edits)
    restored = session.restore(session.load(saved))
    assert restored.state() == state and restored.edits == edits
    assert restored.breakpoints == {"d_L_d_w1"} and [c.text for c in restored.conditions] == ["L < 0.01"]
    assert session.load(saved).watches == ("d_L_d_w1 / w1",)

    app2 = NNStepApp("note-network")
    app2.use_session(restored, ["d_L_d_w1 / w1"], str(saved))
    async with app2.run_test(size=SIZE) as pilot:
        await settle(app2, pilot)
        assert app2.dbg.state() == state
        text = app2.pane_texts()["status"]
        assert re.search(r"✎ ?1( edit)?\b", text) and "restored" in text
        assert app2.watch_texts == ["d_L_d_w1 / w1"]


def test_session_path_beside_a_scenario_file(tmp_path):
    src = Path(__file__).parent.parent / "scenarios" / "xor.toml"
    mine = tmp_path / "mine.toml"
    mine.write_text(src.read_text())
    dbg = Debugger(mine)
    assert session.default_path(dbg.scenario, str(mine)) == tmp_path / "mine.nnstep-session.toml"
    assert session.scenario_ref(dbg.scenario, str(mine), tmp_path / "mine.nnstep-session.toml") == "mine.toml"


run_async_tests(globals())
