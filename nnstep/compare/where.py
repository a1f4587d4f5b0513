"""Where a value lives in the learner's program: ``w1``, ``self.w1``, ``weights[0][1]``."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any

from ..text import visible
from .results import CompareError


@dataclass(frozen=True)
class Where:
    """Where a value lives in the learner's program: ``h1``, ``self.w1``, ``self.W1[0, 1]``."""

    text: str
    root: str
    steps: tuple[tuple[str, Any], ...] = ()  # ("attr", "W1") or ("item", (0, 1))

    @property
    def indexed(self) -> bool:
        return any(kind == "item" for kind, _ in self.steps)


def parse_where(text: str) -> Where:
    """Parse a mapping target; only names, attributes and constant integer indexes."""
    try:
        node = ast.parse(text.strip(), mode="eval").body
    except SyntaxError:
        raise CompareError(f"'{visible(text)}' is not a name such as dL_dy, self.w1 or self.W1[0, 1]") from None
    steps: list[tuple[str, Any]] = []
    while not isinstance(node, ast.Name):
        if isinstance(node, ast.Attribute) and not node.attr.startswith("__"):
            steps.append(("attr", node.attr))
            node = node.value
        elif isinstance(node, ast.Subscript):
            steps.append(("item", _index(node.slice, text)))
            node = node.value
        else:
            raise CompareError(f"'{visible(text)}' is not a name such as dL_dy, self.w1 or self.W1[0, 1]")
    return Where(ast.unparse(ast.parse(text.strip(), mode="eval").body), node.id, tuple(reversed(steps)))


def _index(node: ast.expr, text: str) -> int | tuple[int, ...]:
    def one(n: ast.expr) -> int:
        if isinstance(n, ast.UnaryOp) and isinstance(n.op, ast.USub):
            return -one(n.operand)
        if isinstance(n, ast.Constant) and type(n.value) is int:
            return n.value
        raise CompareError(f"'{visible(text)}': an index must be a whole number such as [0] or [0, 1]")

    if isinstance(node, ast.Tuple):
        return tuple(one(e) for e in node.elts)
    return one(node)
