"""nnstep's reference for the learner's training: their parameters, rate and data."""

from __future__ import annotations

import types
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..program import Program
from ..scenario import Scenario
from .results import MAX_DATA_ROWS, number


@dataclass
class Reference:
    scenario: Scenario
    program: Program
    rows: list[tuple[tuple[float, ...], tuple[float, ...]]]

    def values(self, params: Sequence[float], i: int, *, x: Sequence[float] | None = None,
               y: Sequence[float] | None = None) -> list[float]:
        """Every slot after one training step of sample ``i`` (0-based) from ``params``;
        ``x``/``y`` replace the sample's inputs/targets (for hints)."""
        prog = self.program
        v = prog.new_slots()
        prog.load(v, params, i)
        if x is not None:
            for n, xv in zip(prog.inputs, x):
                v[prog.slot[n]] = xv
        if y is not None:
            for n, yv in zip(prog.targets, y):
                v[prog.slot[n]] = yv
        prog.run(v)
        return v


@dataclass
class TrainingSample:
    g: int  # global 0-based sample index
    i: int  # index in the data
    start: list[float]
    v: list[float]
    seen: set[str] = field(default_factory=set)
    updated: dict[str, float] = field(default_factory=dict)
    last_update_line: int | None = None
    last_line: int | None = None



def find_data(frame: types.FrameType | None, n_in: int, n_out: int, filename: str
               ) -> tuple[list[tuple[float, ...]], list[tuple[float, ...]], tuple[str, str]] | None:
    """The learner's data set: the first variable (innermost frame first) holding rows
    of ``n_in`` numbers, with a variable of as many targets in the same frame."""
    while frame is not None:
        if frame.f_code.co_filename == filename:
            items = list(frame.f_locals.items())
            for xname, xobj in items:
                X = _matrix(xobj, n_in)
                if X is None or len(X) == 0:
                    continue
                for yname, yobj in items:
                    if yname == xname:
                        continue
                    Y = _matrix(yobj, n_out, vector_ok=n_out == 1)
                    if Y is not None and len(Y) == len(X):
                        return X, Y, (xname, yname)
        frame = frame.f_back
    return None


def _matrix(obj: Any, ncols: int, *, vector_ok: bool = False) -> list[tuple[float, ...]] | None:
    """``obj`` as rows of ``ncols`` numbers (a 2-D array or list of lists); a 1-D
    sequence counts as one column when ``vector_ok``."""
    if isinstance(obj, (str, bytes, dict)) or number(obj) is not None:
        return None
    if hasattr(obj, "tolist") and hasattr(obj, "shape"):
        try:
            if len(obj.shape) not in (1, 2) or obj.shape[0] > MAX_DATA_ROWS:
                return None
            obj = obj.tolist()
        except Exception:  # noqa: BLE001
            return None
    if not isinstance(obj, (list, tuple)) or not 0 < len(obj) <= MAX_DATA_ROWS:
        return None
    rows = []
    for row in obj:
        if isinstance(row, (list, tuple)) or hasattr(row, "tolist"):
            if hasattr(row, "tolist"):
                row = row.tolist()
            if not isinstance(row, (list, tuple)) or len(row) != ncols:
                return None
            nums = [number(c) for c in row]
        elif vector_ok:
            nums = [number(row)]
        else:
            return None
        if any(n is None for n in nums):
            return None
        rows.append(tuple(nums))  # type: ignore[arg-type]
    return rows
