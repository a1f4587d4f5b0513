"""What a comparison finds: the first difference, the result, and when two values agree."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from ..errors import NNStepError
from ..scenario import Scenario
from ..text import json_number

#: Values agree when they are this close, relatively (or absolutely, near zero).
REL_TOL = 1e-9
ABS_TOL = 1e-12
#: Bounds on what a program can make nnstep do.
MAX_PROGRAM_BYTES = 2_000_000
MAX_TRACED_LINES = 2_000_000
MAX_SAMPLES = 1_000_000
MAX_DATA_ROWS = 20_000
MAX_HINT_SAMPLES = 64
MAX_RECORDED_SAMPLES = 256  # the learner's values kept for the TUI
#: Names the learning rate is looked for under (the first that is found).
LEARN_RATE_NAMES = ("learn_rate", "learning_rate", "lr")


class CompareError(NNStepError):
    """A program that cannot be compared: missing, not Python, raised, or silent."""


class StopProgram(BaseException):
    """Raised from the tracer to stop the learner's program (not an ``Exception``,
    so that their ``except Exception`` does not swallow it)."""





@dataclass(frozen=True)
class Difference:
    """The first value that parts from nnstep's."""

    name: str  # nnstep's name of the quantity
    epoch: int  # from 1
    sample: int  # from 1, within the epoch
    sample_name: str
    line: int | None  # in the learner's file
    code: str  # the learner's line, as written (made visible)
    yours: float
    expected: float
    nnstep_code: str  # nnstep's line for the quantity: d_L_d_ypred = -2 * (y_true - y_pred)
    formula: str  # the formula with this sample's numbers: -2·1.0 + 2·0.493689
    hint: str  # "" when no common mistake explains it
    missing_update: bool = False  # the parameter was never updated in the sample


@dataclass
class CompareResult:
    program: str  # the path as given
    scenario: str  # the scenario's name
    compared: int  # values that agreed
    samples: int  # training samples compared completely
    sample_count: int  # samples in one epoch of the data
    missing: list[str]  # nnstep names the program never assigned in the compared samples
    first_difference: Difference | None
    data_source: str  # where the data came from
    learn_rate: float
    output_lines: int = 0  # lines the program printed (kept out of the report)
    ended_early: bool = False  # the program finished before the requested samples
    #: for the TUI: the reference scenario (the learner's parameters, rate and data), the
    #: learner's source, and their values per global sample index (0-based): name -> (value, line)
    reference: Scenario | None = None
    source: str = ""
    yours: dict[int, dict[str, tuple[float, int | None]]] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)  # name -> the line that last assigned it

    @property
    def difference_position(self) -> tuple[int, int] | None:
        """(epoch, sample), 0-based, of the first difference."""
        d = self.first_difference
        return None if d is None else (d.epoch - 1, d.sample - 1)

    @property
    def agree(self) -> bool:
        return self.first_difference is None

    def to_json(self) -> dict[str, Any]:
        d = self.first_difference
        diff = None if d is None else {
            "name": d.name, "epoch": d.epoch, "sample": d.sample, "sample_name": d.sample_name,
            "line": d.line, "code": d.code, "yours": json_number(d.yours),
            "expected": json_number(d.expected),
            "formula": f"{d.nnstep_code} = {d.formula}" if d.formula else d.nnstep_code,
            "hint": d.hint or None,
        }
        return {"agree": self.agree, "compared": self.compared, "samples": self.samples,
                "missing": list(self.missing), "first_difference": diff}



def number(v: Any) -> float | None:
    """A real number as float, else None (NumPy scalars and one-element arrays included)."""
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        try:
            return float(v)
        except OverflowError:
            return None
    dtype = getattr(type(v), "dtype", None) and getattr(v, "dtype", None)
    if dtype is not None and getattr(dtype, "kind", "") in ("f", "i", "u") and getattr(v, "size", 0) == 1:
        try:
            return float(v.item())
        except (TypeError, ValueError, OverflowError, AttributeError):
            return None
    return None


def same(a: float, b: float) -> bool:
    return a == b or (a != a and b != b)


def values_agree(a: float, b: float) -> bool:
    """Whether the learner's value ``a`` agrees with nnstep's ``b`` (relative 1e-9)."""
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return math.isclose(a, b, rel_tol=REL_TOL, abs_tol=ABS_TOL)
