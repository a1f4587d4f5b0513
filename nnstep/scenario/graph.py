"""The ``[graph]`` section (form 2: named formulas): inputs, parameters, the formulas
in order, the output, and the clash check of the names the program will have."""

from __future__ import annotations

import re
from typing import Any

from ..errors import FormulaError, quote
from ..expr import FUNCTIONS as FORMULA_FUNCTIONS
from ..expr import Binary, Call, Name, Node, Unary, check_identifier
from .located import Checker, Recorded, kind_of
from .model import GRAPH_KEYS, GRAPH_RESERVED, MAX_GRAPH_NAMES, Graph, GraphNode
from .plan import name_clash


class GraphChecks(Checker):
    """The checks of ``[graph]``."""

    def graph_names(self, value: Any, key: str, taken: dict[str, str], *, at_least: int) -> tuple[str, ...]:
        items = self.array(value, key, max_len=MAX_GRAPH_NAMES)
        if len(items) < at_least:
            raise self.fail(key, "needs at least one trainable parameter (nnstep trains what it differentiates)")
        names = self.each(items, self.ident, key)
        if names is None:
            raise Recorded()
        before = len(self.problems)
        for n in names:
            self.attempt(self.graph_name_ok, n, key, taken)
        if len(self.problems) > before:
            raise Recorded()
        return names

    def graph_name_ok(self, n: str, key: str, taken: dict[str, str]) -> None:
        if GRAPH_RESERVED.match(n):
            raise self.fail(key, f"{quote(n)} is a name nnstep uses itself (learn_rate, ypred, name, d_*)")
        if n in FORMULA_FUNCTIONS:
            raise self.fail(key, f"{quote(n)} is a function name; choose another name")
        if n in taken:
            raise self.fail(key, f"duplicate name {quote(n)} (also in {self.show_key(taken[n])})")
        taken[n] = key

    def graph(self, value: Any) -> Graph:
        g = self.table(value, "graph", GRAPH_KEYS)
        before = len(self.problems)
        for required in ("parameters", "nodes"):
            if required not in g:
                self.note(self.fail("graph", f"missing key '{required}'"))
        taken: dict[str, str] = {}
        inputs = self.attempt(self.graph_names, g.get("inputs", []), "graph.inputs", taken, at_least=0)
        params = self.attempt(self.graph_names, g["parameters"], "graph.parameters", taken, at_least=1) \
            if "parameters" in g else None
        # formulas are read only when every name they may use is known: a broken
        # name would make each formula using it a second, dependent problem
        names_ok = inputs is not None and params is not None
        nodes = self.attempt(self.graph_nodes, g["nodes"], taken) if "nodes" in g and names_ok else None
        if len(self.problems) > before or inputs is None or params is None or nodes is None:
            raise Recorded()
        order = [n.name for n in nodes]
        output = self.ident(g.get("output", order[-1]), "graph.output")
        if output not in order:
            raise self.fail("graph.output", f"{quote(output)} is not one of the formulas in [graph.nodes] "
                            f"({', '.join(order[:12])})")
        # everything must lie on a path to the output
        needed = {output}
        for node in reversed(nodes):
            if node.name in needed:
                needed.update(node.reads)
        for node in nodes:
            if node.name not in needed:
                where = "comes after the output" if order.index(node.name) > order.index(output) else \
                    "is not used on the way to it"
                self.note(self.fail(f"graph.nodes.{node.name}", f"{quote(node.name)} {where}: the output is "
                                    f"{quote(output)}; every formula must feed into it"))
        for key, names in (("graph.parameters", params), ("graph.inputs", inputs)):
            for n in names:
                if n not in needed:
                    self.note(self.fail(key, f"{quote(n)} is not used by any formula leading to the output "
                                        f"{quote(output)}"))
        if len(self.problems) > before:
            raise Recorded()
        graph = Graph(inputs, params, nodes, output)
        clash = name_clash(graph)
        if clash:
            raise self.fail("graph.nodes", clash)
        return graph

    def graph_nodes(self, raw_nodes: Any, taken: dict[str, str]) -> tuple[GraphNode, ...]:
        if not isinstance(raw_nodes, dict):
            raise self.fail("graph.nodes", f"must be a table of name = \"formula\" lines, not {kind_of(raw_nodes)}")
        if not raw_nodes:
            raise self.fail("graph.nodes", "needs at least one formula")
        if len(raw_nodes) > MAX_GRAPH_NAMES:
            raise self.fail("graph.nodes", f"has {len(raw_nodes):,} formulas; at most {MAX_GRAPH_NAMES}")
        before = len(self.problems)
        for n in raw_nodes:
            key = f"graph.nodes.{n}" if _IDENT_KEY.match(n) else "graph.nodes"
            try:
                check_identifier(n)
            except FormulaError as exc:
                self.note(self.fail(key, exc.reason))
                continue
            self.attempt(self.graph_name_ok, n, key, taken)
        if len(self.problems) > before:
            raise Recorded()
        order = list(raw_nodes)
        nodes = []
        for i, (n, text) in enumerate(raw_nodes.items()):
            node = self.attempt(self.graph_node, n, text, order[i:], frozenset(taken))
            if node is not None:
                nodes.append(node)
        if len(self.problems) > before:
            raise Recorded()
        return tuple(nodes)

    def graph_node(self, n: str, text: Any, later: list[str], names: frozenset[str]) -> GraphNode:
        key = f"graph.nodes.{n}"
        # parse against every name so that a node used too early gets its own message
        text, expr = self.formula(text, key, names)
        used = ordered_names(expr)
        early = [u for u in used if u in later]
        if early:
            what = "itself" if early[0] == n else f"{quote(early[0])}, which is defined below it"
            raise self.fail(key, f"uses {what}: each formula may use only inputs, parameters "
                            "and the formulas above it")
        return GraphNode(n, text, expr, used)


_IDENT_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def ordered_names(node: Node) -> tuple[str, ...]:
    """Distinct names a formula uses, in order of first appearance (left to right)."""
    seen: dict[str, None] = {}
    stack: list[Node] = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, Name):
            seen.setdefault(item.id)
        elif isinstance(item, Unary):
            stack.append(item.operand)
        elif isinstance(item, Binary):
            stack.extend((item.right, item.left))
        elif isinstance(item, Call):
            stack.extend(reversed(item.args))
    return tuple(seen)
