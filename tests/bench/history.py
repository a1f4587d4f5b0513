"""Step-back cost and memory over a 1000-epoch run of the note's network.

Prints the median cost of one step forward and one step back at random points
of the run (jumping there first), and the memory the debugger holds after
visiting the end."""

from __future__ import annotations

import random
import statistics
import time
import tracemalloc

import nnstep

from _common import machine

random.seed(0)
tracemalloc.start()
dbg = nnstep.Debugger(nnstep.load_scenario())
dbg.run_to_end()
dbg.epoch_losses()
current, peak = tracemalloc.get_traced_memory()
tracemalloc.stop()

fwd, back, back_boundary = [], [], []
for _ in range(300):
    dbg.goto(random.randrange(1, dbg.total - 1))
    t = time.perf_counter()
    dbg.step()
    fwd.append(time.perf_counter() - t)
    t = time.perf_counter()
    dbg.back()
    back.append(time.perf_counter() - t)
    # a step forward over a sample boundary, then back over it again
    dbg.goto((dbg.t // dbg.op_count + 1) * dbg.op_count)
    dbg.step()
    t = time.perf_counter()
    dbg.back()
    back_boundary.append(time.perf_counter() - t)

f, b, bb = (statistics.median(x) * 1e6 for x in (fwd, back, back_boundary))
print(f"machine: {machine()}")
print(f"run: {dbg.epochs} epochs x {dbg.sample_count} samples x {dbg.op_count} ops = {dbg.total:,} ops")
print(f"memory held after the whole run: {current / 1e6:.2f} MB (peak {peak / 1e6:.2f} MB)")
print(f"median step forward {f:.1f} us, step back {b:.1f} us, back across a sample boundary {bb:.1f} us")
print(f"ratio (step back / step forward): {b / f:.2f}; across a boundary: {bb / f:.2f}")
