"""The network drawn in a pane: columns of nodes, weights as ports, edges routed in lanes.

Inputs, the layers' neurons and the loss sit in columns.  Each neuron lists its
incoming weights (and bias) as *ports* on its left.  Between two columns every
source node gets a vertical *lane* of its own: a line leaves the source level,
joins its lane, and leaves the lane level into each port it feeds, so an edge
never shares a cell with another source's edge except where one crosses another
straight over (drawn as the level line passing over the lane).  Joins are box
drawing tees (``┤ ├ ┐ ┘``); a crossing is never a tee.

The geometry (:class:`Layout`) is computed once for the widest numbers the
drawing can show, so it stays put while stepping through a sample; only the texts
and colours change from step to step.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rich.style import Style
from rich.text import Span, Text

from .labels import ACT_SYMBOL, HOT, PRECISE_W, Numbers, texts
from .palette import FAINT, colored

if TYPE_CHECKING:
    from .scene import NetworkModel, Scene

#: Neurons above which the drawing is not even tried.
MAX_DRAWN_NEURONS = 24
#: Sources whose lane order is searched for the fewest clashes (more: in order).
LANE_SEARCH = 6
# box drawing by the directions a cell's line leaves it: north, south, east, west
BOX = {
    frozenset("EW"): "─", frozenset("NS"): "│", frozenset("NE"): "└", frozenset("NW"): "┘",
    frozenset("SE"): "┌", frozenset("SW"): "┐", frozenset("NSE"): "├", frozenset("NSW"): "┤",
    frozenset("EWS"): "┬", frozenset("EWN"): "┴", frozenset("NSEW"): "┼", frozenset("E"): "─",
    frozenset("W"): "─", frozenset("N"): "│", frozenset("S"): "│",
}


# --------------------------------------------------------------------------- layout


@dataclass
class Gap:
    """The edges between a column of sources and the ports they feed."""

    x: int  # first column of the gap (a blank one after the sources' texts)
    end: int  # the last column (the port labels start after it)
    lanes: dict[str, int] = field(default_factory=dict)  # source -> lane column


@dataclass
class Layout:
    """Where everything goes, for one model at one size (see :func:`layout`)."""

    level: int
    header: bool
    loss_below: bool
    mark: bool
    number: Numbers
    columns: list[list[str]]  # element ids: inputs, each layer, [loss]
    col_x: list[int]
    node_w: list[int]
    port_x: list[int]  # per column (0 for columns without ports)
    port_w: list[int]
    top: dict[str, int]  # first row of each element's block
    anchor: dict[str, tuple[int, int]]  # where a node's out-edge starts (x, y)
    gaps: list[Gap]
    loss_link: Gap | None  # the outputs' lines into the loss, when it sits to their right

    def signature(self) -> tuple:
        """What a test compares to see that the layout did not move."""
        return (tuple(self.col_x), tuple(self.port_x), tuple(sorted(self.top.items())),
                tuple(tuple(sorted(g.lanes.items())) for g in self.gaps), self.level, self.header, self.loss_below)


def _anchor_row(level: int) -> int:
    """The row of a neuron's text that shows its value (where its out-edges start)."""
    return {3: 2, 2: 1, 1: 0}[level]


def layout(model: NetworkModel, scene: Scene, width: int, height: int,
           numbers: tuple[Numbers, ...] = (Numbers(),)) -> Layout | None:
    """The first layout that fits ``width`` x ``height`` for the widest numbers, trying
    the number formats in order, then 3 text rows per neuron (name, Σ, value, ∂),
    a blank row between neurons, ``∂w1`` on gradients' ports, activations beside the
    names and the loss to the right of the outputs before 2 rows, no blank rows,
    bare ``w1``, activations above the layer and the loss below the outputs.  None if
    nothing fits (the heat map then)."""
    if not model.layers or model.neuron_count > MAX_DRAWN_NEURONS or width < 20 or height < 4:
        return None
    for number in numbers:
        for level in (3, 2, 1):
            for gap, mark, header, below in itertools.product((1, 0), (True, False), (False, True),
                                                              (False, True)):
                got = _try(model, scene, width, height, number, level, gap, mark, header, below)
                if got is not None:
                    return got
    return None


def _try(model: NetworkModel, scene: Scene, width: int, height: int, number: Numbers, level: int,
         gap: int, mark: bool, header: bool, below: bool) -> Layout | None:
    widest = texts(model, scene, level, header, number, mark, placeholder=True)
    usable = height - 1  # the legend's row
    first = 1 if header else 0  # the activations' row
    columns: list[list[str]] = [list(model.inputs), *[list(layer) for layer in model.layers], [model.loss]]
    heights: dict[str, int] = {}
    for col in columns[1:-1]:
        for u in col:
            heights[u] = max(len(_ports(model, u)), len(widest.nodes[u]))
    for e in [*model.inputs, model.loss]:
        heights[e] = len(widest.nodes[e])
    # --- rows
    top: dict[str, int] = {}
    body = columns[:-1] if below else columns
    for ci, col in enumerate(body):
        need = sum(heights[e] for e in col) + gap * (len(col) - 1)
        if ci == len(body) - 1 and below:
            need += 1 + heights[model.loss]
        if need > usable - first:
            return None
        y = first + (usable - first - need) // 2
        for e in col:
            top[e] = y
            y += heights[e] + gap
        if ci == len(body) - 1 and below:
            top[model.loss] = y - gap + 1
    outputs = columns[-2]
    if not below:
        if len(outputs) == 1:
            top[model.loss] = top[outputs[0]] + _anchor_row(level)
            top[model.loss] = max(0, min(usable - heights[model.loss], top[model.loss]))
    # --- columns
    node_w = [max([len(t) for e in col for t, _ in widest.nodes[e]] + [1]) for col in columns]
    acts = [ACT_SYMBOL.get(a, a) for a in model.activations]
    if header:
        for li, a in enumerate(acts):
            node_w[li + 1] = max(node_w[li + 1], len(a))
    port_w = [0] + [max((len(widest.ports[p][0]) for u in col for p in _ports(model, u)), default=0)
                    for col in columns[1:-1]] + [0]
    if below:  # "→ L …" under the outputs' ports
        node_w[-2] = max(node_w[-2], node_w[-1] + 2 - port_w[-2] - 2)
    lanes_need = [len(columns[ci]) + 3 for ci in range(len(columns) - 2)]  # blank, stub, lanes, branch
    link_need = 0 if below else len(outputs) + 3
    fixed = sum(node_w[: len(columns) - 1]) + sum(w + 2 for w in port_w[1:-1])
    fixed += 0 if below else node_w[-1]
    total = fixed + sum(lanes_need) + link_need
    if total > width:
        return None
    _place_inputs(model, top, gap, first, usable)
    # spread lanes two apart where there is room, then centre the drawing
    spacing = 2 if total + sum(len(columns[ci]) - 1 for ci in range(len(columns) - 2)) <= width else 1
    lane_w = [len(columns[ci]) * spacing + 3 - (spacing - 1) for ci in range(len(columns) - 2)]
    total = fixed + sum(lane_w) + link_need
    x = (width - total) // 2
    col_x, port_x, gaps = [x], [0], []
    x += node_w[0]
    for ci in range(1, len(columns) - 1):
        gaps.append(Gap(x, x + lane_w[ci - 1] - 1))
        x += lane_w[ci - 1]
        port_x.append(x)
        x += port_w[ci] + 2
        col_x.append(x)
        x += node_w[ci]
    port_x.append(0)
    anchor: dict[str, tuple[int, int]] = {}
    for ci, col in enumerate(columns):
        for e in col:
            row = top[e] if ci in (0, len(columns) - 1) else top[e] + _anchor_row(level)
            anchor[e] = (col_x[ci] + node_w[ci], row) if ci < len(columns) - 1 else (0, row)
    link = None
    if below:
        col_x.append(col_x[-1])
    else:
        link = Gap(x, x + link_need - 1)
        col_x.append(x + link_need)
    lay = Layout(level, header, below, mark, number, columns, col_x, node_w, port_x, port_w, top, anchor, gaps, link)
    for ci, g in enumerate(gaps):
        _order_lanes(model, lay, ci, g, spacing)
    if link is not None:
        for k, o in enumerate(outputs):
            link.lanes[o] = link.x + 2 + k
    return lay


def _ports(model: NetworkModel, unit: str) -> list[str]:
    nr = model.neurons[unit]
    return [w for w, _ in nr.weights] + ([nr.bias] if nr.bias else [])


def _edges(model: NetworkModel, lay: Layout, ci: int) -> list[tuple[str, str, int]]:
    """(source, parameter, port row) of every edge into column ``ci + 1``."""
    out = []
    sources = set(lay.columns[ci])
    for u in lay.columns[ci + 1]:
        for k, (w, src) in enumerate(model.neurons[u].weights):
            if src in sources:
                out.append((src, w, lay.top[u] + k))
    return out


def _order_lanes(model: NetworkModel, lay: Layout, ci: int, g: Gap, spacing: int) -> None:
    """Give each source of gap ``ci`` a lane, in the order with the fewest clashes."""
    sources = lay.columns[ci]
    rows = {s: lay.anchor[s][1] for s in sources}
    _, order = _lane_order(sources, rows, [(src, row) for src, _, row in _edges(model, lay, ci)])
    for i, s in enumerate(order):
        g.lanes[s] = g.x + 2 + spacing * i


def _lane_order(sources: list[str], rows: dict[str, int], edges: list[tuple[str, int]]) -> tuple[int, tuple]:
    """(clashes, order) for the lane order with the fewest clashes: a source's level line
    on the row where another source's line leaves a lane to its left for a port would
    overlap it.  Orders are searched for up to :data:`LANE_SEARCH` sources."""
    at_row: dict[int, list[str]] = {}
    for s in sources:
        at_row.setdefault(rows[s], []).append(s)
    pairs = [(src, s) for src, row in edges for s in at_row.get(row, ()) if s != src]  # src must be right of s

    def clashes(order: tuple[str, ...]) -> int:
        pos = {s: i for i, s in enumerate(order)}
        return sum(1 for src, s in pairs if pos[src] < pos[s])

    if not pairs:
        return 0, tuple(sources)
    if len(sources) > LANE_SEARCH:
        return clashes(tuple(sources)), tuple(sources)
    best = min(itertools.permutations(sources), key=clashes)
    return clashes(best), best


def _place_inputs(model: NetworkModel, top: dict[str, int], gap: int, first: int, usable: int) -> None:
    """Move the inputs (one row each) up or down and apart so that as few of their rows
    as possible clash with the ports they feed (see :func:`_lane_order`); among equals
    the centred one with the usual spacing."""
    inputs = list(model.inputs)
    n = len(inputs)
    if n > LANE_SEARCH:
        return
    edges = [(src, top[u] + k) for u in model.layers[0] for k, (_, src) in enumerate(model.neurons[u].weights)]
    best: tuple | None = None
    for spacing in sorted({gap, 0, 1, 2, 3}, key=lambda sp: (sp != gap, sp)):
        need = n + spacing * (n - 1)
        centre = first + (usable - first - need) // 2
        for y0 in range(first, usable - need + 1):
            rows = {x: y0 + i * (spacing + 1) for i, x in enumerate(inputs)}
            score = (_lane_order(inputs, rows, edges)[0], spacing != gap, abs(y0 - centre))
            if best is None or score < best[0]:
                best = (score, rows)
    if best is not None:
        top.update(best[1])


# --------------------------------------------------------------------------- painting


class Canvas:
    """A grid of characters and styles; lines are kept as directions per cell and
    owner, and turned into box drawing when painted."""

    def __init__(self, width: int, height: int) -> None:
        self.width = width
        self.height = height
        self.chars = [[" "] * width for _ in range(height)]
        self.styles: list[list[Style | None]] = [[None] * width for _ in range(height)]
        self.dirs: dict[tuple[int, int], dict[str, set[str]]] = {}
        self.line_styles: dict[tuple[int, int, str], Style] = {}

    def text(self, x: int, y: int, text: str, style: Style | None = None) -> None:
        lo, hi = max(0, x), min(self.width, x + len(text))
        if not 0 <= y < self.height or lo >= hi:
            return
        self.chars[y][lo:hi] = text[lo - x:hi - x]
        self.styles[y][lo:hi] = [style] * (hi - lo)

    def level(self, owner: str, x0: int, x1: int, y: int, style: Style) -> None:
        """A level line from x0 to x1 (inclusive)."""
        lo, hi = min(x0, x1), max(x0, x1)
        for x in range(lo, hi + 1):
            d = set()
            if x > lo:
                d.add("W")
            if x < hi:
                d.add("E")
            self._add(owner, x, y, d or {"E", "W"}, style)

    def upright(self, owner: str, x: int, y0: int, y1: int, style: Style) -> None:
        lo, hi = min(y0, y1), max(y0, y1)
        for y in range(lo, hi + 1):
            d = set()
            if y > lo:
                d.add("N")
            if y < hi:
                d.add("S")
            if d:
                self._add(owner, x, y, d, style)

    def _add(self, owner: str, x: int, y: int, d: set[str], style: Style) -> None:
        if 0 <= x < self.width and 0 <= y < self.height:
            self.dirs.setdefault((x, y), {}).setdefault(owner, set()).update(d)
            key = (x, y, owner)
            if key not in self.line_styles or style.bold:
                self.line_styles[key] = style

    def paint_lines(self) -> None:
        """Turn the lines into characters: one owner's directions into its box
        character; where owners meet, a level line passes over an upright one."""
        for (x, y), owners in self.dirs.items():
            if len(owners) == 1:
                ((owner, d),) = owners.items()
            else:
                level = [(o, d) for o, d in owners.items() if d <= {"E", "W"}]
                hot = [(o, d) for o, d in owners.items() if self.line_styles[(x, y, o)].bold]
                owner, d = (hot or level or list(owners.items()))[-1]
                if d <= {"N", "S"} and level:
                    owner, d = level[-1]
            self.chars[y][x] = BOX.get(frozenset(d), "─")
            self.styles[y][x] = self.line_styles[(x, y, owner)]

    def lines(self) -> list[Text]:
        """Each row as a Text, a span per run of equal styles (fewer escapes written), an
        unstyled end of the row stripped of its spaces."""
        out = []
        for chars, styles in zip(self.chars, self.styles):
            plain = "".join(chars)
            spans = []
            start, style = 0, styles[0] if styles else None
            for x, st in enumerate(styles):
                if st is not style and st != style:  # most neighbours share one Style object
                    if style is not None:
                        spans.append(Span(start, x, style))
                    start, style = x, st
            if style is not None:
                spans.append(Span(start, len(styles), style))
            else:
                plain = plain[:start] + plain[start:].rstrip()
            out.append(Text(plain, no_wrap=True, overflow="crop", spans=spans))
        return out


def paint(model: NetworkModel, scene: Scene, lay: Layout, width: int, height: int) -> list[Text]:
    """The drawing of ``scene`` in layout ``lay``."""
    tx = texts(model, scene, lay.level, lay.header, lay.number, lay.mark)
    canvas = Canvas(width, height)
    columns = lay.columns
    # --- edges: each source's level line into its lane, the lane, a level line per port
    for ci, g in enumerate(lay.gaps):
        for src, p, row in _edges(model, lay, ci):
            lane = g.lanes[src]
            sx, sy = lay.anchor[src]
            hot = p in scene.writes or p in scene.reads
            style = tx.edge_styles[p]
            trunk = HOT if hot else colored(FAINT)
            canvas.level(src, sx + 1, lane, sy, trunk)
            canvas.upright(src, lane, sy, row, trunk)
            canvas.level(src, lane, g.end, row, style)
    loss = model.loss
    outputs = columns[-2]
    loss_hot = loss in scene.writes or loss in scene.reads
    if lay.loss_link is not None:
        g = lay.loss_link
        ly = lay.top[loss]
        for o in outputs:
            sx, sy = lay.anchor[o]
            hot = loss_hot or o in scene.reads
            st = HOT if hot else colored(FAINT)
            canvas.level(o, sx + 1, g.lanes[o], sy, st)
            canvas.upright(o, g.lanes[o], sy, ly, st)
            canvas.level(o, g.lanes[o], g.end, ly, st)
    canvas.paint_lines()
    # --- ports and node texts
    for ci, col in enumerate(columns):
        for e in col:
            y = lay.top[e]
            if 0 < ci < len(columns) - 1:
                ports = _ports(model, e)
                n = len(ports)
                for k, p in enumerate(ports):
                    label, st = tx.ports[p]
                    canvas.text(lay.port_x[ci], y + k, label.ljust(lay.port_w[ci]), st)
                    bracket = "─" if n == 1 else ("┐" if k == 0 else "┘" if k == n - 1 else "┤")
                    canvas.text(lay.port_x[ci] + lay.port_w[ci], y + k, "─" + bracket, colored(FAINT))
            rows = tx.nodes[e]
            if e == loss and lay.loss_below:
                first, *rest = rows
                rows = [("→ " + first[0], first[1]), *[("  " + t, st) for t, st in rest]]
            x = lay.port_x[ci - 1] if e == loss and lay.loss_below else lay.col_x[ci]
            for k, (t, st) in enumerate(rows):
                canvas.text(x, y + k, t, st)
        if lay.header and 0 < ci < len(columns) - 1:
            act = ACT_SYMBOL.get(model.activations[ci - 1], model.activations[ci - 1])
            canvas.text(lay.col_x[ci], min(lay.top[e] for e in col) - 1, act, Style(dim=True))
    canvas.text(0, height - 1, legend(scene.phase, loss, lay, width), Style(dim=True))
    return canvas.lines()


def legend(phase: str, loss: str, lay: Layout, width: int) -> str:
    """The legend line: the longest of its forms that fits ``width``."""
    digits = ""
    if lay.number.precise:
        digits = " · full precision" if lay.number.width >= PRECISE_W else " · 9 digits or more"
    if phase == "backward":
        ports = "edges" if lay.mark else "w, edges"
        forms = [f"∂ = ∂{loss}/∂·, {ports} ∂{loss}/∂w · blue + orange − · brighter = larger{digits}",
                 f"∂ = ∂{loss}/∂·, {ports} ∂{loss}/∂w · blue + orange −{digits}",
                 f"∂ = ∂{loss}/∂·, {ports} ∂{loss}/∂w"]
    elif phase == "update":
        forms = [f"edges: weights after w -= learn_rate·∂{loss}/∂w · blue + orange −{digits}",
                 f"edges: weights after the update · blue + orange −{digits}", "weights after the update"]
    else:
        forms = [f"Σ sum · = value · edges: weights, blue + orange − · yellow: current op{digits}",
                 f"Σ sum · = value · edges: weights, blue + orange −{digits}", "Σ sum · = value"]
    return next((f for f in forms if len(f) <= width), "")
