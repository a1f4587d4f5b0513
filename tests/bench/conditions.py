""""Continue" with a breakpoint condition that never holds (and with the
non-finite check on): whole samples through generated code that checks the
condition, against taking every op one by one.  Prints medians and the ratio."""

from __future__ import annotations

import nnstep
from nnstep.debugger import Debugger

from _common import machine, median_time

CONDITION = "abs(d_L_d_w1) > 1e6 or L < 0"


def run(name: str, epochs: int, op_by_op: bool) -> None:
    dbg = Debugger(nnstep.load_scenario(name), epochs=epochs)
    dbg.add_condition(CONDITION)
    dbg.stop_on_nonfinite = True
    if op_by_op:
        dbg._watcher = lambda nonfinite: None
    stop = dbg.run_to_end()
    assert stop.reason == "end", stop


print(f"machine: {machine()}")
print(f"condition: {CONDITION!r}, stop on non-finite values on")
ratios = []
for name, epochs in (("note-network", 1000), ("iris", 10)):
    fast = median_time(lambda n=name, e=epochs: run(n, e, False), repeat=3)
    slow = median_time(lambda n=name, e=epochs: run(n, e, True), repeat=3)
    ratios.append(slow / fast)
    print(f"{name}, {epochs} epochs: generated check {fast * 1e3:.0f} ms, op by op {slow * 1e3:.0f} ms")
print(f"ratio (op by op / generated check): {ratios[0]:.1f}x note-network, {ratios[1]:.1f}x iris")
