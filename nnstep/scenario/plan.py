"""A formula graph's program, planned from its names alone (no SymPy, no ops).

Which local partials (``d_q_d_x``) and chain-rule totals (``d_f_d_x``) the graph's
program will have and what they are called: the loader uses it to refuse names that
would clash (:func:`name_clash`), the graph builder (:mod:`nnstep.graph`) to emit
the ops, the drawing to lay the graph out (:func:`layout`).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..names import MAX_INLINE_FACTORS
from .model import Graph


@dataclass(frozen=True)
class Partial:
    name: str  # d_q_d_x, or d_f_d_x_local where the output uses x directly and through others
    of: str
    wrt: str


@dataclass(frozen=True)
class Total:
    name: str  # d_f_d_x
    wrt: str
    terms: tuple[tuple[str, ...], ...]  # sum of products of op names


@dataclass(frozen=True)
class Plan:
    partials: tuple[Partial, ...]
    totals: tuple[Total, ...]
    gradient: dict[str, str]  # name -> the op holding d_<output>_d_<name>


def plan(graph: Graph) -> Plan:
    """Which partials and totals the program has, and their names, from the names alone."""
    out = graph.output
    inputs = set(graph.inputs)
    readers: dict[str, list[str]] = {}
    for node in graph.nodes:
        for a in node.reads:
            readers.setdefault(a, []).append(node.name)
    # local partials: from the output back, each formula's names in the order they appear
    partials: list[Partial] = []
    partial_of: dict[tuple[str, str], str] = {}
    for node in reversed(graph.nodes):
        for a in node.reads:
            if a in inputs:
                continue  # inputs are data: nothing is trained through them
            name = f"d_{node.name}_d_{a}"
            if node.name == out and len(readers[a]) > 1:
                name += "_local"  # the total d_<out>_d_<a> sums this and the other paths
            partials.append(Partial(name, node.name, a))
            partial_of[(node.name, a)] = name
    # totals: every formula (but the output) and every parameter, each once all its readers are done
    terms: dict[str, tuple[tuple[str, ...], ...]] = {}
    gradient: dict[str, str] = {}
    totals: list[Total] = []

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
        totals.append(Total(name, a, t))

    params = set(graph.parameters)
    for node in reversed(graph.nodes):
        if node.name != out:
            total(node.name)
        for a in node.reads:
            if a in params and a not in terms and readers[a][0] == node.name:
                total(a)
    return Plan(tuple(partials), tuple(totals), gradient)


def name_clash(graph: Graph) -> str | None:
    """A message if two quantities of the graph's program would get the same name."""
    planned = plan(graph)
    seen: dict[str, str] = {}
    named = [(n, f"'{n}'") for n in (*graph.inputs, "learn_rate", *graph.parameters)]
    named += [(n.name, f"'{n.name}'") for n in graph.nodes]
    named += [(p.name, f"∂{p.of}/∂{p.wrt}") for p in planned.partials]
    named += [(t.name, f"∂{graph.output}/∂{t.wrt} (total)") for t in planned.totals]
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
