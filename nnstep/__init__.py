"""nnstep: a step debugger for neural-network training.

    >>> import nnstep
    >>> dbg = nnstep.Debugger(nnstep.load_scenario())   # the study note's 2-2-1 network
    >>> dbg.step(2); dbg.current_op.code
    'h1 = sigmoid(sum_h1)'

The engine (this package minus :mod:`nnstep.tui`) never imports Textual, and
imports SymPy only in :mod:`nnstep.symbolic`.
"""

from typing import TYPE_CHECKING

from .errors import FormulaError, NNStepError, ScenarioError

if TYPE_CHECKING:
    from .build import build_program
    from .debugger import Condition, Debugger, Stop
    from .program import PHASES, Op, Program
    from .scenario import Scenario, bundled, load_scenario

# The rest is imported on first use, so that ``nnstep --help`` imports nothing heavy.
_LAZY = {
    "Condition": "debugger", "Debugger": "debugger", "Stop": "debugger",
    "PHASES": "program", "Op": "program", "Program": "program", "build_program": "build",
    "Scenario": "scenario", "bundled": "scenario", "load_scenario": "scenario",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'nnstep' has no attribute {name!r}")


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
