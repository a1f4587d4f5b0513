"""Everything nnstep does with SymPy, and the only package that imports it.

- :mod:`.formulas`: each op's definition and derived formula, and their renderings
  (:class:`Symbolic`, the printers, the ``sigmoid``/``relu`` functions);
- :mod:`.bridge`: parsed formulas (:mod:`nnstep.expr` trees) into SymPy, with the
  exact-number size guards;
- :mod:`.derive`: SymPy's derivatives turned back into numeric trees and kernels
  (formula graphs and custom activations).
"""

from .formulas import (
    EXPAND_LIMIT,
    FUNCTIONS,
    IVERSON_LEGEND,
    Formula,
    Symbolic,
    latex,
    legend,
    leibniz,
    one_line,
    pretty,
    pretty_printer,
    relu,
    sigmoid,
    unicode_printing,
)

__all__ = [
    "EXPAND_LIMIT", "FUNCTIONS", "IVERSON_LEGEND", "Formula", "Symbolic", "latex", "legend", "leibniz", "one_line",
    "pretty", "pretty_printer", "relu", "sigmoid", "unicode_printing",
]
