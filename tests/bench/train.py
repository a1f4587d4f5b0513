"""Headless training of the note's network, 1000 epochs: nnstep against a plain
loop written the way the study note writes it (NumPy scalars, one sample at a
time, the loss after every epoch).  Prints medians and the ratio."""

from __future__ import annotations

import numpy as np

import nnstep
from nnstep.train import train

from _common import machine, median_time
from reference import note_style_train

sc = nnstep.load_scenario()
dbg = nnstep.Debugger(sc)
data = np.array([s.x for s in sc.samples], dtype=np.int64)
ys = np.array([s.y[0] for s in sc.samples], dtype=np.int64)

ours = train(dbg.program, dbg.initial, 1000)
ref_losses, _ = note_style_train(data, ys, sc.initial_parameters(), 1000)
worst = max(abs(a - b) / abs(b) for a, b in zip(ours.losses, ref_losses))
print(f"machine: {machine()}")
print(f"losses agree with the note-style loop to {worst:.1e} relative")
t_ours = median_time(lambda: train(dbg.program, dbg.initial, 1000))
t_ref = median_time(lambda: note_style_train(data, ys, sc.initial_parameters(), 1000))
print(f"nnstep train, 1000 epochs: {t_ours * 1e3:.1f} ms (median of 5)")
print(f"note-style loop, 1000 epochs: {t_ref * 1e3:.1f} ms (median of 5)")
print(f"ratio (note-style / nnstep): {t_ref / t_ours:.2f}x faster")
