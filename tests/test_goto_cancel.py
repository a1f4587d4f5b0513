"""Debugger.goto's replay from a checkpoint can be cancelled: asked before each
sample it replays, and when cancelled the debugger stays exactly where it was."""

from __future__ import annotations

from nnstep.debugger import Debugger
from nnstep.scenario import load_scenario


def sparse(monkeypatch) -> Debugger:
    monkeypatch.setattr("nnstep.debugger.CHECKPOINT_BUDGET", 9 * 8 * 10)  # a checkpoint every ~40 samples
    dbg = Debugger(load_scenario("note-network"), epochs=100)
    assert dbg._stride > 1
    return dbg


def test_cancelled_replay_leaves_the_debugger_where_it_was(monkeypatch):
    dbg = sparse(monkeypatch)
    dbg.goto(dbg.total - 3)
    dbg._recent.clear()  # only the sparse checkpoints left: going back must replay
    before = dbg.state()
    target = dbg._stride * 3 + dbg._stride // 2  # a sample between two checkpoints
    t = target * dbg.op_count + 5
    asked = []

    def cancel() -> bool:
        asked.append(1)
        return len(asked) > 3

    assert dbg.goto(t, cancel=cancel) is False
    assert len(asked) == 4  # asked before each sample replayed, stopped at the 4th
    assert dbg.state() == before
    # and the same move without cancelling gets there, equal to a fresh debugger
    replayed = []
    assert dbg.goto(t, cancel=lambda: replayed.append(1) and False) is True
    assert 0 < len(replayed) < dbg._stride
    fresh = Debugger(load_scenario("note-network"), epochs=100)
    fresh.goto(t)
    assert dbg.state() == fresh.state()


def test_goto_without_a_replay_never_asks(monkeypatch):
    dbg = sparse(monkeypatch)
    asked = []
    for t in (5, 3, dbg.op_count + 2, 2):
        assert dbg.goto(t, cancel=lambda: asked.append(1) or True) is True
        assert dbg.t == t
    assert asked == []
