"""``nnstep compare``: run the learner's own training program beside nnstep's and
name the first line where a value parts from the right one.

The learner's program is *executed* (it is their file, run on their request; a
scenario file, by contrast, never runs anything).  It runs in a fresh ``__main__``
namespace under :func:`sys.settrace`, watching only the frames of that file.  After
every line, the values of the names nnstep knows (the scenario's op names such as
``sum_h1`` or ``d_L_d_ypred``, and its parameters ``w1``…, as locals, globals or
attributes such as ``self.w1``) are looked at; each change is an *event*
``(name, value, line)``.

Events are grouped into training samples: forward values are held back until a
gradient or an update shows that they belong to a training step (an evaluation
pass, such as the note's ``feedforward`` over the whole data set every 10 epochs,
assigns forward names only and is never taken for training).  At the first
training step the learner's parameters, learning rate and data set are taken as
they are, nnstep's reference is built from exactly those, and every later value
is compared with it (relative tolerance 1e-9).  The program is stopped at the
first difference, or after the requested number of samples.
"""

from .learner import LearnerProgram, comment_mapping, parse_mapping, read_program
from .report import format_text
from .results import (
    ABS_TOL,
    LEARN_RATE_NAMES,
    MAX_DATA_ROWS,
    MAX_HINT_SAMPLES,
    MAX_PROGRAM_BYTES,
    MAX_RECORDED_SAMPLES,
    MAX_SAMPLES,
    MAX_TRACED_LINES,
    REL_TOL,
    CompareError,
    CompareResult,
    Difference,
    values_agree,
)
from .run import compare
from .tracing import assigned_lines
from .where import Where, parse_where

__all__ = [
    "ABS_TOL", "LEARN_RATE_NAMES", "MAX_DATA_ROWS", "MAX_HINT_SAMPLES", "MAX_PROGRAM_BYTES", "MAX_RECORDED_SAMPLES",
    "MAX_SAMPLES", "MAX_TRACED_LINES", "REL_TOL", "CompareError", "CompareResult", "Difference", "LearnerProgram",
    "Where", "assigned_lines", "comment_mapping", "compare", "format_text", "parse_mapping", "parse_where",
    "read_program", "values_agree",
]
