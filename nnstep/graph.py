"""Formula graphs: a computation written as named formulas, stepped like a network.

A ``[graph]`` scenario (see ``docs/scenarios.md``) lists inputs, trainable
parameters and formulas such as ``q = x + y`` and ``f = q * z``; the last
formula is the output that training minimises.  This module turns it into the
same :class:`~nnstep.program.Program` a layered network gets:

- ``forward``: one op per formula, in the order written (the output's op is the
  ``loss`` phase);
- ``backward``: one *local partial* per formula and name it uses,
  ``d_q_d_x = 1``, whose value comes from SymPy's ``diff`` of that formula alone,
  then one *total* per formula and parameter, ``d_f_d_x = d_f_d_q * d_q_d_x``,
  summed over every path to the output (the chain rule);
- ``update``: ``w -= learn_rate * d_f_d_w`` for every parameter.

The numbers of a local partial come from its SymPy expression turned into the
same numeric tree every op has (:func:`numeric_tree`; no ``lambdify``, no string
parsing: formulas reached SymPy through :func:`nnstep.expr.to_sympy` after the
safe parser accepted them), from which :mod:`nnstep.codegen` makes the kernels
and the whole-sample code, as for a layered network.  SymPy is imported only when a graph or a custom
activation is built, never by :func:`name_clash`, which the scenario loader calls.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from .errors import ScenarioError
from .expr import Binary, Call, FormulaError, Name, Node, Num, Unary, render, tree_size
from .kernels import Kernel

if TYPE_CHECKING:
    from .program import Program
    from .scenario import Graph, Scenario

#: A chain-rule term is inlined into the next product while it stays this short (as for networks).
MAX_INLINE_FACTORS = 4
#: Local partials SymPy derives for one graph, at most (each is a ``diff``, milliseconds
#: to a second each): ``sigmoid-neuron`` has 5.
MAX_PARTIALS = 2_000
#: The work of those derivatives, at most: the sum over the partials of the size (tree
#: nodes) of the formula each differentiates; about a millisecond per node.
MAX_DIFF_NODES = 20_000
#: Nodes of the derivatives' numeric trees (SymPy's results, as computed), at most in all.
MAX_DERIVED_NODES = 100_000


# --------------------------------------------------------------------------- planning (no SymPy)


@dataclass(frozen=True)
class _Partial:
    name: str  # d_q_d_x, or d_f_d_x_local where the output uses x directly and through others
    of: str
    wrt: str


@dataclass(frozen=True)
class _Total:
    name: str  # d_f_d_x
    wrt: str
    terms: tuple[tuple[str, ...], ...]  # sum of products of op names


@dataclass(frozen=True)
class _Plan:
    partials: tuple[_Partial, ...]
    totals: tuple[_Total, ...]
    gradient: dict[str, str]  # name -> the op holding d_<output>_d_<name>


def _plan(graph: Graph) -> _Plan:
    """Which partials and totals the program has, and their names, from the names alone."""
    out = graph.output
    inputs = set(graph.inputs)
    readers: dict[str, list[str]] = {}
    for node in graph.nodes:
        for a in node.reads:
            readers.setdefault(a, []).append(node.name)
    # local partials: from the output back, each formula's names in the order they appear
    partials: list[_Partial] = []
    partial_of: dict[tuple[str, str], str] = {}
    for node in reversed(graph.nodes):
        for a in node.reads:
            if a in inputs:
                continue  # inputs are data: nothing is trained through them
            name = f"d_{node.name}_d_{a}"
            if node.name == out and len(readers[a]) > 1:
                name += "_local"  # the total d_<out>_d_<a> sums this and the other paths
            partials.append(_Partial(name, node.name, a))
            partial_of[(node.name, a)] = name
    # totals: every formula (but the output) and every parameter, each once all its readers are done
    terms: dict[str, tuple[tuple[str, ...], ...]] = {}
    gradient: dict[str, str] = {}
    totals: list[_Total] = []

    def upstream(c: str) -> tuple[str, ...]:
        if c == out:
            return ()
        t = terms[c]
        if len(t) == 1 and len(t[0]) < MAX_INLINE_FACTORS:
            return t[0]
        return (gradient[c],)

    def total(a: str) -> None:
        t = tuple(upstream(c) + (partial_of[(c, a)],) for c in readers[a])
        terms[a] = t
        name = f"d_{out}_d_{a}"
        if t == ((name,),):
            gradient[a] = name  # the output's own partial is already the total
            return
        gradient[a] = name
        totals.append(_Total(name, a, t))

    params = set(graph.parameters)
    for node in reversed(graph.nodes):
        if node.name != out:
            total(node.name)
        for a in node.reads:
            if a in params and a not in terms and readers[a][0] == node.name:
                total(a)
    return _Plan(tuple(partials), tuple(totals), gradient)


def name_clash(graph: Graph) -> str | None:
    """A message if two quantities of the graph's program would get the same name."""
    plan = _plan(graph)
    seen: dict[str, str] = {}
    named = [(n, f"'{n}'") for n in (*graph.inputs, "learn_rate", *graph.parameters)]
    named += [(n.name, f"'{n.name}'") for n in graph.nodes]
    named += [(p.name, f"∂{p.of}/∂{p.wrt}") for p in plan.partials]
    named += [(t.name, f"∂{graph.output}/∂{t.wrt} (total)") for t in plan.totals]
    for name, what in named:
        if name in seen:
            return (f"the name '{name}' would stand for both {seen[name]} and {what}; "
                    "rename a formula or parameter (names with '_d_' in them can collide)")
        seen[name] = what
    return None


def layout(graph: Graph) -> tuple[tuple[str, ...], ...]:
    """Columns for drawing a graph left to right, like a network's layers: inputs and
    parameters first, then each formula one column right of the deepest name it uses
    (so the output stands alone in the last column).  Edges are ``node.reads``."""
    depth = dict.fromkeys((*graph.inputs, *graph.parameters), 0)
    for node in graph.nodes:
        depth[node.name] = 1 + max((depth[a] for a in node.reads), default=0)
    columns: list[list[str]] = [[] for _ in range(max(depth.values()) + 1)]
    for name, d in depth.items():
        columns[d].append(name)
    return tuple(tuple(c) for c in columns)


# --------------------------------------------------------------------------- SymPy trees -> numeric trees


class GraphError(ValueError):
    """SymPy produced something nnstep cannot compute numerically."""


def _constant(e: Any) -> float:
    import sympy as sp

    if e is sp.S.NaN or e is sp.S.ComplexInfinity:
        return math.nan
    if e is sp.S.Infinity:
        return math.inf
    if e is sp.S.NegativeInfinity:
        return -math.inf
    try:
        return float(e)
    except (TypeError, ValueError):
        raise GraphError(f"the constant {e} is not a real number") from None


def numeric_tree(expr: Any, names: Collection[str]) -> Node:
    """A SymPy expression as a numeric tree (see :mod:`nnstep.codegen`) over ``names``.

    Only the shapes SymPy's derivatives of nnstep formulas take are accepted:
    numbers, symbols, + * **, exp, log, tanh, sigmoid, relu, abs, sign,
    Heaviside, max and min.  Anything else raises :class:`GraphError`.  Sums and
    products run left to right in SymPy's order of terms; a quotient is one safe
    division; ``1 - σ(a)`` is taken as ``σ(-a)`` and ``1 - tanh(a)²`` without
    cancellation."""
    import sympy as sp

    from .symbolic import relu, sigmoid

    one = {sp.exp: "exp", sp.log: "log", sp.tanh: "tanh", sigmoid: "sigmoid", relu: "relu", sp.Abs: "abs",
           functions()["abs"]: "abs", sp.sign: "sign"}

    def chain(op: str, parts: list[Node]) -> Node:
        out = parts[0]
        for p in parts[1:]:
            out = Binary(op, out, p)
        return out

    def comp(e: Any) -> Node:
        if e.is_Symbol:
            if e.name not in names:
                raise GraphError(f"no value for {e.name!r}")
            return Name(e.name)
        if e.is_Number or e.is_NumberSymbol or e in (sp.S.ComplexInfinity, sp.S.NaN):
            return Num(_constant(e))
        if e.is_Add:
            stable = stable_difference(e)
            return stable if stable is not None else chain("+", [comp(a) for a in e.args])
        if e.is_Mul:
            num, den = [], []
            for f in e.args:
                if f.is_Pow and f.exp.is_Integer and f.exp < 0:
                    den.append(comp(sp.Pow(f.base, -f.exp)))
                elif f.is_Rational and not f.is_Integer:
                    num.append(Num(float(f.p)))
                    den.append(Num(float(f.q)))
                else:
                    num.append(comp(f))
            top = chain("*", num) if num else Num(1.0)
            return Call("safe_div", (top, chain("*", den))) if den else top
        if e.is_Pow:
            base, ex = comp(e.base), e.exp
            if ex == sp.S.Half:
                return Call("sqrt", (base,))
            if ex == -sp.S.Half:
                return Call("safe_div", (Num(1.0), Call("sqrt", (base,))))
            if ex.is_Integer:
                n = int(ex)
                if n == 2:
                    return Binary("*", base, base)
                if n < 0:
                    return Call("safe_div", (Num(1.0), Call("power", (base, Num(float(-n))))))
                return Call("power", (base, Num(float(n))))
            return Call("power", (base, comp(ex)))
        if e.func in one and len(e.args) == 1:
            return Call(one[e.func], (comp(e.args[0]),))
        if e.func is sp.Heaviside:
            h0 = _constant(e.args[1]) if len(e.args) > 1 else 0.5
            return Call("heaviside", (comp(e.args[0]), Num(h0)))
        if e.func in (sp.Max, sp.Min):
            return Call("max" if e.func is sp.Max else "min", tuple(comp(a) for a in e.args))
        raise GraphError(f"SymPy's result contains {type(e).__name__}, which nnstep cannot compute")

    def stable_difference(e: Any) -> Node | None:
        if len(e.args) != 2 or sp.S.One not in e.args:
            return None
        other = e.args[0] if e.args[1] is sp.S.One else e.args[1]
        if not (other.is_Mul and len(other.args) == 2 and other.args[0] is sp.S.NegativeOne):
            return None
        x = other.args[1]
        if x.func is sigmoid:
            return Call("sigmoid", (Unary("-", comp(x.args[0])),))
        if x.is_Pow and x.exp == 2 and x.base.func is sp.tanh:
            return Call("tanh_deriv", (comp(x.base.args[0]),))
        return None

    return comp(expr)


def compile_sympy(expr: Any, slot: Mapping[str, int]) -> Kernel:
    """A kernel computing a SymPy expression on ``values[slot[name]]``; never raises."""
    from .kernels import compile_kernels

    ((_, kernel),) = compile_kernels([(0, numeric_tree(expr, slot))], slot)
    return kernel


def code_text(expr: Any) -> str:
    """A SymPy expression as a plain Python-style line: ``x0*exp(-s)/(exp(-s) + 1)**2``."""
    from sympy.printing.str import StrPrinter

    class _Code(StrPrinter):
        printmethod = "_nnstep_code"  # not the σ(x) display of nnstep.symbolic

        def _print_Symbol(self, e: Any) -> str:
            return e.name

        def _print_Float(self, e: Any) -> str:
            return repr(float(e))

        def _print_Abs(self, e: Any) -> str:
            return f"abs({self._print(e.args[0])})"

        def _print_Max(self, e: Any) -> str:
            return f"max({', '.join(self._print(a) for a in e.args)})"

        def _print_Min(self, e: Any) -> str:
            return f"min({', '.join(self._print(a) for a in e.args)})"

        def _print_Heaviside(self, e: Any) -> str:
            h0 = float(e.args[1]) if len(e.args) > 1 else 0.5
            return f"heaviside({self._print(e.args[0])}, {h0:g})"

        def _print_Exp1(self, e: Any) -> str:
            return "exp(1)"

    return _Code().doprint(expr)


@cache
def functions() -> dict[str, Any]:
    """The SymPy function table of :mod:`nnstep.symbolic` (with the real symbols user
    formulas get, what :class:`~nnstep.symbolic.Symbolic` derives with too), with ``abs``
    replaced by the absolute value of a real number should that table's ever
    differentiate into ``re``/``im``/``Derivative`` terms instead of ``sign``."""
    import sympy as sp

    from .symbolic import FUNCTIONS

    table = dict(FUNCTIONS)
    u = sp.Symbol("u", real=True)
    if sp.diff(table["abs"](u), u) != sp.sign(u):
        table["abs"] = _real_abs()
    return table


def _real_abs() -> Any:
    import sympy as sp

    class Abs(sp.Function):  # named like SymPy's, so every printer shows it the same way
        """|x| of a real x: its derivative is sign(x)."""

        @classmethod
        def eval(cls, x: Any) -> Any:
            if x.is_Number:
                return sp.Abs(x)
            if x.could_extract_minus_sign():
                return cls(-x)
            return None

        def fdiff(self, argindex: int = 1) -> Any:
            return sp.sign(self.args[0])

        def _eval_evalf(self, prec: int) -> Any:
            return sp.Abs(self.args[0])._eval_evalf(prec)

    return Abs


def derivative(node: Node, wrt: str) -> Any:
    """SymPy's derivative of a parsed formula with respect to one of its names, over
    real symbols: the very expression :class:`~nnstep.symbolic.Symbolic` shows for it."""
    import sympy as sp

    from .expr import names_in, to_sympy
    from .symbolic import _symbol

    symbols = {n: _symbol(n, True) for n in names_in(node) | {wrt}}
    return sp.diff(to_sympy(node, symbols, functions()), symbols[wrt])


def derivative_kernel(node: Node, wrt: str, slot: Mapping[str, int]) -> Kernel:
    """A closure for d(node)/d(wrt), derived by SymPy, on ``values[slot[name]]``."""
    return compile_sympy(derivative(node, wrt), slot)


# --------------------------------------------------------------------------- the program


def check_size(graph: Graph, plan: _Plan) -> tuple[str, str] | None:
    """(key, reason) if the graph's program is past a size limit, from the names alone:
    :data:`~nnstep.program.MAX_OPS` ops, :data:`MAX_PARTIALS` partials, :data:`MAX_DIFF_NODES`."""
    from .program import MAX_OPS

    ops = len(graph.nodes) + len(plan.partials) + len(plan.totals) + len(graph.parameters)
    if ops > MAX_OPS:
        return "graph.nodes", f"one training step would be {ops:,} ops; nnstep handles at most {MAX_OPS:,}"
    if len(plan.partials) > MAX_PARTIALS:
        return "graph.nodes", (f"needs {len(plan.partials):,} partial derivatives (one per formula and name it "
                               f"uses); nnstep derives at most {MAX_PARTIALS:,}")
    sizes = {n.name: tree_size(n.expr) for n in graph.nodes}
    work = sum(sizes[p.of] for p in plan.partials)
    if work > MAX_DIFF_NODES:
        worst = max(graph.nodes, key=lambda n: sizes[n.name] * len(n.reads))
        return f"graph.nodes.{worst.name}", (
            f"differentiating the formulas would take {work:,} operations (each formula's size times the names "
            f"it uses, summed; the most here); nnstep allows {MAX_DIFF_NODES:,}")
    return None


def check_exact(graph: Graph) -> tuple[str, str] | None:
    """(key, reason) if putting a formula into the ones that use it would make SymPy build
    an exact number past :data:`nnstep.expr.MAX_EXACT_BITS` (``q = x - x + 10`` and
    ``f = q**(q**q)``), as the expanded view does.  Formulas that are exact numbers are put
    in; the others stand for themselves, carrying the size of their exact numbers (a float
    constant computes as floats do, to inf at worst)."""
    from .expr import to_sympy_sized
    from .symbolic import _symbol

    values: dict[str, Any] = {n: _symbol(n, True) for n in (*graph.inputs, *graph.parameters)}
    sizes: dict[str, int] = {}
    for node in graph.nodes:
        try:
            value, size = to_sympy_sized(node.expr, values, functions(), sizes)
        except FormulaError as exc:
            return f"graph.nodes.{node.name}", exc.reason
        if value.is_Rational:
            values[node.name] = value  # an exact number: SymPy computes with it where it is used
        else:
            values[node.name], sizes[node.name] = _symbol(node.name, True), size
    return None


def build_graph_program(sc: Scenario) -> Program:
    """The op program of one training step of a formula-graph scenario.

    Sizes are checked first (:func:`check_size`, :func:`check_exact`); every problem
    is a located :class:`~nnstep.errors.ScenarioError`."""
    from .expr import names_in
    from .program import Op, Program, build_error, total_expr, update_expr

    graph = sc.graph
    assert graph is not None
    out = graph.output
    plan = _plan(graph)
    problem = check_size(graph, plan) or check_exact(graph)
    if problem is not None:
        raise build_error(sc, *problem)
    slot = {n: i for i, n in enumerate((*graph.inputs, "learn_rate", *graph.parameters))}
    ops: list[Op] = []
    # each op's kernel: SymPy's closure for a partial, else compiled from its expression
    numeric: list[Node] = []  # each op's arithmetic; a partial's from SymPy's derivative
    nodes = {n.name: n for n in graph.nodes}

    def emit(name: str, phase: str, kind: str, reads: Sequence[str], code: str, expr: Node,
             tree: Node | None = None, **extra: Any) -> None:
        slot.setdefault(name, len(slot))
        ops.append(Op(len(ops), name, phase, kind, tuple(reads), code, expr, **extra))
        numeric.append(expr if tree is None else tree)

    def fail(node: str, reason: str) -> ScenarioError:
        return build_error(sc, f"graph.nodes.{node}", reason)

    for n in graph.nodes:
        last = n.name == out
        emit(n.name, "loss" if last else "forward", "loss" if last else "node", n.reads,
             f"{n.name} = {render(n.expr)}", n.expr, node=n.name)
    loss_end = len(ops)

    derived = 0
    for p in plan.partials:
        node = nodes[p.of]
        try:
            d = derivative(node.expr, p.wrt)
            tree = numeric_tree(d, slot)
            code = f"{p.name} = {code_text(d)}"
        except FormulaError as exc:
            raise fail(p.of, f"∂{p.of}/∂{p.wrt}: {exc.reason}") from None
        except GraphError as exc:
            raise fail(p.of, f"∂{p.of}/∂{p.wrt}: {exc}") from None
        except (ArithmeticError, TypeError, ValueError, RecursionError) as exc:
            raise fail(p.of, f"SymPy cannot differentiate it with respect to {p.wrt}: {exc}") from None
        derived += tree_size(tree, MAX_DERIVED_NODES - derived)
        if derived > MAX_DERIVED_NODES:
            raise fail(p.of, f"the partial derivatives SymPy derives, up to ∂{p.of}/∂{p.wrt}, have more than "
                       f"{MAX_DERIVED_NODES:,} operations in all; nnstep computes at most that many")
        used = {s.name for s in d.free_symbols}
        reads = [a for a in node.reads if a in used] + sorted(used - set(node.reads))
        emit(p.name, "backward", "partial", reads, code, node.expr, tree,
             of=p.of, wrt=p.wrt, node=p.of)

    for t in plan.totals:
        code = " + ".join(" * ".join(term) for term in t.terms)
        reads = tuple(dict.fromkeys(f for term in t.terms for f in term))
        emit(t.name, "backward", "total", reads, f"{t.name} = {code}", total_expr(t.terms),
             of=out, wrt=t.wrt, terms=t.terms, node=t.wrt)

    for p in graph.parameters:
        g = plan.gradient[p]
        emit(p, "update", "update", (p, "learn_rate", g), f"{p} -= learn_rate * {g}", update_expr(p, g), node=p)

    assert all(names_in(op.expr) <= set(slot) for op in ops)
    return Program(
        scenario=sc,
        ops=tuple(ops),
        slot=slot,
        numeric=tuple(numeric),
        inputs=graph.inputs,
        targets=(),
        parameters=graph.parameters,
        loss_end=loss_end,
        loss=out,
    )
