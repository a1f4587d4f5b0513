"""The TUI on every bundled scenario, on a diverging one, and through resizes."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

pytest.importorskip("textual")

from nnstep.scenario import bundled  # noqa: E402
from nnstep.tui import NNStepApp  # noqa: E402
from nnstep.tui.components.network import NetworkView  # noqa: E402
from nnstep.tui.components.program import ProgramView  # noqa: E402
from nnstep.tui.testing import run_async_tests, settle, wait_idle  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("stem", [p.stem for p in bundled()])
async def test_every_bundled_scenario_opens_steps_and_runs(stem):
    app = NNStepApp(stem)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot, timeout=120)
        dbg = app.dbg
        assert dbg is not None, app.query_one("#error").plain
        start = app.pane_texts()
        n = min(dbg.op_count, 20)
        await pilot.press(*["n"] * n)
        assert dbg.t == n
        assert dbg.current_op.code.split(" ")[0] in app.pane_texts()["formula"]
        await pilot.press(*["p"] * n)
        assert app.pane_texts() == start
        await pilot.press("t", "t", "t", "s")
        assert dbg.t == dbg.op_count
        await pilot.press("e")
        await wait_idle(app, pilot, timeout=120)
        assert dbg.epochs_done >= 1 and dbg.t % (dbg.op_count * dbg.sample_count) == 0 or dbg.at_end
        assert app.query_one(NetworkView).showing in ("drawing", "heat map", "formula graph", "circuit")


def diverging(tmp_path: Path) -> Path:
    text = (ROOT / "scenarios" / "one-weight.toml").read_text()
    text = re.sub(r"learning_rate = [0-9.e-]+", "learning_rate = 100", text)
    text = re.sub(r"epochs = \d+", "epochs = 1000", text)
    path = tmp_path / "diverge.toml"
    path.write_text(text)
    return path


async def test_a_diverging_run_stops_on_the_first_non_finite_value_and_steps_back(tmp_path):
    app = NNStepApp(str(diverging(tmp_path)))
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        app.dbg.stop_on_nonfinite = True
        await pilot.press("c")
        await wait_idle(app, pilot)
        assert app.last_stop.reason == "nonfinite"
        op = app.dbg.current_op
        pv = app.query_one(ProgramView)
        line = pv.row_text(pv.row_of[op.index], 70)
        assert re.search(r"\b(inf|-inf|nan)\b", line.plain)
        # in full where there is room, else the short form: this sample's long name takes room
        assert re.search(r"non-finite( value)?: \w+ = (-?inf|nan)\b", app.query_one("#status").plain)
        t = app.dbg.t
        await pilot.press("p")
        assert app.dbg.t == t - 1
        assert all(v is None or abs(v) < float("inf") for v in app.dbg.values().values())
        await pilot.press("n")
        assert app.dbg.t == t


async def test_resizes_down_to_tiny_and_up_to_huge():
    rng = random.Random(3)
    app = NNStepApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        sizes = [(20, 8), (250, 80), (80, 24), (40, 12), (120, 36)] + [
            (rng.randint(20, 250), rng.randint(8, 80)) for _ in range(10)
        ]
        for w, h in sizes:
            await pilot.resize_terminal(w, h)
            await pilot.press(rng.choice(["n", "p", "t", "v", "z", "z", "f", "tab"]))
            await pilot.pause()
            app.pane_texts()
        await pilot.resize_terminal(120, 36)
        await pilot.pause()
        assert app.dbg is not None and not app.busy


# --------------------------------------------------------------------------- async tests without a plugin


run_async_tests(globals())
