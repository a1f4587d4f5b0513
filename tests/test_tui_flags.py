"""The debugger's flags (issue #14 item 7): ``nnstep SCENARIO --seed S --epochs N --at E:S:O``,
counting from 1, checked before the debugger opens (one line, exit 2), and the app
opening where they say."""

from __future__ import annotations

import contextlib
import io
import re
import sys

import pytest

from nnstep import cli
from nnstep.debugger import Debugger
from nnstep.position import At, at_step, parse_at
from nnstep.scenario import Scenario

pytest.importorskip("textual")

from nnstep.tui import NNStepApp  # noqa: E402
from nnstep.tui.components.program import ProgramView  # noqa: E402
from nnstep.tui.components.status import StatusBar  # noqa: E402
from nnstep.tui.runs import SYNC_LIMIT  # noqa: E402
from nnstep.tui.testing import run_async_tests, settle, toasted, wait_idle  # noqa: E402

SIZE = (120, 36)




def run(argv: list[str]) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = cli.main(argv)
    return code, err.getvalue()


# --------------------------------------------------------------------------- --at's form and range


@pytest.mark.parametrize(("text", "want"), [
    ("2:3:25", At(2, 3, 25)),
    ("1:1:d_L_d_w1", At(1, 1, "d_L_d_w1")),
    (" 1 : 4 : L ", At(1, 4, "L")),
])
def test_parse_at(text, want):
    assert parse_at(text) == want
    assert parse_at(str(want)) == want


@pytest.mark.parametrize(("text", "error"), [
    ("1:2", "'1:2' is not EPOCH:SAMPLE:OP (e.g. 1:2:d_L_d_w1 or 1:2:25)"),
    ("x:1:1", "epoch 'x' is not a whole number"),
    ("0:1:1", "epoch must be at least 1 (epochs, samples and ops count from 1), not 0"),
    ("1:0:1", "sample must be at least 1 (epochs, samples and ops count from 1), not 0"),
    ("1:1:0", "op must be at least 1 (epochs, samples and ops count from 1), not 0"),
    ("1:1:-3", "op must be at least 1 (epochs, samples and ops count from 1), not -3"),
    ("1:1:", "the op is missing: give its name or its number in the sample's program"),
])
def test_parse_at_errors(text, error):
    with pytest.raises(ValueError) as info:
        parse_at(text)
    assert str(info.value) == error


def test_at_step_is_the_position_right_after_that_op():
    dbg = Debugger("note-network")
    t = at_step(dbg, At(2, 3, "d_L_d_w1"))
    dbg.goto(t)
    assert dbg.position() == (1, 2, dbg.program.by_name["d_L_d_w1"].index)
    assert dbg.current_op.name == "d_L_d_w1"
    assert at_step(dbg, At(2, 3, dbg.current_op.index + 1)) == t
    assert at_step(dbg, At(1, 1, 1)) == 1
    assert at_step(dbg, At(dbg.epochs, dbg.sample_count, dbg.op_count)) == dbg.total


# --------------------------------------------------------------------------- the CLI


@pytest.mark.parametrize(("argv", "line"), [
    (["--at", "1001:1:1"], "nnstep: argument --at: epoch 1001 is past the last one: the run has 1000 epochs"),
    (["--epochs", "3", "--at", "4:1:1"], "nnstep: argument --at: epoch 4 is past the last one: the run has 3 epochs"),
    (["xor", "--at", "1:5:1"], "nnstep: argument --at: sample 5 is past the last one: the scenario has 4 samples"),
    (["--at", "1:1:41"], "nnstep: argument --at: op 41 is past the last one: a sample's program has 40 ops"),
    (["--at", "1:1:d_L_d_w9"], "nnstep: argument --at: no op named 'd_L_d_w9' in the program"),
    (["--at", "1:1:\x1b[31m"], "nnstep: argument --at: no op named '\\x1b[31m' in the program"),
    (["--at", "1-1-1"], "nnstep: argument --at: '1-1-1' is not EPOCH:SAMPLE:OP (e.g. 1:2:d_L_d_w1 or 1:2:25)"),
    (["--epochs", "0"], "nnstep: argument --epochs: must be at least 1, not 0"),
    (["--epochs", "10000001"],
     "nnstep: argument --epochs: must be at most 10000000 (the limit of training.epochs), not 10000001"),
    (["--seed", "-1"], "nnstep: argument --seed: must be between 0 and 2**32 - 1, not -1"),
    (["--seed", "x"], "nnstep: argument --seed: 'x' is not a whole number"),
])
def test_bad_flags_are_one_line_and_exit_2(argv, line):
    code, err = run(argv)
    assert code == 2
    assert err == f"{line} (see 'nnstep --help')\n"


def test_a_bad_scenario_with_at_is_its_one_line_error(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[training]\nlearning_rate = -1\n")
    code, err = run([str(bad), "--at", "1:1:1"])
    code2, err2 = run(["check", str(bad)])
    assert code == code2 == 2 and err == err2 and err.count("\n") == err2.count("\n") >= 1


def test_good_flags_reach_the_app(monkeypatch):
    import nnstep.tui

    started = []
    monkeypatch.setattr(nnstep.tui.NNStepApp, "run", lambda self: started.append(self))
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True, raising=False)
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    assert cli.main(["xor", "--seed", "7", "--epochs", "9", "--at", "2:3:L"]) == 0
    (app,) = started
    assert app.first_open == (7, 9, At(2, 3, "L"))
    assert isinstance(app.scenario_arg, Scenario) and app.scenario_arg.source == "xor"  # loaded once
    assert cli.main(["iris", "--seed", "1"]) == 0
    assert started[1].first_open == (1, None, None) and started[1].scenario_arg == "iris"


def test_the_flags_are_in_the_help():
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
        cli.main(["--help"])
    for flag in ("--seed S", "--epochs N", "--at EPOCH:SAMPLE:OP"):
        assert flag in out.getvalue()


# --------------------------------------------------------------------------- the app


async def test_the_app_opens_at_the_point():
    app = NNStepApp("note-network", at=At(2, 3, "d_L_d_w1"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        dbg = app.dbg
        assert dbg.position() == (1, 2, dbg.program.by_name["d_L_d_w1"].index)
        assert not app.last_run_threaded  # near: at once
        status = app.query_one(StatusBar).plain
        assert re.search(r"\bep(och)? 2/1000\b", status) and "Charlie 3/4" in status and "op 25/40" in status
        program = app.query_one(ProgramView)
        assert program.current == dbg.program.by_name["d_L_d_w1"].index


async def test_a_far_point_is_a_run_in_the_worker():
    app = NNStepApp("note-network", seed=4, epochs=2000, at=At(1500, 2, 3))
    async with app.run_test(size=SIZE) as pilot:
        await wait_idle(app, pilot)
        await settle(app, pilot)
        dbg = app.dbg
        assert 1499 * 4 * 40 > SYNC_LIMIT and app.last_run_threaded
        assert dbg.position() == (1499, 1, 2) and (dbg.seed, dbg.epochs) == (4, 2000)
        fresh = Debugger("note-network", seed=4, epochs=2000)
        fresh.goto_position(1499, 1, 2)
        assert dbg.state() == fresh.state()
        assert re.search(r"\bep(och)? 1500/2000\b", app.query_one(StatusBar).plain)


async def test_a_point_out_of_range_given_to_the_app_says_so_and_stays_at_the_start():
    app = NNStepApp("xor", epochs=3, at=At(4, 1, 1))
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.pause()
        assert app.dbg.t == 0 and app.dbg.epochs == 3
        await toasted(app, pilot, lambda t: t == "--at 4:1:1: epoch 4 is past the last one: the run has 3 epochs")


async def test_a_seed_that_changes_nothing_is_said():
    app = NNStepApp("circuit", seed=5)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.pause()
        await toasted(app, pilot, lambda t: t == "--seed 5 changes nothing: every parameter of "
                      "'Circuit: f = (x + y) · z' is given, so none is drawn")
        assert app.dbg.seed == 5


async def test_opening_another_scenario_uses_its_own_settings():
    app = NNStepApp("xor", seed=9, epochs=3)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert (app.dbg.seed, app.dbg.epochs) == (9, 3)
        app.open_bundled("note-network")
        await wait_idle(app, pilot)
        assert (app.dbg.seed, app.dbg.epochs) == (0, 1000) and app.overrides == (None, None)


run_async_tests(globals())
