"""The network pane's model: static facts about a scenario's network and the mapping from
program names to drawn elements (:class:`NetworkModel`), and what one refresh shows
(:class:`Scene`).  Below the drawing (:mod:`.labels`, :mod:`.drawing`) and the pane
(:mod:`.network`), which all read it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .health import MARKS

if TYPE_CHECKING:
    from nnstep.debugger import Debugger
    from nnstep.program import Op


@dataclass
class Scene:
    """What the pane shows, read from the debugger once per refresh."""

    phase: str
    values: dict[str, float | None]
    op: str = ""  # the current op's name
    writes: set[str] = field(default_factory=set)  # element ids the current op writes
    reads: set[str] = field(default_factory=set)  # element ids it reads
    flags: dict[str, str] = field(default_factory=dict)  # health: neuron -> "saturated" / "dead" (nnstep.health)
    before: dict[str, float] = field(default_factory=dict)  # update phase: updated parameters' old values


class NetworkModel:
    """Static facts about a scenario's network (or formula graph), and the mapping
    from program names to drawn elements (node ids and parameter names)."""

    def __init__(self, dbg: Debugger) -> None:
        sc = dbg.scenario
        prog = dbg.program
        self.scenario = sc
        self.form = getattr(sc, "form", "layers")
        self.loss = prog.loss
        self.inputs = list(prog.inputs)
        self.layers = [list(layer.neurons) for layer in sc.layers]
        self.activations = [layer.activation for layer in sc.layers]
        self.neurons = {n.name: n for n in sc.neurons}
        self.outputs = list(sc.outputs)
        self.single = len(self.outputs) == 1
        self.targets = list(prog.targets)
        self.slot = prog.slot
        self.by_name = prog.by_name
        self.weight_into: dict[tuple[str, str], str] = {}
        for n in sc.neurons:
            for w, a in n.weights:
                self.weight_into[(n.name, a)] = w
        self.parameters = set(prog.parameters)
        self.parameter_order = list(prog.parameters)
        graph = getattr(sc, "graph", None)
        self.formulas: dict[str, str] = {n.name: n.text for n in graph.nodes} if graph is not None else {}

    @property
    def neuron_count(self) -> int:
        return sum(len(layer) for layer in self.layers)

    def pname(self, unit: str) -> str:
        return "ypred" if self.single and self.form == "layers" and unit == self.outputs[0] else unit

    def unit(self, pname: str) -> str:
        if pname in ("ypred", "y_pred") and self.single and self.form == "layers":
            return self.outputs[0]
        if pname.startswith("sum_") and pname[4:] in self.neurons:
            return pname[4:]
        return pname

    def grad_name(self, element: str) -> str | None:
        """The name of ∂loss/∂element in the program, if it has one."""
        name = f"d_{self.loss}_d_{self.pname(element)}"
        return name if name in self.slot else None

    def element(self, name: str) -> str | None:
        """The drawn element a program name belongs to: a node id (input, neuron,
        formula node, the loss) or a parameter (drawn as an edge or a bias port)."""
        if name in self.parameters or name in self.neurons or name in self.inputs or name in self.formulas:
            return name
        if name == self.loss or name in self.targets:
            return self.loss
        if name == "y_pred" and self.single:
            return self.outputs[0]
        if name.startswith("sum_") and name[4:] in self.neurons:
            return name[4:]
        op = self.by_name.get(name)
        if op is None or not op.wrt:
            return None
        of, wrt = self.unit(op.of), self.unit(op.wrt)
        if wrt in self.parameters:
            return wrt
        if of in self.neurons and (of, wrt) in self.weight_into:
            return self.weight_into[(of, wrt)]  # d_ypred_d_h1: the edge h1 -> o1
        if op.of == self.loss or self.form == "graph":
            return wrt if wrt in self.neurons or wrt in self.inputs or wrt in self.formulas else op.node or None
        return op.node or None

    def scene(self, dbg: Debugger) -> Scene:
        op: Op | None = dbg.current_op
        values = {name: dbg.value(name) for name in self.slot}
        scene = Scene(dbg.phase, values, op.name if op is not None else "")
        scene.flags = MARKS.of(dbg)
        if op is not None and op.phase == "update":
            old = dbg.old_parameters()
            scene.before = {p: old[p] for p in self.parameter_order if self.by_name[p].index <= op.index}
        if op is not None:
            own = self.element(op.name)
            if own:
                scene.writes.add(own)
            for r in op.reads:
                e = self.element(r)
                if e and e != own:
                    scene.reads.add(e)
        return scene
