"""Safe formulas: a tokenizer, a recursive-descent parser and three back ends.

Formulas come from shared files and from the user (custom network formulas,
activations written in ``x``, breakpoint conditions), so nothing here uses
eval, exec, compile, ast or SymPy's string parsing. ``parse`` builds a small
tree of frozen dataclasses; ``compile_numeric`` turns it into nested closures
that never raise (IEEE-style inf/nan instead); ``render`` prints it back (SymPy's side,
``to_sympy``, is :mod:`nnstep.symbolic.bridge`). Every size is bounded, so hostile text is rejected in milliseconds.
"""

from __future__ import annotations

import keyword
import math
import operator
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from nnstep import scalar
from nnstep.errors import FormulaError

MAX_LENGTH = 2000  # characters of formula text
MAX_NESTING = 40  # parentheses, calls, signs, 'not' and '**' inside each other
MAX_TREE_DEPTH = 100  # depth of the finished tree (a long sum is a deep tree too)
MAX_EXTREMA_ARGS = 16  # max/min arguments in one formula (SymPy's Max is quadratic)
MAX_NUMBER_LENGTH = 40
MAX_EXPONENT = 100  # bound on a constant exponent of '**'
#: Bound on the exact numbers (integers and fractions) SymPy may build, in bits: about
#: 3,000 decimal digits, below Python's 4,300-digit limit for printing an integer.
MAX_EXACT_BITS = 10_000
#: Bound on an exact number SymPy may take a root of (``sqrt``, ``**0.5`` of a fraction
#: and such): about 300 digits; SymPy factors it, which takes seconds past 2,000 bits.
MAX_ROOT_BITS = 1_000
MAX_NAME_LENGTH = 64

#: Callable names and their arities as (minimum, maximum or None for "any").
FUNCTIONS: Mapping[str, tuple[int, int | None]] = MappingProxyType({
    "exp": (1, 1), "log": (1, 1), "tanh": (1, 1), "sigmoid": (1, 1), "relu": (1, 1),
    "sqrt": (1, 1), "abs": (1, 1), "max": (2, None), "min": (2, None),
    "isnan": (1, 1), "isinf": (1, 1), "isfinite": (1, 1),
})
#: The functions only breakpoint conditions may call.
CONDITION_FUNCTIONS = frozenset({"isnan", "isinf", "isfinite"})


# The tree. ``Num.text`` keeps a literal's spelling for SymPy and ``render``; ``==``
# ignores it. Unary ops: - + not; Binary: + - * / **; Compare: one of < <= > >= == !=
# (conditions only); BoolOp: and/or over two or more values (conditions only).
@dataclass(frozen=True, slots=True)
class Num:
    value: float
    text: str = field(default="", compare=False)


@dataclass(frozen=True, slots=True)
class Name:
    id: str


@dataclass(frozen=True, slots=True)
class Unary:
    op: str
    operand: Node


@dataclass(frozen=True, slots=True)
class Binary:
    op: str
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Call:
    func: str
    args: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Compare:
    op: str
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class BoolOp:
    op: str
    values: tuple[Node, ...]


Node = Num | Name | Unary | Binary | Call | Compare | BoolOp

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_TOKEN = re.compile(
    r"(?P<ws>[ \t\r\n]+)"
    r"|(?P<num>(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op>\*\*|<=|>=|==|!=|[-+*/(),<>])"
)
_NUMBER_TAIL = re.compile(r"[A-Za-z0-9_.]*")
_HINTS = {
    "^": "use '**' for powers", ".": "attribute access is not allowed",
    **dict.fromkeys("[]", "subscripts and lists are not allowed"),
    **dict.fromkeys("{}", "braces are not allowed"),
    **dict.fromkeys("'\"", "strings are not allowed"),
    "=": "assignment and keyword arguments are not allowed (compare with '==')",
    ";": "only one expression is allowed", ":": "lambdas, slices and dicts are not allowed",
    **dict.fromkeys("@%", "only + - * / ** are allowed"), "\\": "backslashes are not allowed",
    "&": "use 'and'", "|": "use 'or'", "!": "use 'not'", "~": "use 'not' or '-'",
    "#": "comments are not allowed",
}
_BOOL_WORDS = frozenset({"and", "or", "not"})
_PREC = {"or": 1, "and": 2, **dict.fromkeys(("<", "<=", ">", ">=", "==", "!="), 4),
         "+": 5, "-": 5, "*": 6, "/": 6}  # 'not' is 3, unary signs 7, '**' 8


def show_formula(text: str) -> str:
    """Formula text quoted for an error message, cut to 30 characters."""
    return repr(text if len(text) <= 30 else text[:30] + "...")


def check_identifier(name: object) -> str:
    """Return ``name`` if it is a plain ASCII identifier, else raise FormulaError."""
    if not isinstance(name, str):
        raise FormulaError(f"a {type(name).__name__} is not a plain name: expected text")
    if len(name) > MAX_NAME_LENGTH:
        why = f"longer than {MAX_NAME_LENGTH} characters"
    elif not name:
        why = "it is empty"
    elif not name.isascii():
        why = "only ASCII letters, digits and '_' are allowed"
    elif name[0].isdigit():
        why = "it starts with a digit"
    elif not _IDENT.fullmatch(name):
        why = "only letters, digits and '_' are allowed"
    elif name.startswith("__"):
        why = "no leading double underscore"
    elif keyword.iskeyword(name):
        why = "it is a Python keyword"
    else:
        return name
    raise FormulaError(f"{show_formula(name)} is not a plain name: {why}")


def _tokenize(text: str) -> list[tuple[str, str, int]]:
    """Split text into (kind, text, column) tokens ending with an 'end' token."""
    tokens, pos = [], 0
    while pos < len(text):
        col, match = pos + 1, _TOKEN.match(text, pos)
        if match is None:
            char = text[pos]
            if not char.isascii():
                raise FormulaError(f"non-ASCII character {char!r} at column {col}")
            hint = _HINTS.get(char)
            raise FormulaError(f"{char!r} at column {col} is not allowed: {hint}" if hint
                               else f"unexpected {char!r} at column {col}")
        kind, tok, pos = match.lastgroup or "", match.group(), match.end()
        if kind == "num":
            tail = _NUMBER_TAIL.match(text, pos).group()
            if tail:
                raise FormulaError(f"malformed number {show_formula(tok + tail)} at column {col}: "
                                   "only decimal numbers like 3, 0.5 or 1e-3 are allowed")
            if len(tok) > MAX_NUMBER_LENGTH:
                raise FormulaError(f"number {show_formula(tok)} at column {col} is too long "
                                   f"(at most {MAX_NUMBER_LENGTH} characters)")
            if not math.isfinite(float(tok)):
                raise FormulaError(f"number {show_formula(tok)} at column {col} is not finite")
        if kind != "ws":
            tokens.append((kind, tok, col))
    tokens.append(("end", "", len(text) + 1))
    return tokens


# Numeric semantics shared by constant folding and compile_numeric: never raise
# (the same functions the op kernels use, from nnstep.scalar).
IMPLEMENTATIONS: dict[str, Callable[..., float]] = {
    "exp": scalar.exp, "log": scalar.log, "tanh": scalar.tanh, "sigmoid": scalar.sigmoid,
    "relu": scalar.relu, "sqrt": scalar.sqrt, "abs": abs, "max": scalar.maximum, "min": scalar.minimum,
    "isnan": lambda a: float(math.isnan(a)), "isinf": lambda a: float(math.isinf(a)),
    "isfinite": lambda a: float(math.isfinite(a)),
}
_BINARY = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": scalar.safe_div, "**": scalar.power}
_UNARY = {"-": operator.neg, "+": operator.pos, "not": lambda a: float(not a)}
_COMPARE = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
            "==": operator.eq, "!=": operator.ne}


def children(node: Node) -> tuple[Node, ...]:
    """The subtrees of ``node``, left to right."""
    if isinstance(node, Unary):
        return (node.operand,)
    if isinstance(node, (Binary, Compare)):
        return (node.left, node.right)
    if isinstance(node, Call):
        return node.args
    if isinstance(node, BoolOp):
        return node.values
    return ()


def _apply(node: Node, values: list[float]) -> float:
    """Evaluate one node over its children's values (constant folding)."""
    if isinstance(node, Unary):
        return _UNARY[node.op](values[0])
    if isinstance(node, Binary):
        return _BINARY[node.op](*values)
    if isinstance(node, Compare):
        return float(_COMPARE[node.op](*values))
    if isinstance(node, Call):
        return IMPLEMENTATIONS[node.func](*values)
    return float(all(values) if node.op == "and" else any(values))


class _Parser:
    def __init__(self, text: str, names: Collection[str], condition: bool) -> None:
        self.tokens = _tokenize(text)
        self.pos, self.nesting, self.extrema = 0, 0, 0
        self.names, self.condition = frozenset(names), condition
        self.info: dict[int, tuple[int, float, float | None]] = {}  # depth, bits, constant

    def at(self, *texts: str) -> bool:
        kind, text, _ = self.tokens[self.pos]
        return kind in ("op", "name") and text in texts

    def take(self) -> tuple[str, str, int]:
        self.pos += 1
        return self.tokens[self.pos - 1]

    def enter(self, col: int) -> None:
        """Go one nesting level deeper: an explicit bound, far below the recursion limit."""
        self.nesting += 1
        if self.nesting > MAX_NESTING:
            raise FormulaError(f"formula nests too deeply at column {col} (more than "
                               f"{MAX_NESTING} levels of parentheses, calls, signs or powers)")

    def unexpected(self) -> FormulaError:
        kind, text, col = self.tokens[self.pos]
        if kind == "end":
            return FormulaError(f"formula ends too early, after {self.tokens[self.pos - 1][1]!r}")
        if not self.condition and (text in _COMPARE or text in _BOOL_WORDS):
            return FormulaError(f"{text!r} at column {col} is only allowed in conditions")
        return FormulaError(f"unexpected {text!r} at column {col}")

    def make(self, node: Node, col: int) -> Node:
        """Record depth, exact-size estimate and constant value; enforce the bounds."""
        infos = [self.info[id(kid)] for kid in children(node)]
        depth = 1 + max((i[0] for i in infos), default=0)
        if depth > MAX_TREE_DEPTH:
            raise FormulaError(f"formula is too large at column {col}: "
                               f"more than {MAX_TREE_DEPTH} operations deep")
        bits = max((i[1] for i in infos), default=1.0) + 1
        values = [i[2] for i in infos]
        if isinstance(node, Num):
            bits = 4.0 * len(node.text)
        elif isinstance(node, Binary) and node.op in ("*", "/"):
            bits = infos[0][1] + infos[1][1]
        elif isinstance(node, Binary) and node.op == "**" and values[1] is not None:
            if not abs(values[1]) <= MAX_EXPONENT:
                raise FormulaError(f"exponent {values[1]:g} of '**' at column {col} is out of "
                                   f"range: constant exponents must be within ±{MAX_EXPONENT}")
            bits = infos[0][1] * max(1.0, abs(values[1]))
            if bits > MAX_EXACT_BITS:
                raise FormulaError(f"power at column {col} is too large to handle exactly")
        value = node.value if isinstance(node, Num) else None
        if infos and None not in values:
            value = _apply(node, values)
            if not math.isfinite(value):
                raise FormulaError(f"the constant part at column {col} evaluates to {value}: "
                                   "overflow, division by zero or a domain error")
        self.info[id(node)] = (depth, bits, value)
        return node

    def parse(self) -> Node:
        node = self.expr(0)
        if self.tokens[self.pos][0] != "end":
            raise self.unexpected()
        return node

    def expr(self, min_prec: int) -> Node:
        """Precedence climbing: binary operators binding at least ``min_prec``."""
        if self.condition and self.at("not") and min_prec <= 3:
            col = self.take()[2]
            self.enter(col)
            left = self.make(Unary("not", self.expr(3)), col)
            self.nesting -= 1
        else:
            left = self.factor()
        compared = False
        while True:
            kind, op, col = self.tokens[self.pos]
            prec = _PREC.get(op, 0) if kind in ("op", "name") else 0
            if prec < max(min_prec, 1) or (prec < 5 and not self.condition):
                return left
            self.take()
            if op in ("and", "or"):  # flattened: a and b and c
                values = [left, self.expr(prec + 1)]
                while self.at(op):
                    self.take()
                    values.append(self.expr(prec + 1))
                left = self.make(BoolOp(op, tuple(values)), col)
            elif op in _COMPARE:
                if compared:
                    raise FormulaError(f"chained comparison at column {col}: "
                                       "write 'a < b and b < c' instead")
                left, compared = self.make(Compare(op, left, self.expr(5)), col), True
            else:
                left = self.make(Binary(op, left, self.expr(prec + 1)), col)

    def factor(self) -> Node:
        """Unary ``-``/``+``, binding looser than ``**`` on their right."""
        kind, op, col = self.tokens[self.pos]
        if kind == "op" and op in ("-", "+"):
            self.take()
            self.enter(col)
            node = self.make(Unary(op, self.factor()), col)
            self.nesting -= 1
            return node
        base = self.atom()
        if not self.at("**"):
            return base
        col = self.take()[2]
        self.enter(col)
        node = self.make(Binary("**", base, self.factor()), col)
        self.nesting -= 1
        return node

    def atom(self) -> Node:
        kind, text, col = self.tokens[self.pos]
        if kind == "num":
            self.take()
            return self.make(Num(float(text), text), col)
        if self.at("("):
            self.take()
            self.enter(col)
            node = self.expr(0)
            self.close(col)
            return node
        if kind != "name" or text in _BOOL_WORDS:
            raise self.unexpected()
        self.take()
        check_identifier(text)
        if self.at("("):
            return self.call(text, col)
        if text in self.names:
            return self.make(Name(text), col)
        if text in FUNCTIONS:
            raise FormulaError(f"function {text!r} at column {col} must be called: {text}(...)")
        known = ", ".join(sorted(self.names)[:12]) + (", ..." if len(self.names) > 12 else "")
        raise FormulaError(f"unknown name {text!r} at column {col} "
                           + (f"(known: {known})" if known else "(no names are known here)"))

    def close(self, open_col: int) -> None:
        if self.tokens[self.pos][0] == "end":
            raise FormulaError(f"'(' at column {open_col} is never closed")
        if not self.at(")"):
            raise self.unexpected()
        self.take()
        self.nesting -= 1

    def call(self, func: str, col: int) -> Node:
        allowed = [f for f in FUNCTIONS if self.condition or f not in CONDITION_FUNCTIONS]
        if func not in allowed:
            what = ("only allowed in conditions" if func in FUNCTIONS else
                    "a value, not a function" if func in self.names else "not allowed")
            raise FormulaError(f"{func!r} at column {col} is {what}: "
                               f"only {', '.join(allowed)} may be called")
        self.take()
        self.enter(col)
        args = [] if self.at(")") else [self.expr(0)]
        while args and self.at(","):
            self.take()
            args.append(self.expr(0))
        self.close(col)
        low, high = FUNCTIONS[func]
        if len(args) < low or (high is not None and len(args) > high):
            need = f"exactly {low}" if low == high else f"at least {low}"
            raise FormulaError(f"{func!r} at column {col} takes {need} argument"
                               f"{'s' if low != 1 else ''}, got {len(args)}")
        if func in ("max", "min"):
            self.extrema += len(args)
            if self.extrema > MAX_EXTREMA_ARGS:
                raise FormulaError(f"too many max/min arguments at column {col}: "
                                   f"at most {MAX_EXTREMA_ARGS} in one formula")
        return self.make(Call(func, tuple(args)), col)


def parse(text: str, names: Collection[str], *, condition: bool = False) -> Node:
    """Parse a formula over ``names`` (a breakpoint condition if ``condition``).

    Raises FormulaError, naming the offending text, for anything outside the
    small grammar or beyond the size bounds.
    """
    if not isinstance(text, str):
        raise FormulaError(f"a formula must be text, not {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise FormulaError(f"formula is too long: {len(text)} characters "
                           f"(at most {MAX_LENGTH})")
    if not text.strip():
        raise FormulaError("formula is empty")
    return _Parser(text, names, condition).parse()


def names_in(node: Node) -> set[str]:
    """The names ``node`` reads."""
    found, stack = set(), [node]
    while stack:
        item = stack.pop()
        if isinstance(item, Name):
            found.add(item.id)
        stack.extend(children(item))
    return found


def tree_size(node: Node, limit: int | None = None) -> int:
    """The number of nodes of ``node`` (a shared subtree counts every time it occurs);
    counting stops just past ``limit``."""
    count, stack = 0, [node]
    while stack and (limit is None or count <= limit):
        count += 1
        stack.extend(children(stack.pop()))
    return count


def compile_numeric(node: Node, slot: Mapping[str, int]) -> Callable[[Sequence[float]], float]:
    """Build closures evaluating ``node`` on ``values[slot[name]]``; they never raise."""
    if isinstance(node, Num):
        value = float(node.value)
        return lambda v: value
    if isinstance(node, Name):
        if node.id not in slot:
            raise FormulaError(f"no value slot for name {node.id!r}")
        index = slot[node.id]
        return lambda v: float(v[index])
    parts = [compile_numeric(kid, slot) for kid in children(node)]
    if isinstance(node, Unary):
        f = parts[0]
        if node.op == "not":
            return lambda v: 0.0 if f(v) else 1.0
        return (lambda v: -f(v)) if node.op == "-" else f
    if isinstance(node, Binary | Compare):
        f, g = parts
        if node.op == "+":
            return lambda v: f(v) + g(v)
        if node.op == "-":
            return lambda v: f(v) - g(v)
        if node.op == "*":
            return lambda v: f(v) * g(v)
        if isinstance(node, Compare):
            test = _COMPARE[node.op]
            return lambda v: 1.0 if test(f(v), g(v)) else 0.0
        fn = _BINARY[node.op]
        return lambda v: fn(f(v), g(v))
    if isinstance(node, Call):
        fn = IMPLEMENTATIONS[node.func]
        if len(parts) == 1:
            f = parts[0]
            return lambda v: fn(f(v))
        return lambda v: fn(*[p(v) for p in parts])
    if isinstance(node, BoolOp):
        if node.op == "and":
            return lambda v: 1.0 if all(p(v) for p in parts) else 0.0
        return lambda v: 1.0 if any(p(v) for p in parts) else 0.0
    raise FormulaError(f"not a formula node: {type(node).__name__}")


def _prec(node: Node) -> int:
    if isinstance(node, BoolOp):
        return 1 if node.op == "or" else 2
    if isinstance(node, Unary):
        return 3 if node.op == "not" else 7
    if isinstance(node, Compare):
        return 4
    if isinstance(node, Binary):
        return {"+": 5, "-": 5, "*": 6, "/": 6}.get(node.op, 8)
    if isinstance(node, Num) and (node.value < 0 or node.text.startswith("-")):
        return 7
    return 9


def render(node: Node) -> str:
    """Canonical Python-style text for ``node``, with only the needed parentheses."""

    def wrap(child: Node, need: int) -> str:
        text = render(child)
        return f"({text})" if _prec(child) < need else text

    if isinstance(node, Num):
        return node.text or repr(float(node.value))
    if isinstance(node, Name):
        return node.id
    if isinstance(node, Call):
        return f"{node.func}({', '.join(render(arg) for arg in node.args)})"
    if isinstance(node, Unary):
        if node.op == "not":
            return f"not {wrap(node.operand, 3)}"
        return f"{node.op}{wrap(node.operand, 7)}"
    if isinstance(node, Binary) and node.op == "**":
        return f"{wrap(node.left, 9)}**{wrap(node.right, 7)}"
    if isinstance(node, Binary):
        prec = _prec(node)
        return f"{wrap(node.left, prec)} {node.op} {wrap(node.right, prec + 1)}"
    if isinstance(node, Compare):
        return f"{wrap(node.left, 5)} {node.op} {wrap(node.right, 5)}"
    if isinstance(node, BoolOp):
        return f" {node.op} ".join(wrap(value, _prec(node) + 1) for value in node.values)
    raise FormulaError(f"not a formula node: {type(node).__name__}")
