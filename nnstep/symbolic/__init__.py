"""Everything nnstep does with SymPy, and the only package that imports it.

- :mod:`.formulas`: each op's definition and derived formula (:class:`Symbolic`,
  :class:`Formula`) and the bounds on working their numbers out;
- :mod:`.functions`: ``sigmoid``, ``relu``, the Iverson bracket, :data:`FUNCTIONS`;
- :mod:`.printing`: one line, pretty print and LaTeX in nnstep's notation;
- :mod:`.learner`: derivatives in the learner's form (``σ(s)·(1 - σ(s))``);
- :mod:`.views`: those renderings as the formula pane's plain data (2-D text forms,
  number templates, the expanded view);
- :mod:`.bridge`: parsed formulas (:mod:`nnstep.expr` trees) into SymPy, with the
  exact-number size guards;
- :mod:`.derive`: SymPy's derivatives turned back into numeric trees and kernels
  (formula graphs and custom activations).
- :mod:`.worked`: an op's formula with a sample's numbers in place of its names, as
  LaTeX (for :mod:`nnstep.export`).

The names below are imported from their modules on first use, so importing
:mod:`nnstep.symbolic.views` (plain data) does not import SymPy.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .formulas import EXPAND_LIMIT, Formula, Symbolic, shared_symbolic
    from .functions import FUNCTIONS, relu, sigmoid
    from .printing import IVERSON_LEGEND, latex, legend, leibniz, one_line, pretty, pretty_printer, unicode_printing

#: Each public name and the module that holds it.
_HOMES = {
    "EXPAND_LIMIT": "formulas", "Formula": "formulas", "Symbolic": "formulas", "shared_symbolic": "formulas",
    "FUNCTIONS": "functions", "relu": "functions", "sigmoid": "functions",
    "IVERSON_LEGEND": "printing", "latex": "printing", "legend": "printing", "leibniz": "printing",
    "one_line": "printing", "pretty": "printing", "pretty_printer": "printing", "unicode_printing": "printing",
}

__all__ = [
    "EXPAND_LIMIT", "FUNCTIONS", "IVERSON_LEGEND", "Formula", "Symbolic", "latex", "legend", "leibniz", "one_line",
    "pretty", "pretty_printer", "relu", "sigmoid", "shared_symbolic", "unicode_printing",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f".{home}", __name__), name)
    globals()[name] = value
    return value
