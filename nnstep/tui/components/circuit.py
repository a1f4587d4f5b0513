"""A formula graph drawn as a circuit (the network pane's picture for a ``[graph]``
scenario): leaves (inputs, parameters, constants) in the first column, one node per
operation in the column of its depth, wires left to right with the forward value
above each wire and, in the backward phase, ∂output/∂(what the wire carries) below
it.  The nodes of the formula the current op belongs to are highlighted.

Each part gets a *track* (three rows: value, wire, gradient); an operation takes the
track of an input whose wire ends at it, so chains run straight, and a wire from
another track turns in a lane of its own just before the node it enters.  When the
circuit does not fit, the coarser one (one node per formula) is tried, then the pane
falls back to the table and says what size the circuit needs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary

from rich.style import Style
from rich.text import Text

from nnstep.circuit import Circuit, build_circuit, wire_gradients, wire_values
from nnstep.text import visible

from ..fmt import fit
from .drawing import BOX
from .labels import READ, WRITE
from .palette import FAINT, tint

if TYPE_CHECKING:
    from .scene import NetworkModel, Scene

#: Columns of a leaf's name, at most (longer names end in …).
NAME_W = 12
#: Widths tried for the numbers on the wires, best first.
LABEL_WIDTHS = (7, 6, 5)
HEADER = 1

_circuits: WeakKeyDictionary[NetworkModel, tuple[Circuit | None, Circuit | None]] = WeakKeyDictionary()


def circuits(model: NetworkModel) -> tuple[Circuit | None, Circuit | None]:
    """(one node per operation, one node per formula) for the model's graph, made once."""
    got = _circuits.get(model)
    if got is None:
        sc = model.scenario
        got = _circuits[model] = (build_circuit(sc, fine=True), build_circuit(sc, fine=False))
    return got


@dataclass
class Geometry:
    """Where everything goes, for one circuit and label width."""

    circuit: Circuit
    label_w: int
    track: dict[int, int]  # part -> track
    x: dict[int, int]  # part -> first column of its node text
    text: dict[int, str]  # part -> its node text
    col_x: list[int]  # column -> first x
    col_w: list[int]
    gap_lanes: list[list[int]]  # gap after column c -> sources with a lane there
    width: int
    height: int

    def lane_x(self, gap: int, source: int) -> int:
        return self.col_x[gap] + self.col_w[gap] + 1 + self.label_w + self.gap_lanes[gap].index(source)

    def mid(self, part: int) -> int:
        return HEADER + 3 * self.track[part] + 1


def node_text(circuit: Circuit, index: int) -> str:
    p = circuit.parts[index]
    if p.kind == "op":
        label = visible(p.label)
        if len(label) > NAME_W:
            label = label[: NAME_W - 1] + "…"
        if not circuit.fine:
            return f"[{label}]"
        return f"({label})" if len(label) < 3 else label  # a bare '+' would read as a wire
    name = visible(p.label)
    return name if len(name) <= NAME_W else name[: NAME_W - 1] + "…"


def geometry(circuit: Circuit, label_w: int) -> Geometry:
    parts = circuit.parts
    consumers = circuit.consumers()
    cols = circuit.columns
    # tracks: leaves one each; an operation takes an input's track whose wire ends here
    track: dict[int, int] = {}
    busy: list[tuple[int, int]] = []  # track -> (column its wire reaches, the part whose wire it is)
    for p in sorted(parts, key=lambda p: (p.depth, p.index)):
        reach = max((parts[c].depth for c in consumers[p.index]), default=p.depth)
        chosen = None
        for a in dict.fromkeys(p.args):
            t = track[a]
            end, owner = busy[t]
            if owner == a and end == p.depth and all(parts[c].depth <= p.depth for c in consumers[a]):
                chosen = t
                break
        if chosen is None:
            chosen = next((t for t, (end, _) in enumerate(busy) if end < p.depth), len(busy)) if p.depth else len(busy)
            if chosen == len(busy):
                busy.append((0, -1))
        track[p.index] = chosen
        busy[chosen] = (reach, p.index)
    text = {p.index: node_text(circuit, p.index) for p in parts}
    col_w = [0] * cols
    for p in parts:
        col_w[p.depth] = max(col_w[p.depth], len(text[p.index]))
    # lanes: a source wire turns to another track in the gap before the consumer's column
    gap_lanes: list[list[int]] = [[] for _ in range(cols)]
    for p in parts:
        for c in consumers[p.index]:
            if track[c] != track[p.index] and p.index not in gap_lanes[parts[c].depth - 1]:
                gap_lanes[parts[c].depth - 1].append(p.index)
    col_x = []
    x = 0
    for c in range(cols):
        col_x.append(x)
        x += col_w[c] + 1 + label_w + len(gap_lanes[c]) + 1
    xs = {}
    for p in parts:
        w = col_w[p.depth]
        xs[p.index] = col_x[p.depth] + (w - len(text[p.index]) if p.depth == 0 else (w - len(text[p.index])) // 2)
    tracks = 1 + max(track.values())
    return Geometry(circuit, label_w, track, xs, text, col_x, col_w, gap_lanes, x, HEADER + 3 * tracks)


class Canvas:
    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.lines: list[set[str]] = [set() for _ in range(width * height)]
        self.chars: dict[tuple[int, int], tuple[str, Style]] = {}

    def line(self, x: int, y: int, *dirs: str) -> None:
        if 0 <= x < self.width and 0 <= y < self.height:
            self.lines[y * self.width + x].update(dirs)

    def hline(self, x0: int, x1: int, y: int) -> None:
        for x in range(x0, x1 + 1):
            self.line(x, y, *(("W",) if x > x0 else ()), *(("E",) if x < x1 else ()))

    def vline(self, x: int, y0: int, y1: int) -> None:
        lo, hi = min(y0, y1), max(y0, y1)
        for y in range(lo, hi + 1):
            self.line(x, y, *(("N",) if y > lo else ()), *(("S",) if y < hi else ()))

    def put(self, x: int, y: int, text: str, style: Style) -> None:
        for i, ch in enumerate(text):
            if 0 <= x + i < self.width and 0 <= y < self.height:
                self.chars[(x + i, y)] = (ch, style)

    def rows(self) -> list[Text]:
        out = []
        wire = Style(color=FAINT)
        for y in range(self.height):
            t = Text(no_wrap=True, overflow="crop")
            for x in range(self.width):
                got = self.chars.get((x, y))
                if got is not None:
                    t.append(got[0], got[1])
                    continue
                dirs = self.lines[y * self.width + x]
                t.append(BOX.get(frozenset(dirs), "─") if dirs else " ", wire if dirs else None)
            out.append(t)
        return out


def paint(geo: Geometry, scene: Scene, values: dict[int, float | None], grads: dict[int, float | None]) -> list[Text]:
    circuit = geo.circuit
    parts = circuit.parts
    consumers = circuit.consumers()
    canvas = Canvas(geo.width, geo.height)
    # wires
    for p in parts:
        s = p.index
        y = geo.mid(s)
        start = geo.x[s] + len(geo.text[s])
        ends = []
        for c in consumers[s]:
            if geo.track[c] == geo.track[s]:
                ends.append(geo.x[c] - 1)
            else:
                lx = geo.lane_x(parts[c].depth - 1, s)
                ends.append(lx)
                canvas.vline(lx, y, geo.mid(c))
                canvas.hline(lx, geo.x[c] - 1, geo.mid(c))
        if not ends:  # the output: a stub to carry its numbers
            ends.append(start + geo.label_w + 1)
        canvas.hline(start, max(ends), y)
    gmax = max((abs(g) for g in grads.values() if g is not None and math.isfinite(g)), default=0.0)
    # numbers above and below each part's wire, just after its node
    for p in parts:
        s = p.index
        x = geo.x[s] + len(geo.text[s]) + 1
        if p.depth == 0:
            x = geo.col_x[0] + geo.col_w[0] + 1
        v = values.get(s)
        canvas.put(x, geo.mid(s) - 1, fit(v, geo.label_w, least=2), Style(color="#5fd75f") if v is not None else
                   Style(color=FAINT))
        if s in grads and grads[s] is not None:
            g = grads[s]
            canvas.put(x, geo.mid(s) + 1, fit(g, geo.label_w, least=2), Style(color=tint(g, gmax), bold=True))
    # nodes
    for p in parts:
        element = p.formula or p.name
        style = (WRITE if element in scene.writes else READ if element in scene.reads
                 else Style(bold=True) if p.kind != "constant" else Style(dim=True))
        canvas.put(geo.x[p.index], geo.mid(p.index), geo.text[p.index], style)
    return canvas.rows()


def circuit_lines(model: NetworkModel, scene: Scene, width: int, height: int) -> tuple[list[Text] | None, str]:
    """The circuit drawn into ``width`` x ``height`` cells (the finer one when it fits),
    or None and why it is not drawn ("needs 96×20 cells")."""
    fine, coarse = circuits(model)
    before = scene.before

    def value(name: str) -> float | None:
        return before[name] if name in before else scene.values.get(name)

    backward = scene.phase in ("backward", "update")
    need = ""
    for circuit in (fine, coarse):
        if circuit is None:
            continue
        for label_w in LABEL_WIDTHS:
            geo = geometry(circuit, label_w)
            if fits(geo, width, height):
                rows = paint(geo, scene, wire_values(circuit, value), wire_gradients(circuit, value, backward))
                rows[0] = header(model, circuit, width, need)
                return [*rows, *footer(scene, before, width)], ""
            if circuit.fine:
                need = f"{geo.width}×{geo.height + 1}"  # the smallest it can be drawn in
    return None, (f"the circuit needs {need} cells" if need else "the graph is too big to draw as a circuit")


def fits(geo: Geometry, width: int, height: int) -> bool:
    """Whether the circuit fits, with a line under it for the updates."""
    return geo.width <= width and geo.height + 1 <= height


def header(model: NetworkModel, circuit: Circuit, width: int, need: str) -> Text:
    """What the picture shows; ``need``: the size one node per operation would need."""
    loss = visible(model.loss)
    what = "one node per operation" if circuit.fine else f"one node per formula (per operation: {need} cells)"
    text = f"circuit · {what} · value above each wire, ∂{loss}/∂(wire) below"
    if circuit.fine:
        text += " where the program computes it"
    return Text(text[:width], style="dim", no_wrap=True, overflow="ellipsis")


def footer(scene: Scene, before: dict[str, float], width: int) -> list[Text]:
    """In the update phase: the parameters updated so far, old → new (the wires show
    the values the forward pass used)."""
    if not before:
        return []
    parts = [f"{visible(n)} {fit(v, 9)} → {fit(scene.values.get(n), 9)}" for n, v in before.items()]
    return [Text(("updated: " + ", ".join(parts))[:width], no_wrap=True, overflow="ellipsis")]
