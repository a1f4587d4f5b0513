"""The finite-difference check (nnstep.gradcheck) never cries wolf, and still catches wrong
gradients: swept over every parameter gradient of every bundled scenario for a few epochs.

The truth is the op's own value: tests/test_scenarios.py and tests/test_engine.py hold it
against a 50-digit reference, and here a few tiny ones are checked against it again."""

from __future__ import annotations

from collections import Counter

import pytest
from test_scenarios import BUNDLED

from nnstep.debugger import Debugger
from nnstep.gradcheck import AGREE, DIFFER, RESOLVES, UNMEASURABLE, check_gradient

from reference import mp_gradient

#: Epochs swept per scenario; scenarios with many samples or parameters are thinned.
EPOCHS = 3
SAMPLES = {"iris": 2, "two-moons": 6}
PARAM_STRIDE = {"iris": 23}


def gradient_ops(dbg: Debugger):
    prog = dbg.program
    return [op for op in prog.ops if op.kind == "total" and op.wrt in prog.parameters]


def at_sample(dbg: Debugger, epoch: int, sample: int) -> None:
    """Move to the last op of a sample (1-based epoch and sample): every gradient computed."""
    g = (epoch - 1) * dbg.sample_count + (sample - 1)
    dbg.goto(g * dbg.op_count + dbg.op_count - 1)


@pytest.mark.parametrize("stem", sorted(BUNDLED))
def test_no_false_differ_and_wrong_gradients_are_caught(stem):
    dbg = Debugger(stem)
    ops = gradient_ops(dbg)[:: PARAM_STRIDE.get(stem, 1)]
    assert ops
    seen: Counter[str] = Counter()
    for epoch in range(1, min(EPOCHS, dbg.epochs) + 1):
        for sample in range(1, min(SAMPLES.get(stem, 12), dbg.sample_count) + 1):
            at_sample(dbg, epoch, sample)
            for op in ops:
                value = dbg.value(op.name)
                check = dbg.finite_difference(op.wrt, value)
                seen[check.verdict] += 1
                where = (stem, epoch, sample, op.name, value, check.estimate, check.tolerance)
                assert check.verdict != DIFFER, where
                assert check.words.startswith({AGREE: "agree", UNMEASURABLE: "cannot be measured"}[check.verdict])
                if check.verdict == AGREE and value != 0:
                    # a check that confirmed the value rejects a wrong one
                    assert abs(check.difference) <= check.tolerance <= RESOLVES * abs(value), where
                    for wrong in (1.5 * value, -value):
                        assert dbg.finite_difference(op.wrt, wrong).verdict == DIFFER, (where, wrong)
    assert seen[AGREE] > 0


# the cases issue #11 saw branded wrong on the default scenario (1-based epoch and sample)
ISSUE_CASES = [(1, 2, "w1"), (1, 2, "w3"), (1, 4, "w2"), (64, 4, "w1")]


@pytest.mark.parametrize(("epoch", "sample", "param"), ISSUE_CASES)
def test_tiny_true_gradients_of_the_default_scenario_are_not_called_wrong(epoch, sample, param):
    dbg = Debugger("note-network")
    at_sample(dbg, epoch, sample)
    value = dbg.value(f"d_L_d_{param}")
    truth = mp_gradient(dbg.scenario, dbg.old_parameters(), sample - 1, param)
    assert value == pytest.approx(truth, rel=1e-9, abs=1e-25)
    check = dbg.finite_difference(param)
    assert check.verdict in (AGREE, UNMEASURABLE), check
    if check.verdict == UNMEASURABLE:
        assert check.words.startswith("cannot be measured: ")
        assert "✗" not in check.words


def test_unmeasurable_says_why_in_words():
    dbg = Debugger("note-network")
    at_sample(dbg, 1, 2)  # Bob: d_L_d_w1 is about 4e-20, the loss is flat in float64
    check = dbg.finite_difference("w1")
    assert check.verdict == UNMEASURABLE
    assert "does not change in float64" in check.words
    # the sentence is true: the loss is the same at w1 ± h
    prog, p = dbg.program, list(dbg.old_parameters().values())
    i = prog.parameters.index("w1")
    up, down = list(p), list(p)
    up[i] += check.step
    down[i] -= check.step
    assert prog.sample_loss(up, 1) == prog.sample_loss(down, 1)
    assert f"{check.step:.2g}" in check.words


def test_a_sign_flip_on_a_measurable_gradient_differs():
    dbg = Debugger("note-network")
    at_sample(dbg, 1, 1)
    value = dbg.value("d_L_d_w1")
    assert dbg.finite_difference("w1").verdict == AGREE
    flipped = check_gradient(dbg.program, dbg.old_parameters().values(), 0, "w1", -value)
    assert flipped.verdict == DIFFER and flipped.words.startswith("differ")
    assert flipped.difference == pytest.approx(-2 * value, rel=1e-6)


def test_formula_pane_shows_the_verdict_in_words():
    from nnstep.tui.components.formula import _finite_difference

    dbg = Debugger("note-network")
    at_sample(dbg, 1, 2)
    op = dbg.program.by_name["d_L_d_w1"]
    text = "\n".join(t.plain for t in _finite_difference(dbg, op, dbg.value(op.name), 60))
    assert "cannot be measured" in text and "✗ differ" not in text
    assert "does not change in float64" in " ".join(text.split())
    at_sample(dbg, 1, 1)
    text = "\n".join(t.plain for t in _finite_difference(dbg, op, dbg.value(op.name), 60))
    assert "✓ agree" in text
    text = "\n".join(t.plain for t in _finite_difference(dbg, op, 1.5 * dbg.value(op.name), 60))
    assert "✗ differ" in text


def test_the_check_fits_the_pane_it_is_drawn_for():
    """Each check line fits the width it is made for, the verdict under the difference when
    it does not fit beside it (a line wider than the pane brings a scrollbar and a layout)."""
    from nnstep.tui.components.formula import _finite_difference

    dbg = Debugger("note-network")
    op = dbg.program.by_name["d_L_d_w1"]
    for sample, verdict in ((1, "✓ agree"), (2, "? cannot be measured")):
        at_sample(dbg, 1, sample)
        for width in range(30, 80):  # the pane is 30 wide or more at 80x24
            lines = _finite_difference(dbg, op, dbg.value(op.name), width)
            assert max(t.cell_len for t in lines) <= width, (sample, width, [t.plain for t in lines])
            plain = [t.plain for t in lines]
            assert sum(verdict in line for line in plain) == 1, (width, plain)
            # under the difference only when both do not fit on one line
            difference = next(line for line in plain if "f.d. =" in line or "diff " in line)
            if verdict not in difference:
                assert len(difference) + 1 + len(verdict) > width, (width, plain)


@pytest.mark.parametrize("size", [(120, 36), (80, 24)])
def test_the_app_never_brands_bobs_tiny_gradient_wrong(size):
    import asyncio

    from nnstep.tui import NNStepApp
    from nnstep.tui.components.formula import FormulaView
    from nnstep.tui.testing import settle, wait_idle

    async def go() -> str:
        app = NNStepApp()
        async with app.run_test(size=size) as pilot:
            await settle(app, pilot)
            app.dbg.toggle_breakpoint("d_L_d_w1")
            for _ in range(2):  # Alice's d_L_d_w1, then Bob's
                await pilot.press("c")
                await wait_idle(app, pilot)
            assert app.dbg.current_op.name == "d_L_d_w1" and app.dbg.sample.name == "Bob"
            return app.query_one(FormulaView).plain

    text = asyncio.run(go())
    assert "cannot be measured" in text and "✗" not in text
    assert "float64" in text
