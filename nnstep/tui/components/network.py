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
from collections import OrderedDict
from collections.abc import Iterable

from rich.style import Style
from rich.text import Text
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget

from ..fmt import short
from .circuit import circuit_lines
from .drawing import Layout, layout, paint
from .labels import FLAGGED, NINE_W, PRECISE_W, Numbers, emphasis
from .palette import HIGHLIGHT, tint
from .scene import NetworkModel, Scene
from .strips import text_key, text_strip

# --------------------------------------------------------------------------- drawing


def draw(model: NetworkModel, scene: Scene, width: int, height: int, *, precise: bool = False) -> list[Text] | None:
    """The network drawn into ``width`` x ``height`` cells, or None if it does not fit
    (see :mod:`.drawing`); ``precise``: numbers at full precision where they fit."""
    lay = layout(model, scene, width, height, numbers_for(precise))
    return None if lay is None else paint(model, scene, lay, width, height)


def numbers_for(precise: bool) -> tuple[Numbers, ...]:
    """The number formats to try, best first."""
    if precise:
        return (Numbers(PRECISE_W, True), Numbers(NINE_W, True), Numbers())
    return (Numbers(),)


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
                elif n in scene.flags:  # health: saturated or dead
                    t.append("!", FLAGGED)
                else:
                    t.append("█" if v is not None else "·", Style(color=tint(v, vmax)))
            out.append(t)
        if len(names) > len(shown):
            out.append(Text(" " * (label_w + 1) + f"… {len(names) - len(shown)} more", style="dim"))

    what = f"∂{model.loss}/∂node" if backward else "value"
    flagged = "; ! saturated or dead (h)" if scene.flags else ""
    out.append(Text(f"heat map ({what}; blue +, orange −; ◆ the op writes, ◇ it reads{flagged})", style="dim",
                    no_wrap=True))
    if scene.op:
        writes = ", ".join(sorted(scene.writes)) or "nothing drawn"
        out.append(Text(f"op {scene.op} writes {writes}", style=Style(color=HIGHLIGHT), no_wrap=True,
                        overflow="ellipsis"))
    row(labels[0], model.inputs, vals.get)
    for li, layer in enumerate(model.layers):
        if backward:
            row(labels[li + 1], layer, lambda n: vals.get(model.grad_name(n) or ""))
        else:
            row(labels[li + 1], layer, vals.get)
        params = [w for n in layer for w, _ in model.neurons[n].weights]
        shown = [vals.get(model.grad_name(p) or "") if backward else vals.get(p) for p in params]
        finite = [abs(v) for v in shown if v is not None and math.isfinite(v)]
        writes = [p for p in params if p in scene.writes]
        reads = [p for p in params if p in scene.reads]
        desc = f"|∂{model.loss}/∂w|" if backward else "|w|"
        stat = f"max {desc} {short(max(finite))}" if finite else f"{desc} not computed yet"
        line = f"  {len(params)} weights ({params[0]}…{params[-1]}): {stat}" if params else ""
        if writes:
            line += f" · ◆ {', '.join(writes[:3])}"
        if reads:
            line += f" · ◇ {', '.join(reads[:3])}"
        out.append(Text(line, style="dim", no_wrap=True, overflow="ellipsis"))
    out.append(Text(f"loss {model.loss} {short(vals.get(model.loss))}", style=Style(bold=True), no_wrap=True))
    return out[:height]


def graph_view(model: NetworkModel, scene: Scene, width: int, height: int, why: str = "") -> list[Text]:
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
        t.append(shown, emphasis(scene, n))
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
    if why:  # why the circuit is not drawn (it is the default picture of a graph)
        out.insert(1, Text(why, style="dim", no_wrap=True, overflow="ellipsis"))
    return out[:height]


#: How many drawings the pane keeps (per size and scene): stepping back and forth over
#: positions seen a moment ago reuses them instead of painting again.
MEMO = 128


def scene_key(scene: Scene) -> tuple:
    """A hashable key equal for two scenes exactly when they draw the same: floats by
    their bits (``-0.0`` and ``0.0`` differ, every NaN is one key)."""
    values = tuple(v.hex() if isinstance(v, float) else v for v in scene.values.values())
    return (scene.phase, scene.op, tuple(scene.values), values, frozenset(scene.writes), frozenset(scene.reads))


class NetworkView(Widget, can_focus=True):
    """The network pane (focusable, so it can be zoomed with z; zoomed, its numbers
    are shown at full precision where they fit).

    Drawn with Textual's line API: :meth:`show` draws the new scene and refreshes
    only the rows whose text or colours changed, so a step that changes one number
    repaints one row.  The layout is kept per size and sample (see :mod:`.drawing`)."""

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
        self.drawing_layout: Layout | None = None  # the drawing's layout, when drawn
        self._layout_key: tuple | None = None
        self._lines: list[Text] = []
        self._strips: list[Strip] = []
        self._drawn_for: tuple | None = None  # (size, zoomed, scene, compact) the strips show
        # (size, zoomed, model, scene_key, compact, base style) -> (lines, strips, kind, layout)
        self._memo: OrderedDict[tuple, tuple[list[Text], list[Strip], str, Layout | None]] = OrderedDict()

    def set_model(self, model: NetworkModel | None) -> None:
        self.model = model
        self.scene = None
        self._layout_key = None
        self._drawn_for = None
        self._memo.clear()
        self.refresh()

    def show(self, scene: Scene | None) -> None:
        """Show ``scene``: drawn here already (when the pane has a size), so that the
        border names what the pane shows in the same frame; only changed rows are
        repainted."""
        self.scene = scene
        if self.size.width and self.size.height:
            self._update(self.size.width, self.size.height)

    @property
    def precise(self) -> bool:
        return self.is_maximized

    def _update(self, width: int, height: int) -> None:
        what = (width, height, self.precise, self.model, self.scene, self.compact)
        if what == self._drawn_for:
            return
        resized = self._drawn_for is None or self._drawn_for[:3] != what[:3]
        self._drawn_for = what
        old = [] if resized else [text_key(line) for line in self._lines]  # what each row drew
        base = self.visual_style.rich_style  # cached by Textual (self.rich_style is computed per call)
        key = (width, height, self.precise, self.model, None if self.scene is None else scene_key(self.scene),
               self.compact, base)
        memo = self._memo.get(key)
        if memo is not None:  # drawn before: the same lines and strips, nothing painted
            self._memo.move_to_end(key)
            lines, strips, kind, self.drawing_layout = memo
            self._lines = list(lines)
            if kind:
                self._show_kind(kind)
            changed = [y for y, line in enumerate(lines) if not (y < len(old) and old[y] == text_key(line))]
        else:
            self._lines = self.render_lines_text(width, height)[:height]
            strips = []
            changed = []
            for y, line in enumerate(self._lines):
                if y < len(old) and old[y] == text_key(line):
                    strips.append(self._strips[y])
                    continue
                changed.append(y)
                strips.append(text_strip(line, self.app.console, base, width))
            kind = self.showing if self.model is not None and self.scene is not None else ""
            self._memo[key] = (list(self._lines), strips, kind, self.drawing_layout)
            if len(self._memo) > MEMO:
                self._memo.popitem(last=False)
        changed += range(len(strips), len(self._strips))  # rows no longer drawn
        self._strips = strips
        if resized:
            self.refresh()
        elif changed:
            self.refresh(*[Region(0, y, width, 1) for y in changed])  # one call: each is a DOM walk

    def render_line(self, y: int) -> Strip:
        width, height = self.size.width, self.size.height
        if self._drawn_for is None or self._drawn_for[:3] != (width, height, self.precise):
            subtitle = self.border_subtitle
            self._update(width, height)
            if self.border_subtitle != subtitle:  # the border is drawn already: once more
                self.call_later(self.refresh)
        if 0 <= y < len(self._strips):
            return self._strips[y]
        return Strip.blank(width, self.rich_style)

    def _layout(self, width: int, height: int) -> Layout | None:
        """The drawing's layout for this size and sample (the sample's inputs and
        targets are part of the texts, the other numbers only take their widest)."""
        model, scene = self.model, self.scene
        assert model is not None and scene is not None
        key = (model, width, height, self.precise,
               tuple(scene.values.get(n) for n in (*model.inputs, *model.targets)))
        if key != self._layout_key:
            self._layout_key = key
            self.drawing_layout = layout(model, scene, width, height, numbers_for(self.precise))
        return self.drawing_layout

    def render_lines_text(self, width: int, height: int) -> list[Text]:
        if self.model is None or self.scene is None:
            return []
        if self.model.form == "graph":
            drawn, why = (None, "") if self.compact else circuit_lines(self.model, self.scene, width, height)
            why = f"{why}: z zooms the pane" if why else "the circuit: ctrl+p, network pane: circuit / table"
            self._show_kind("circuit" if drawn is not None else "formula graph")
            return drawn if drawn is not None else graph_view(self.model, self.scene, width, height, why)
        lay = None if self.compact else self._layout(width, height)
        got = None if lay is None else paint(self.model, self.scene, lay, width, height)
        self._show_kind("drawing" if got is not None else "heat map")
        return got if got is not None else heatmap(self.model, self.scene, width, height)

    def _show_kind(self, kind: str) -> None:
        """What the pane shows, also in its border (known only once it is drawn)."""
        self.showing = kind
        if self.border_subtitle != kind:
            self.border_subtitle = kind

    def plain(self) -> str:
        """What the pane shows, as plain text."""
        width, height = self.size.width, self.size.height
        if self._drawn_for is None or self._drawn_for[:2] != (width, height):
            return "\n".join(t.plain.rstrip() for t in self.render_lines_text(width, height))
        return "\n".join(t.plain.rstrip() for t in self._lines)
