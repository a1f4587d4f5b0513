"""The network drawing's texts: numbers as wide as the layout allows, node rows and
port labels with their styles (see :mod:`.drawing` for where they go)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.style import Style

from ..fmt import compact, fit
from .palette import FAINT, HIGHLIGHT, colored, tint

if TYPE_CHECKING:
    from .scene import NetworkModel, Scene

ACT_SYMBOL = {"sigmoid": "σ", "relu": "relu", "tanh": "tanh", "linear": "id", "softmax": "softmax"}
#: Columns a number takes in the drawing (up to 6 significant digits where they fit, never fewer than 3).
NUMBER_W = 8
#: Zoomed: numbers at full precision (the shortest text that reads back as the same float) …
PRECISE_W = 22
#: … or, where that does not fit, with the formula pane's 9 significant digits.
NINE_W = 13

WRITE = Style(color="black", bgcolor=HIGHLIGHT, bold=True)
READ = Style(color=HIGHLIGHT, bold=True, underline=True)
HOT = Style(color=HIGHLIGHT, bold=True)


# --------------------------------------------------------------------------- numbers


@dataclass(frozen=True)
class Numbers:
    """How the drawing writes numbers: ``width`` columns; ``precise``: full precision."""

    width: int = NUMBER_W
    precise: bool = False

    def __call__(self, x: float | None) -> str:
        if x is None:
            return "·"
        if self.precise and math.isfinite(x):
            text = compact(repr(float(x)))
            if len(text) <= self.width:
                return "0" if text in ("0.0", "-0.0") else text.removesuffix(".0")
            return fit(x, self.width, 17, 9)
        return fit(x, self.width, 17 if self.precise else 6, 3)

    def signed(self, x: float | None) -> str:
        """With an explicit ``+`` on numbers ≥ 0, in the same width."""
        if x is None or not x >= 0:
            return self(x)
        text = Numbers(self.width - 1, self.precise)(x)
        return text if text.startswith(("n", "i")) else f"+{text}"


# --------------------------------------------------------------------------- texts


Row = tuple[str, Style | None]


#: A neuron the health check flags (saturated, dead): its name.
FLAGGED = Style(color="bright_white", bgcolor="red", bold=True)


def flag_mark(flag: str, width: int) -> str:
    """A flagged neuron's mark in ``width`` columns: ``!``, ``sat!`` or ``dead``."""
    word = {"saturated": "sat!", "dead": "dead"}.get(flag, "!")
    return word.ljust(width) if width >= len(word) else "!".ljust(width)


def emphasis(scene: Scene, element: str) -> Style:
    """A node's name: reverse yellow when the current op writes it, yellow and
    underlined when it reads it, else bold."""
    if element in scene.writes:
        return WRITE
    if element in scene.reads:
        return READ
    return Style(bold=True)


@dataclass
class Texts:
    """Every text of the drawing for one scene: node rows, port labels, colours."""

    nodes: dict[str, list[Row]]
    ports: dict[str, Row]
    edge_styles: dict[str, Style]  # per parameter: the colour of its edge


def texts(model: NetworkModel, scene: Scene, level: int, header: bool, number: Numbers, mark: bool = True,
          placeholder: bool = False) -> Texts:
    """The texts for ``scene``; ``mark``: a gradient's port label says ``∂w1`` (else the
    legend says what the numbers are); ``placeholder``: every number that changes while
    stepping through a sample is as wide as ``number`` allows (for the layout)."""
    vals = scene.values
    keep = {*model.inputs, *model.targets}

    def n(name: str | None) -> str:
        if placeholder and name not in keep:
            return "-" + "9" * (number.width - 1)
        return number(vals.get(name) if name else None)

    def s(name: str | None) -> str:
        if placeholder:
            return "-" + "9" * (number.width - 1)
        return number.signed(vals.get(name) if name else None)

    backward = scene.phase == "backward" or placeholder
    grads = {e: vals.get(g) if (g := model.grad_name(e)) else None for e in model.neurons}
    gmax = _largest(grads.values())
    pgrad_names = {p: model.grad_name(p) for p in model.parameters}
    pgrads = {p: vals.get(g) if g else None for p, g in pgrad_names.items()}
    pmax = _largest(pgrads.values())
    wmax = _largest(vals.get(p) for p in model.parameters)

    nodes: dict[str, list[Row]] = {}
    for x in model.inputs:
        nodes[x] = [(f"{x} {n(x)}", emphasis(scene, x))]
    for li, layer in enumerate(model.layers):
        sym = ACT_SYMBOL.get(model.activations[li], model.activations[li])
        for u in layer:
            st = emphasis(scene, u)
            g = grads.get(u)
            gstyle = colored(tint(g, gmax), True) if g is not None else colored(FAINT)
            gtext = f"∂ {n(model.grad_name(u))}" if backward or g is not None else ""
            name = u if header else f"{u} {sym}"
            flag = scene.flags.get(u)
            if flag and not placeholder:  # health: marked in the activation's place, as wide as it
                st = st if st in (WRITE, READ) else FLAGGED
                if not header:
                    name = f"{u} {flag_mark(flag, len(sym))}"
            if level == 3:
                rows = [(name, st), (f"Σ {n(f'sum_{u}')}", None), (f"= {n(u)}", None), (gtext, gstyle)]
            elif level == 2:
                rows = [(name, st), (f"= {n(u)}", None), (gtext, gstyle)]
            else:
                rows = [(f"{u} {n(u)}", st), (gtext, gstyle)]
            nodes[u] = rows
    loss = model.loss
    nodes[loss] = [(f"{loss} {n(loss)}", emphasis(scene, loss))]
    nodes[loss] += [(f"{t} {n(t)}", Style(dim=True)) for t in model.targets]

    ports: dict[str, Row] = {}
    edge_styles: dict[str, Style] = {}
    fed = {w for nr in model.neurons.values() for w, _ in nr.weights}
    for p in model.parameters:
        grad = pgrads.get(p)
        # with ``mark`` the name keeps its column: "∂w1" or "─w1" ("─" continuing the edge)
        d = "∂" if mark else ""
        blank = ("─" if p in fed else " ") if mark else ""
        if placeholder:
            label = f"{d}{p} {s(p)}"
        elif backward and (grad is not None or not mark):  # bare names: gradients only
            label = f"{d}{p} {number.signed(grad)}"
        else:
            label = f"{blank}{p} {s(p)}"
        if scene.phase == "backward" and not placeholder:
            color = tint(grad, pmax) if grad is not None else FAINT
            base = colored(color, grad is not None)
        else:
            color = tint(vals.get(p), wmax, strong=False)
            base = colored(color)
        hot = p in scene.writes or p in scene.reads
        ports[p] = (label, WRITE if p in scene.writes else READ if p in scene.reads else base)
        edge_styles[p] = HOT if hot else colored(color)
    return Texts(nodes, ports, edge_styles)


def _largest(values) -> float:
    return max((abs(v) for v in values if v is not None and math.isfinite(v)), default=0.0)
