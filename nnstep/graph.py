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
same numeric tree every op has (:mod:`nnstep.symbolic.derive`; no ``lambdify``, no
string parsing: formulas reached SymPy through :func:`nnstep.symbolic.bridge.to_sympy`
after the safe parser accepted them), from which :mod:`nnstep.codegen` makes the kernels
and the whole-sample code, as for a layered network.  The names are planned without
SymPy in :mod:`nnstep.scenario.plan` (the loader checks them for clashes there); SymPy
is imported only when a graph is built.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .errors import ScenarioError
from .expr import FormulaError, Node, names_in, render, tree_size
from .program import MAX_OPS, Op, Program, build_error, total_expr, update_expr
from .scenario import Graph, Scenario
from .scenario.plan import MAX_INLINE_FACTORS, Plan, layout, name_clash, plan

__all__ = ["MAX_DERIVED_NODES", "MAX_DIFF_NODES", "MAX_INLINE_FACTORS", "MAX_PARTIALS", "build_graph_program",
           "check_size", "layout", "name_clash"]

#: Local partials SymPy derives for one graph, at most (each is a ``diff``, milliseconds
#: to a second each): ``sigmoid-neuron`` has 5.
MAX_PARTIALS = 2_000
#: The work of those derivatives, at most: the sum over the partials of the size (tree
#: nodes) of the formula each differentiates; about a millisecond per node.
MAX_DIFF_NODES = 20_000
#: Nodes of the derivatives' numeric trees (SymPy's results, as computed), at most in all.
MAX_DERIVED_NODES = 100_000


# --------------------------------------------------------------------------- the program


def check_size(graph: Graph, planned: Plan) -> tuple[str, str] | None:
    """(key, reason) if the graph's program is past a size limit, from the names alone:
    :data:`~nnstep.program.MAX_OPS` ops, :data:`MAX_PARTIALS` partials, :data:`MAX_DIFF_NODES`."""
    ops = len(graph.nodes) + len(planned.partials) + len(planned.totals) + len(graph.parameters)
    if ops > MAX_OPS:
        return "graph.nodes", f"one training step would be {ops:,} ops; nnstep handles at most {MAX_OPS:,}"
    if len(planned.partials) > MAX_PARTIALS:
        return "graph.nodes", (f"needs {len(planned.partials):,} partial derivatives (one per formula and name it "
                               f"uses); nnstep derives at most {MAX_PARTIALS:,}")
    sizes = {n.name: tree_size(n.expr) for n in graph.nodes}
    work = sum(sizes[p.of] for p in planned.partials)
    if work > MAX_DIFF_NODES:
        worst = max(graph.nodes, key=lambda n: sizes[n.name] * len(n.reads))
        return f"graph.nodes.{worst.name}", (
            f"differentiating the formulas would take {work:,} operations (each formula's size times the names "
            f"it uses, summed; the most here); nnstep allows {MAX_DIFF_NODES:,}")
    return None


def build_graph_program(sc: Scenario) -> Program:
    """The op program of one training step of a formula-graph scenario.

    Sizes are checked first (:func:`check_size`, :func:`check_exact`); every problem
    is a located :class:`~nnstep.errors.ScenarioError`."""
    from .symbolic.derive import GraphError, check_exact, code_text, derivative, numeric_tree  # SymPy: on first use

    graph = sc.graph
    assert graph is not None
    out = graph.output
    planned = plan(graph)
    problem = check_size(graph, planned) or check_exact(graph)
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
    for p in planned.partials:
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

    for t in planned.totals:
        code = " + ".join(" * ".join(term) for term in t.terms)
        reads = tuple(dict.fromkeys(f for term in t.terms for f in term))
        emit(t.name, "backward", "total", reads, f"{t.name} = {code}", total_expr(t.terms),
             of=out, wrt=t.wrt, terms=t.terms, node=t.wrt)

    for p in graph.parameters:
        g = planned.gradient[p]
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
