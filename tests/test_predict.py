"""nnstep.predict.outputs: the same numbers as stepping the sample's forward pass."""

import numpy as np
import pytest

from nnstep import Debugger
from nnstep.errors import NNStepError
from nnstep.predict import MAX_ROWS, output_names, outputs

BUNDLED = ["note-network", "xor", "relu-softmax", "iris", "circuit"]


@pytest.mark.parametrize("name", BUNDLED)
def test_outputs_equal_the_stepped_forward_pass(name):
    dbg = Debugger(name)
    dbg.run_to_end() if dbg.total < 5_000 else dbg.goto(dbg.op_count * dbg.sample_count)
    params = list(dbg.old_parameters().values())
    X = [s.x for s in dbg.scenario.samples]
    got = outputs(dbg.program, params, X)
    names = output_names(dbg.program)
    for i in range(len(X)):
        v = dbg.program.new_slots()
        dbg.program.load(v, params, i)
        dbg.program.run(v, 0, dbg.program.loss_end)
        want = [v[dbg.program.slot[n]] for n in names]
        assert got[i].tolist() == want  # bit for bit


def test_bad_shapes_and_too_many_rows_are_one_line_errors():
    dbg = Debugger("note-network")
    with pytest.raises(NNStepError, match="2 values"):
        outputs(dbg.program, dbg.initial, [[1.0, 2.0, 3.0]])
    with pytest.raises(NNStepError, match="at most"):
        outputs(dbg.program, dbg.initial, np.zeros((MAX_ROWS + 1, 2)))
