"""nnstep: a step debugger for neural-network training.

    >>> import nnstep
    >>> dbg = nnstep.Debugger(nnstep.load_scenario())   # the study note's 2-2-1 network
    >>> dbg.step(2); dbg.current_op.code
    'h1 = sigmoid(sum_h1)'

The engine (this package minus :mod:`nnstep.tui`) never imports Textual, and
imports SymPy only in :mod:`nnstep.symbolic`.
"""

from .debugger import Condition, Debugger, Stop
from .errors import FormulaError, NNStepError, ScenarioError
from .program import PHASES, Op, Program, build_program
from .scenario import Scenario, bundled, load_scenario

__version__ = "0.1.0"

__all__ = [
    "PHASES",
    "Condition",
    "Debugger",
    "FormulaError",
    "NNStepError",
    "Op",
    "Program",
    "Scenario",
    "ScenarioError",
    "Stop",
    "build_program",
    "bundled",
    "load_scenario",
]
