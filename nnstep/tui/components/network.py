"""The network pane: a drawing of the network with values, weights and gradients.

Inputs, neurons and the loss sit in columns; each neuron lists its incoming
weights (and bias) as *ports* on its left, with an edge drawn from the source
node to the port.  Forward, the numbers are values and weights; backward, the
gradients ``d_L_d_*`` as they are computed, coloured by sign and scaled by
magnitude, so the flow from ``L`` back to ``w1`` shows step by step.  The
elements the current op reads and writes are highlighted.  A network too big
to draw in the pane gets a per-layer heat map instead.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rich.color import Color
from rich.style import Style
from rich.text import Text
from textual.widget import Widget

from ..fmt import short, signed

if TYPE_CHECKING:
    from nnstep.debugger import Debugger
    from nnstep.program import Op

POSITIVE = Color.parse("#5fafff")
NEGATIVE = Color.parse("#ff8f4f")
FAINT = Color.parse("#5a5a5a")
HIGHLIGHT = Color.parse("#ffd75f")
ACT_SYMBOL = {"sigmoid": "σ", "relu": "relu", "tanh": "tanh", "linear": "id", "softmax": "softmax"}
BRAILLE_BITS = ((0x01, 0x08), (0x02, 0x10), (0x04, 0x20), (0x40, 0x80))
#: Neurons above which the drawing is not even tried.
MAX_DRAWN_NEURONS = 24


def tint(v: float | None, vmax: float, *, strong: bool = True) -> Color:
    """Blue for positive, orange for negative, brighter for bigger magnitude."""
    if v is None or v != v or vmax <= 0:
        return FAINT
    t = min(1.0, math.sqrt(abs(v) / vmax)) if math.isfinite(v) else 1.0
    lo = 0.30 if strong else 0.15
    hi = 1.0 if strong else 0.6
    return _blend(FAINT, POSITIVE if v >= 0 else NEGATIVE, lo + (hi - lo) * t)


def _blend(a: Color, b: Color, t: float) -> Color:
    ra, ga, ba = a.get_truecolor()
    rb, gb, bb = b.get_truecolor()
    return Color.from_rgb(ra + (rb - ra) * t, ga + (gb - ga) * t, ba + (bb - ba) * t)


# --------------------------------------------------------------------------- model


@dataclass
class Scene:
    """What the pane shows, read from the debugger once per refresh."""

    phase: str
    values: dict[str, float | None]
    writes: set[str] = field(default_factory=set)  # element ids the current op writes
    reads: set[str] = field(default_factory=set)  # element ids it reads


class NetworkModel:
    """Static facts about a scenario's network (or formula graph), and the mapping
    from program names to drawn elements (node ids and parameter names)."""

    def __init__(self, dbg: Debugger) -> None:
        sc = dbg.scenario
        prog = dbg.program
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
        scene = Scene(dbg.phase, values)
        if op is not None:
            own = self.element(op.name)
            if own:
                scene.writes.add(own)
            for r in op.reads:
                e = self.element(r)
                if e and e != own:
                    scene.reads.add(e)
        return scene


# --------------------------------------------------------------------------- canvas


class Canvas:
    """A grid of characters and styles with braille line drawing."""

    def __init__(self, width: int, height: int) -> None:
        self.width = width
        self.height = height
        self.chars = [[" "] * width for _ in range(height)]
        self.styles: list[list[Style | None]] = [[None] * width for _ in range(height)]
        self.dots = [[0] * width for _ in range(height)]

    def text(self, x: int, y: int, text: str, style: Style | None = None) -> None:
        if not 0 <= y < self.height:
            return
        for i, ch in enumerate(text):
            if 0 <= x + i < self.width:
                self.chars[y][x + i] = ch
                self.styles[y][x + i] = style
                self.dots[y][x + i] = 0

    def line(self, x0: int, y0: int, x1: int, y1: int, style: Style) -> None:
        """A line from cell (x0, y0) to cell (x1, y1): box drawing when level, braille otherwise."""
        if y0 == y1:
            for x in range(min(x0, x1), max(x0, x1) + 1):
                self._put(x, y0, "─", style)
            return
        px0, py0, px1, py1 = 2 * x0, 4 * y0 + 1, 2 * x1 + 1, 4 * y1 + 2
        n = max(abs(px1 - px0), abs(py1 - py0))
        for k in range(n + 1):
            px = round(px0 + (px1 - px0) * k / n)
            py = round(py0 + (py1 - py0) * k / n)
            x, y = px // 2, py // 4
            if self._free(x, y) and self.chars[y][x] != "─":
                self.dots[y][x] |= BRAILLE_BITS[py % 4][px % 2]
                self.chars[y][x] = chr(0x2800 + self.dots[y][x])
                self.styles[y][x] = style

    def _free(self, x: int, y: int) -> bool:
        """Whether a line may draw into cell (x, y): blank or already a line."""
        if not (0 <= x < self.width and 0 <= y < self.height):
            return False
        return self.chars[y][x] in (" ", "─") or bool(self.dots[y][x])

    def _put(self, x: int, y: int, ch: str, style: Style) -> None:
        if self._free(x, y):
            self.chars[y][x] = ch
            self.dots[y][x] = 0
            self.styles[y][x] = style

    def lines(self, base: Style | None = None) -> list[Text]:
        out = []
        for chars, styles in zip(self.chars, self.styles):
            t = Text(no_wrap=True, overflow="crop", style=base or "")
            run, run_style = [], None
            for ch, st in zip(chars, styles):
                if st is not run_style and run:
                    t.append("".join(run), run_style)
                    run = []
                run_style = st
                run.append(ch)
            if run:
                t.append("".join(run).rstrip() if run_style is None else "".join(run), run_style)
            out.append(t)
        return out


# --------------------------------------------------------------------------- drawing


@dataclass
class _Block:
    element: str
    x: int = 0
    y: int = 0
    height: int = 1
    width: int = 1
    ports: list[str] = field(default_factory=list)  # parameters, in order
    port_sources: list[str] = field(default_factory=list)  # source node per port ('' for a bias)


def draw(model: NetworkModel, scene: Scene, width: int, height: int) -> list[Text] | None:
    """The network drawn into ``width`` x ``height`` cells, or None if it does not fit.

    The layout (rows per neuron, gaps, activations beside each neuron or once above
    its layer) is chosen for the widest numbers the drawing can show, not for the
    current ones, so stepping through a sample never changes it: what fits in one
    phase fits in all of them.  Only when even that does not fit is the first layout
    that fits the current numbers taken."""
    if not model.layers or model.neuron_count > MAX_DRAWN_NEURONS or width < 20 or height < 3:
        return None
    layouts = [(level, gap, header) for level in (3, 2, 1) for gap in (1, 0) for header in (False, True)]
    widest = _widest(model, scene)
    for layout in layouts:
        if _draw(model, widest, width, height, *layout, measure=True) is not None:
            got = _draw(model, scene, width, height, *layout)
            if got is not None:
                return got
            break
    for layout in layouts:
        got = _draw(model, scene, width, height, *layout)
        if got is not None:
            return got
    return None


#: A number as wide as the drawing ever shows one (:func:`short` / :func:`signed` at width 7).
_WIDEST = -0.1234567


def _widest(model: NetworkModel, scene: Scene) -> Scene:
    """``scene`` in the backward phase with every number the steps compute (sums,
    activations, parameters, gradients) as wide as it can be drawn.  The sample's
    inputs and targets stay: they do not change while stepping through it."""
    keep = {*model.inputs, *model.targets}
    values = {n: (v if n in keep else _WIDEST) for n, v in scene.values.items()}
    return Scene("backward", values)


def _emphasis(scene: Scene, element: str) -> Style:
    """A node's name: reverse yellow when the current op writes it, yellow and
    underlined when it reads it, else bold."""
    if element in scene.writes:
        return Style(color="black", bgcolor=HIGHLIGHT, bold=True)
    if element in scene.reads:
        return Style(color=HIGHLIGHT, bold=True, underline=True)
    return Style(bold=True)


def _value_text(v: float | None, w: int = 7) -> str:
    return short(v, w)


def _draw(model: NetworkModel, scene: Scene, width: int, height: int, level: int, gap: int, header: bool,
          *, measure: bool = False) -> list[Text] | None:
    """One layout: ``level`` rows of text per neuron (3: name, Σ, =, ∂; 2: no Σ;
    1: name and value on one row), ``gap`` blank rows between neurons, and with
    ``header`` each layer's activation written once above it instead of beside
    every neuron's name.  ``measure``: only whether it fits (an empty list if so)."""
    vals = scene.values
    backward = scene.phase == "backward"
    legend_rows = 1
    usable = height - legend_rows
    top = 1 if header else 0  # the activations' row
    # --- node texts per column
    columns: list[list[_Block]] = []
    texts: dict[str, list[tuple[str, Style | None]]] = {}
    grads = {}
    for e in [*model.inputs, *model.neurons]:
        g = model.grad_name(e) if e in model.neurons else None
        grads[e] = vals.get(g) if g else None
    gmax = max((abs(v) for v in grads.values() if v is not None and math.isfinite(v)), default=0.0)
    pgrads = {p: vals.get(model.grad_name(p) or "") for p in model.parameters}
    pmax = max((abs(v) for v in pgrads.values() if v is not None and math.isfinite(v)), default=0.0)
    wmax = max((abs(v) for p in model.parameters if (v := vals.get(p)) is not None and math.isfinite(v)),
               default=0.0)

    col: list[_Block] = []
    for x in model.inputs:
        b = _Block(x, height=1)
        texts[x] = [(f"{x} {_value_text(vals.get(x))}", _emphasis(scene, x))]
        b.width = len(texts[x][0][0])
        col.append(b)
    columns.append(col)
    for li, layer in enumerate(model.layers):
        col = []
        sym = ACT_SYMBOL.get(model.activations[li], model.activations[li])
        for n in layer:
            nr = model.neurons[n]
            b = _Block(n)
            b.ports = [w for w, _ in nr.weights] + ([nr.bias] if nr.bias else [])
            b.port_sources = [a for _, a in nr.weights] + ([""] if nr.bias else [])
            st = _emphasis(scene, n)
            value = vals.get(n)
            ssum = vals.get(f"sum_{n}")
            g = grads.get(n)
            gstyle = Style(color=tint(g, gmax), bold=True) if g is not None else Style(color=FAINT)
            gtext = f"∂ {_value_text(g)}" if backward or g is not None else ""
            name = n if header else f"{n} {sym}"
            if level == 3:
                rows = [(name, st), (f"Σ {_value_text(ssum)}", None), (f"= {_value_text(value)}", None),
                        (gtext, gstyle)]
            elif level == 2:
                rows = [(name, st), (f"= {_value_text(value)}", None), (gtext, gstyle)]
            else:
                rows = [(f"{n} {_value_text(value)}", st), (gtext, gstyle)]
            texts[n] = rows
            b.height = max(len(b.ports), len(rows))
            col.append(b)
        columns.append(col)
    loss = model.loss
    texts[loss] = [(f"{loss} {_value_text(vals.get(loss))}", _emphasis(scene, loss))]
    for t in model.targets:
        texts[loss].append((f"{t} {_value_text(vals.get(t))}", Style(dim=True)))
    columns.append([_Block(loss, height=len(texts[loss]))])

    # --- vertical layout
    for col in columns:
        need = sum(b.height for b in col) + gap * (len(col) - 1)
        if need > usable - top:
            return None
        y = top + (usable - top - need) // 2
        for b in col:
            b.y = y
            y += b.height + gap

    out_col, l_col = columns[-2], columns[-1]
    if len(out_col) == 1:
        b = out_col[0]
        l_col[0].y = min(usable - l_col[0].height, b.y + _anchor_row(len(texts[b.element]), level))
    # --- horizontal layout
    def port_label(p: str) -> str:
        if backward and pgrads.get(p) is not None:
            return f"∂{p} {signed(pgrads[p])}"
        return f"{p} {signed(vals.get(p))}"

    # each layer's ports as wide as its widest label
    port_ws = [0] + [max((len(port_label(p)) for b in col for p in b.ports), default=0) for col in columns[1:-1]]
    headers = [""] + [ACT_SYMBOL.get(a, a) if header else "" for a in model.activations] + [""]
    node_w = []
    for ci, col in enumerate(columns):
        node_w.append(max((len(t) for b in col for t, _ in texts[b.element]), default=1))
        node_w[-1] = max(node_w[-1], len(headers[ci]))
    fixed = node_w[0] + sum(port_ws[i] + 2 + node_w[i] for i in range(1, len(columns) - 1)) + node_w[-1]
    spans = len(columns) - 2  # gaps with edges drawn in them
    room = width - fixed
    # edges get 4 to 16 columns; the link into the loss 3 to 5 (5 whenever the edges get 4)
    l_gap = min(5, room - 4 * spans)
    if l_gap < 3:
        return None
    if measure:
        return []
    edge_gap = max(4, min(16, (room - l_gap) // spans))
    total = fixed + l_gap + edge_gap * spans
    x = max(0, (width - total) // 2)
    xs: list[int] = []  # text x of each column's nodes
    port_x: list[int] = [0]
    xs.append(x)
    x += node_w[0]
    for i in range(1, len(columns) - 1):
        x += edge_gap
        port_x.append(x)
        x += port_ws[i] + 2
        xs.append(x)
        x += node_w[i]
    x += l_gap
    port_x.append(x)
    xs.append(x)

    canvas = Canvas(width, height)
    anchor: dict[str, tuple[int, int]] = {}  # right edge point of each node's value row
    for ci, col in enumerate(columns):
        for b in col:
            rows = texts[b.element]
            row_y = b.y if ci == 0 or ci == len(columns) - 1 else b.y + _anchor_row(len(rows), level)
            anchor[b.element] = (xs[ci] + node_w[ci] + 1, row_y)

    # --- edges (highlighted ones last, so they stay on top)
    edges = []
    for ci, col in enumerate(columns[1:-1], start=1):
        for b in col:
            for k, (p, src) in enumerate(zip(b.ports, b.port_sources)):
                if not src:
                    continue
                sx, sy = anchor[src]
                tx, ty = port_x[ci] - 1, b.y + k
                if backward:
                    g = pgrads.get(p)
                    color = tint(g, pmax) if g is not None else FAINT
                else:
                    color = tint(vals.get(p), wmax, strong=False)
                hot = p in scene.writes or p in scene.reads
                style = Style(color=HIGHLIGHT if hot else color, bold=hot)
                edges.append((hot, sx, sy, tx, ty, style))
    for o in model.outputs:
        sx, sy = anchor[o]
        hot = loss in scene.writes or loss in scene.reads or o in scene.reads
        edges.append((hot, sx, sy, port_x[-1] - 2, columns[-1][0].y, Style(color=HIGHLIGHT if hot else FAINT)))
    for _hot, sx, sy, tx, ty, style in sorted(edges, key=lambda e: e[0]):
        canvas.line(sx + 1, sy, sx + 1, sy, style)  # a level stub out of the source
        canvas.line(tx - 1, ty, tx, ty, style)  # and into the port
        canvas.line(sx + 2, sy, tx - 2, ty, style)

    # --- ports and node texts
    for ci, col in enumerate(columns):
        for b in col:
            rows = texts[b.element]
            tx = xs[ci]
            if 0 < ci < len(columns) - 1:
                n = len(b.ports)
                for k, p in enumerate(b.ports):
                    label = port_label(p)
                    if p in scene.writes:
                        st = Style(color="black", bgcolor=HIGHLIGHT, bold=True)
                    elif p in scene.reads:
                        st = Style(color=HIGHLIGHT, bold=True, underline=True)
                    elif backward and pgrads.get(p) is not None:
                        st = Style(color=tint(pgrads[p], pmax), bold=True)
                    elif backward:
                        st = Style(color=FAINT)
                    else:
                        st = Style(color=tint(vals.get(p), wmax, strong=False))
                    canvas.text(port_x[ci], b.y + k, label.ljust(port_ws[ci]), st)
                    bracket = "─" if n == 1 else ("┐" if k == 0 else "┘" if k == n - 1 else "┤")
                    canvas.text(port_x[ci] + port_ws[ci], b.y + k, "─" + bracket, Style(color=FAINT))
                for k in range(n, b.height):
                    canvas.text(port_x[ci] + port_ws[ci] + 1, b.y + k, " ", None)
                tx = xs[ci]
            for k, (t, st) in enumerate(rows):
                canvas.text(tx, b.y + k, t, st)
        if headers[ci]:
            canvas.text(xs[ci], min(b.y for b in col) - 1, headers[ci], Style(dim=True))
    legend = _legend(scene.phase, model.loss)
    canvas.text(0, height - 1, legend[: width], Style(dim=True))
    return canvas.lines()


def _anchor_row(rows: int, level: int) -> int:
    """The row of a neuron's text that shows its value (where its out-edges start)."""
    return {3: 2, 2: 1, 1: 0}[level]


def _legend(phase: str, loss: str) -> str:
    if phase == "backward":
        return f"∂ = ∂{loss}/∂·, edges ∂{loss}/∂w · blue + orange − · brighter = larger"
    if phase == "update":
        return f"edges: weights after w -= learn_rate·∂{loss}/∂w · blue + orange −"
    return "Σ sum · = value · edges: weights, blue + orange − · yellow: current op"


def heatmap(model: NetworkModel, scene: Scene, width: int, height: int) -> list[Text]:
    """A compact per-layer view: one coloured cell per node, by value (or, in the
    backward phase, by gradient), and per layer a line about its weights."""
    vals = scene.values
    backward = scene.phase == "backward"
    out: list[Text] = []
    labels = [f"inputs ({len(model.inputs)})"] + [
        f"layer {li + 1} {act} ({len(layer)})" for li, (layer, act) in enumerate(zip(model.layers, model.activations))
    ]
    label_w = min(max(len(label) for label in labels), max(10, width // 3))
    cells_w = max(4, width - label_w - 1)

    def row(label: str, names: Iterable[str], key) -> None:
        names = list(names)
        numbers = [key(n) for n in names]
        vmax = max((abs(v) for v in numbers if v is not None and math.isfinite(v)), default=0.0)
        lines_left = max(1, min(3, (height - len(out)) // 3))
        shown = names[: cells_w * lines_left]
        for i in range(0, max(1, len(shown)), cells_w):
            t = Text((label if i == 0 else "").ljust(label_w)[:label_w] + " ", no_wrap=True, overflow="crop")
            for n, v in zip(shown[i : i + cells_w], numbers[i : i + cells_w]):
                if n in scene.writes:
                    t.append("◆", Style(color=HIGHLIGHT, bold=True))
                elif n in scene.reads:
                    t.append("◇", Style(color=HIGHLIGHT))
                else:
                    t.append("█" if v is not None else "·", Style(color=tint(v, vmax)))
            out.append(t)
        if len(names) > len(shown):
            out.append(Text(" " * (label_w + 1) + f"… {len(names) - len(shown)} more", style="dim"))

    what = f"∂{model.loss}/∂node" if backward else "value"
    out.append(Text(f"heat map ({what}; blue +, orange −, ◆ current op)", style="dim", no_wrap=True))
    row(labels[0], model.inputs, vals.get)
    for li, layer in enumerate(model.layers):
        if backward:
            row(labels[li + 1], layer, lambda n: vals.get(model.grad_name(n) or ""))
        else:
            row(labels[li + 1], layer, vals.get)
        params = [w for n in layer for w, _ in model.neurons[n].weights]
        shown = [vals.get(model.grad_name(p) or "") if backward else vals.get(p) for p in params]
        finite = [abs(v) for v in shown if v is not None and math.isfinite(v)]
        hot = [p for p in params if p in scene.writes or p in scene.reads]
        desc = f"|∂{model.loss}/∂w|" if backward else "|w|"
        stat = f"max {desc} {short(max(finite))}" if finite else f"{desc} not computed yet"
        line = f"  {len(params)} weights ({params[0]}…{params[-1]}): {stat}" if params else ""
        if hot:
            line += f" · current: {', '.join(hot[:3])}"
        out.append(Text(line, style="dim", no_wrap=True, overflow="ellipsis"))
    out.append(Text(f"loss {model.loss} {short(vals.get(model.loss))}", style=Style(bold=True), no_wrap=True))
    return out[:height]


def graph_view(model: NetworkModel, scene: Scene, width: int, height: int) -> list[Text]:
    """A formula graph: its inputs, parameters and formulas, each with its value
    and ∂output/∂name once the backward phase has computed it."""
    vals = scene.values
    loss = model.loss
    names = [*model.parameter_order, *model.formulas]
    grads = {n: vals.get(model.grad_name(n) or "") for n in names}
    gmax = max((abs(v) for v in grads.values() if v is not None and math.isfinite(v)), default=0.0)
    out = [Text(f"formula graph · training makes {loss} smaller · ∂ = ∂{loss}/∂name", style="dim", no_wrap=True)]

    def row(label: str, n: str, left: str) -> None:
        t = Text(no_wrap=True, overflow="ellipsis")
        t.append(f"{label:<11}", style="dim")
        room = max(8, width - 11 - 26)
        shown = left if len(left) <= room else left[: room - 1] + "…"
        t.append(shown, _emphasis(scene, n))
        t.append(" " * (room - len(shown) + 1))
        t.append(f"= {short(vals.get(n), 9):<10}")
        g = grads.get(n)
        if g is not None:
            t.append(f"∂ {short(g, 9)}", Style(color=tint(g, gmax), bold=True))
        out.append(t)

    for x in model.inputs:
        row("input", x, x)
    for p in model.parameter_order:
        row("parameter", p, p)
    for n, text in model.formulas.items():
        row("output" if n == loss else "formula", n, f"{n} = {text}")
    return out[:height]


class NetworkView(Widget, can_focus=True):
    """The network pane (focusable, so it can be zoomed with z)."""

    ALLOW_MAXIMIZE = True

    DEFAULT_CSS = """
    NetworkView { height: 1fr; }
    """

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.model: NetworkModel | None = None
        self.scene: Scene | None = None
        self.compact = False  # forced heat map
        self.showing = "drawing"
        self._drawn: tuple[tuple, list[Text]] | None = None  # (what it was drawn for, the lines)

    def set_model(self, model: NetworkModel | None) -> None:
        self.model = model
        self.scene = None
        self._drawn = None
        self.refresh()

    def show(self, scene: Scene | None) -> None:
        """Show ``scene``: drawn here already (when the pane has a size), so that the
        border names what the pane shows in the same frame."""
        self.scene = scene
        if self.size.width and self.size.height:
            self._lines(self.size.width, self.size.height)
        self.refresh()

    def _lines(self, width: int, height: int) -> list[Text]:
        key = (width, height, self.model, self.scene, self.compact)
        if self._drawn is None or self._drawn[0] != key:
            self._drawn = (key, self.render_lines_text(width, height))
        return self._drawn[1]

    def render_lines_text(self, width: int, height: int) -> list[Text]:
        if self.model is None or self.scene is None:
            return []
        if self.model.form == "graph":
            self._show_kind("formula graph")
            return graph_view(self.model, self.scene, width, height)
        got = None if self.compact else draw(self.model, self.scene, width, height)
        self._show_kind("drawing" if got is not None else "heat map")
        return got if got is not None else heatmap(self.model, self.scene, width, height)

    def _show_kind(self, kind: str) -> None:
        """What the pane shows, also in its border (known only once it is drawn)."""
        self.showing = kind
        if self.border_subtitle != kind:
            self.border_subtitle = kind

    def render(self) -> Text:
        lines = self._lines(self.size.width, self.size.height)
        text = Text("\n").join(lines) if lines else Text("")
        text.no_wrap = True
        text.overflow = "crop"
        return text

    def plain(self) -> str:
        return "\n".join(t.plain.rstrip() for t in self.render_lines_text(self.size.width, self.size.height))
