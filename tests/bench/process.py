"""Training the note's network for 1000 epochs as a whole process, start to exit:
`nnstep train` against a plain program written the way the study note writes it
(import NumPy, loop over NumPy scalars, print the loss every 10 epochs).
Prints medians of several runs and the ratio."""

from __future__ import annotations

import sys

from _common import machine, wall

NOTE_PROGRAM = r"""
import sys
sys.path.insert(0, "tests")
import numpy as np
from note_style import note_style_train
data = np.array([[-2, -1], [25, 6], [17, 4], [-15, -6]])
ys = np.array([1, 0, 0, 1])
rng = np.random.RandomState(0)
names = ("w1", "w2", "w3", "w4", "w5", "w6", "b1", "b2", "b3")
params = {n: rng.normal() for n in names}
losses, _ = note_style_train(data, ys, params, 1000)
for epoch in range(0, 1000, 10):
    print(f"Epoch {epoch} loss: {losses[epoch]:.3f}")
"""


if __name__ == "__main__":
    print(f"machine: {machine()}")
    ours = wall([sys.executable, "-m", "nnstep", "train", "note-network", "--epochs", "1000"])
    note = wall([sys.executable, "-c", NOTE_PROGRAM])
    print(f"nnstep train, 1000 epochs, whole process: {ours * 1e3:.0f} ms (median of 9)")
    print(f"note-style program, 1000 epochs, whole process: {note * 1e3:.0f} ms (median of 9)")
    print(f"ratio (note-style program / nnstep train): {note / ours:.2f}x faster")
