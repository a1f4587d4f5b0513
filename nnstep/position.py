"""A point in a training run as a person writes it: ``EPOCH:SAMPLE:OP``, counting from 1.

``nnstep SCENARIO --at 2:3:d_L_d_w1`` opens the debugger right after the op
``d_L_d_w1`` of the third sample of the second epoch; the op may also be given by
its number in the sample's program (``--at 2:3:25``).  :func:`parse_at` checks the
text's form, :func:`at_step` its range against a debugger and gives the position
``t`` (ops executed since the start) that :meth:`nnstep.Debugger.goto` takes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .text import visible

if TYPE_CHECKING:
    from .debugger import Debugger


@dataclass(frozen=True)
class At:
    """Epoch, sample and op, each counting from 1; the op may be its name instead."""

    epoch: int
    sample: int
    op: int | str

    def __str__(self) -> str:
        return f"{self.epoch}:{self.sample}:{self.op}"


def _whole(text: str, what: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise ValueError(f"{what} '{_cut(text)}' is not a whole number") from None
    if n < 1:
        raise ValueError(f"{what} must be at least 1 (epochs, samples and ops count from 1), not {n}")
    return n


def _cut(text: str) -> str:
    text = visible(text)
    return text if len(text) <= 40 else text[:39] + "…"


def parse_at(text: str) -> At:
    """``'2:3:25'`` or ``'2:3:d_L_d_w1'`` → :class:`At`; a ValueError says what is wrong."""
    parts = text.split(":")
    if len(parts) != 3:
        raise ValueError(f"'{_cut(text)}' is not EPOCH:SAMPLE:OP (e.g. 1:2:d_L_d_w1 or 1:2:25)")
    epoch = _whole(parts[0].strip(), "epoch")
    sample = _whole(parts[1].strip(), "sample")
    op_text = parts[2].strip()
    if not op_text:
        raise ValueError("the op is missing: give its name or its number in the sample's program")
    op: int | str = _whole(op_text, "op") if op_text.lstrip("+-").isdigit() else op_text
    return At(epoch, sample, op)


def at_step(dbg: Debugger, at: At) -> int:
    """The position ``t`` right after ``at``'s op has run; a ValueError says which part is
    out of range (with the range)."""
    if at.epoch > dbg.epochs:
        raise ValueError(f"epoch {at.epoch} is past the last one: the run has {dbg.epochs} epochs")
    if at.sample > dbg.sample_count:
        raise ValueError(f"sample {at.sample} is past the last one: the scenario has {dbg.sample_count} samples")
    if isinstance(at.op, str):
        op = dbg.program.by_name.get(at.op)
        if op is None:
            raise ValueError(f"no op named '{_cut(at.op)}' in the program")
        index = op.index
    else:
        if at.op > dbg.op_count:
            raise ValueError(f"op {at.op} is past the last one: a sample's program has {dbg.op_count} ops")
        index = at.op - 1
    return ((at.epoch - 1) * dbg.sample_count + at.sample - 1) * dbg.op_count + index + 1
