"""The decision boundary: a two-input network's input plane coloured by its prediction.

Each cell of the pane shows two points of the plane (the half block ``▀``: its
foreground is the upper point, its background the lower), coloured by the class the
network predicts there — for one output, below or above the middle of the targets'
range (0.5 for 0/1 targets), for several, the largest output — and brighter the
more confident it is.  The training samples sit on it as glyphs, one per target
class (○ × △ …), so the picture reads without colour too.  The plane spans the
samples' inputs plus a margin.

The grid is evaluated by :func:`nnstep.predict.plane` (the same arithmetic as the
stepped forward pass) in a thread worker, at most :data:`MAX_POINTS` points (fewer
when the network is evaluated row by row), so the UI never waits for it; while a run
goes on it follows the parameters the app passes (at most five times a second).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from rich.color import Color
from rich.segment import Segment
from rich.style import Style
from textual import work
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget
from textual.worker import get_current_worker

from nnstep.debugger import Debugger
from nnstep.predict import output_names, plane
from nnstep.program import Program
from nnstep.text import visible
from nnstep.vector import VectorNetwork

from .palette import NEGATIVE, POSITIVE

#: Points evaluated at most for one picture (vectorised networks) …
MAX_POINTS = 20_000
#: … and for networks evaluated row by row (softmax outputs, formula graphs, custom activations).
MAX_POINTS_SLOW = 3_000
#: Brightness steps of a class's colour (confidence).
LEVELS = 6
#: The target classes' glyphs, in class order.
GLYPHS = ("○", "×", "△", "□", "◇", "+", "∗", "▽")
#: Class colours: two classes as the network pane's signs (orange below, blue above), then more.
COLOURS = (NEGATIVE, POSITIVE, Color.parse("#87d787"), Color.parse("#d787d7"), Color.parse("#d7d75f"),
           Color.parse("#5fd7d7"), Color.parse("#d75f5f"), Color.parse("#afafaf"))
DARK = Color.parse("#1c1c1c")
NOT_FINITE = Color.parse("#5f0000")
#: Rows the pane needs besides the plane: the legend above, the x ticks and name below.
CHROME_ROWS = 3


@dataclass(frozen=True)
class Classes:
    """How outputs become classes: one output is split at ``threshold`` (class 0 below, 1
    at or above), several take the largest."""

    names: tuple[str, ...]  # the legend's class names (escaped)
    single: bool
    threshold: float = 0.5
    half: float = 0.5  # distance from the threshold that counts as fully confident
    unit: bool = True  # outputs are probabilities in [0, 1]

    def of_values(self, values: np.ndarray) -> np.ndarray:
        """The class of each output row (``values[..., outputs]``); -1 where not finite."""
        finite = np.isfinite(values).all(axis=-1)
        if self.single:
            cls = (values[..., 0] >= self.threshold).astype(int)
        else:
            cls = np.argmax(np.where(np.isfinite(values), values, -np.inf), axis=-1)
        return np.where(finite, cls, -1)

    def of_target(self, y: Sequence[float]) -> int:
        if self.single:
            return int(y[0] >= self.threshold)
        return int(np.argmax(np.asarray(y, dtype=float)))

    def levels(self, values: np.ndarray) -> np.ndarray:
        """Confidence 0 … LEVELS-1 of each output row."""
        with np.errstate(all="ignore"):
            if self.single:
                c = np.abs(values[..., 0] - self.threshold) / self.half
            elif self.unit:
                n = values.shape[-1]
                c = (np.max(values, axis=-1) - 1 / n) / (1 - 1 / n)
            else:
                c = np.ones(values.shape[:-1])
            c = np.nan_to_num(np.clip(c, 0.0, 1.0))
        return np.rint(c * (LEVELS - 1)).astype(int)


def classes_for(program: Program) -> Classes:
    """The classes of a program's outputs, from its targets."""
    names = tuple(visible(n) for n in output_names(program))
    ys = np.array([s.y for s in program.scenario.samples], dtype=float).reshape(-1, len(names))
    unit = bool(ys.size) and bool(np.all((ys >= 0) & (ys <= 1)))
    if len(names) > 1:
        return Classes(names, single=False, unit=unit)
    if unit or not ys.size:
        return Classes(names, single=True)
    lo, hi = float(ys.min()), float(ys.max())
    half = (hi - lo) / 2 if hi > lo else 1.0
    return Classes(names, single=True, threshold=(lo + hi) / 2, half=half, unit=False)


def span(values: Sequence[float]) -> tuple[float, float]:
    """The range drawn for one input: the samples' values plus a tenth on each side."""
    lo, hi = (min(values), max(values)) if values else (0.0, 1.0)
    width = hi - lo
    pad = width / 10 if width > 0 else max(1.0, abs(lo)) / 2
    return lo - pad, hi + pad


@dataclass(frozen=True)
class Picture:
    """One evaluation of the plane: what the pane draws."""

    cols: int  # cells across
    rows: int  # cells down (two points each)
    x_range: tuple[float, float]
    y_range: tuple[float, float]  # bottom, top
    px: np.ndarray  # (cols,) the x each column was evaluated at
    py: np.ndarray  # (2*rows,) the y each point row was evaluated at, top first
    values: np.ndarray  # (2*rows, cols, outputs)
    classes: np.ndarray  # (2*rows, cols): class, -1 where not finite
    levels: np.ndarray  # (2*rows, cols): confidence 0 … LEVELS-1
    markers: dict[tuple[int, int], tuple[int, int]]  # (cell row, col) -> (target class, sample index)

    def cell_of(self, x: float, y: float) -> tuple[int, int]:
        """The (point row, col) whose area holds the input point (x, y)."""
        (x0, x1), (y0, y1) = self.x_range, self.y_range
        col = int((x - x0) / (x1 - x0) * self.cols)
        row = int((y1 - y) / (y1 - y0) * 2 * self.rows)
        return min(max(row, 0), 2 * self.rows - 1), min(max(col, 0), self.cols - 1)


def budget(program: Program) -> int:
    return MAX_POINTS if VectorNetwork.supports(program) and not any(
        L.activation == "softmax" for L in program.scenario.layers) else MAX_POINTS_SLOW


def evaluate(program: Program, params: Sequence[float], classes: Classes, cols: int, rows: int) -> Picture:
    """The plane at ``cols`` x ``2*rows`` points (the centres of the cells' halves; when
    that is more than :func:`budget`, blocks of k x k of them share their block's centre)."""
    samples = program.scenario.samples
    x_range = span([s.x[0] for s in samples])
    y_range = span([s.x[1] for s in samples])
    prow = 2 * rows
    k = max(1, math.ceil(math.sqrt(cols * prow / budget(program))))
    (x0, x1), (y0, y1) = x_range, y_range
    fx = x0 + (np.arange(cols) + 0.5) * (x1 - x0) / cols  # every cell's centre
    fy = y1 - (np.arange(prow) + 0.5) * (y1 - y0) / prow  # every half cell's centre, top first
    xmap, ymap = np.arange(cols) // k, np.arange(prow) // k
    xs = np.array([fx[xmap == b].mean() for b in range(xmap[-1] + 1)])  # the blocks' centres
    ys = np.array([fy[ymap == b].mean() for b in range(ymap[-1] + 1)])
    coarse = plane(program, params, xs, ys)
    values = coarse[ymap][:, xmap]
    px, py = xs[xmap], ys[ymap]
    pic_classes = classes.of_values(values)
    levels = classes.levels(values)
    pic = Picture(cols, rows, x_range, y_range, px, py, values, pic_classes, levels, {})
    for i, s in enumerate(samples):
        r, c = pic.cell_of(s.x[0], s.x[1])
        pic.markers[(r // 2, c)] = (classes.of_target(s.y), i)
    return pic


@functools.cache
def colour(cls: int, level: int) -> Color:
    if cls < 0:
        return NOT_FINITE
    a, b = DARK.get_truecolor(), COLOURS[cls % len(COLOURS)].get_truecolor()
    t = 0.25 + 0.75 * level / (LEVELS - 1)
    return Color.from_rgb(*(x + (y - x) * t for x, y in zip(a, b)))


def why_not(program: Program) -> str | None:
    """Why the plane cannot be drawn for this program, or None when it can."""
    n = len(program.inputs)
    if n == 2:
        return None
    if n == 0:
        what = "this scenario has no inputs (its parameters are what changes), so there is no input plane"
    else:
        names = ", ".join(visible(x) for x in program.inputs)
        what = f"this scenario has {n} input{'s' if n != 1 else ''} ({names}): the plane of two cannot show them"
    return f"The decision boundary is drawn for networks with exactly two inputs; {what}."


class BoundaryReady(Message):
    """The worker evaluated the plane (or says why it could not)."""

    def __init__(self, picture: Picture | str, key: tuple) -> None:
        super().__init__()
        self.picture = picture
        self.key = key


class Boundary(Widget, can_focus=True):
    """The decision-boundary view of the bottom-left slot (id ``boundary``, key d)."""

    ALLOW_MAXIMIZE = True
    DEFAULT_CSS = """
    Boundary { height: 1fr; }
    """

    def __init__(self, id: str) -> None:
        super().__init__(id=id)
        self.program: Program | None = None
        self.kinds: Classes | None = None
        self.reason: str | None = None  # why nothing is drawn
        self.picture: Picture | None = None
        self.params: tuple[float, ...] | None = None  # the parameters the picture shows (once ready)
        self.shown_key: tuple | None = None
        self._wanted: tuple | None = None  # (id(program), params, cols, rows) last asked for
        self._computing = False
        self.failure = ""  # why the last evaluation failed
        self._strips: dict[int, Strip] = {}

    # -- the SlotView protocol ---------------------------------------------------------

    def sync(self, dbg: Debugger) -> None:
        self._ask(dbg.program, tuple(dbg.parameters().values()))
        self.border_subtitle = "" if self.reason else (
            f"epoch {dbg.epoch + 1} · sample {dbg.sample_index + 1} · the parameters now")

    def sync_run(self, losses: list[float], params: dict[str, float]) -> None:
        dbg = getattr(self.app, "dbg", None)  # its program (fixed) only: the debugger is moving
        program = self.program if dbg is None else dbg.program
        if program is not None:
            self._ask(program, tuple(params.values()))
            self.border_subtitle = "" if self.reason else "following the run"

    def on_resize(self) -> None:
        # a view is asked first while still hidden (no size): its first size starts the work
        if self.program is not None and self._wanted is not None:
            self._strips.clear()
            self._ask(self.program, self._wanted[1])

    # -- evaluation --------------------------------------------------------------------

    def plane_size(self) -> tuple[int, int, int]:
        """(margin, cols, rows) of the plane in the pane's current size."""
        w, h = self.size
        classes = self.kinds
        margin = 0
        if self.program is not None and classes is not None and not self.reason:
            margin = len(self._y_labels()[0]) + 1
        return margin, max(0, w - margin), max(0, h - CHROME_ROWS)

    def _ask(self, program: Program, params: tuple[float, ...]) -> None:
        if program is not self.program:
            self.program = program
            self.reason = why_not(program)
            self.kinds = None if self.reason else classes_for(program)
            self.picture, self.params, self.shown_key = None, None, None
            self._strips.clear()
            self.refresh()
        if self.reason:
            return
        _, cols, rows = self.plane_size()
        self._wanted = (id(program), params, cols, rows)
        if cols < 4 or rows < 2:
            self._strips.clear()
            self.refresh()
            return
        if self._wanted != self.shown_key and not self._computing:
            self._start()

    def _start(self) -> None:
        assert self.program is not None and self.kinds is not None and self._wanted is not None
        self._computing = True
        _, params, cols, rows = self._wanted
        self._compute(self.program, self.kinds, params, cols, rows)

    @work(thread=True, group="boundary", exit_on_error=False)
    def _compute(self, program: Program, classes: Classes, params: tuple[float, ...], cols: int, rows: int) -> None:
        try:
            picture: Picture | str = evaluate(program, params, classes, cols, rows)
        except Exception as e:  # noqa: BLE001 - shown in the pane, never a traceback
            picture = visible(f"The plane could not be evaluated: {e}")
        if not get_current_worker().is_cancelled:
            self.post_message(BoundaryReady(picture, (id(program), params, cols, rows)))

    def on_boundary_ready(self, message: BoundaryReady) -> None:
        self._computing = False
        if self.program is not None and message.key[0] == id(self.program):  # not a scenario left since
            failed = isinstance(message.picture, str)
            self.picture = None if isinstance(message.picture, str) else message.picture
            self.failure = message.picture if failed else ""
            self.params = message.key[1]
            self.shown_key = message.key
            self._strips.clear()
            self.refresh()
        if self._wanted is not None and self._wanted != self.shown_key and not self.reason:
            self._start()

    @property
    def ready(self) -> bool:
        """Whether the picture shows the parameters and size last asked for."""
        return self.reason is not None or (self._wanted is not None and self._wanted == self.shown_key)

    # -- drawing -----------------------------------------------------------------------

    def _y_labels(self) -> tuple[str, str, str]:
        """(top, bottom, name) labels of the y axis, as wide as each other."""
        assert self.program is not None
        samples = self.program.scenario.samples
        lo, hi = span([s.x[1] for s in samples])
        name = visible(self.program.inputs[1])
        name = (name[:9] + "…" if len(name) > 10 else name) + " ↑"
        top, bottom = f"{hi:.3g}", f"{lo:.3g}"
        width = max(len(top), len(bottom), len(name))
        return top.rjust(width), bottom.rjust(width), name.rjust(width)

    def render_line(self, y: int) -> Strip:
        strip = self._strips.get(y)
        if strip is None:
            strip = self._strips[y] = self._line(y).crop_extend(0, self.size.width, self.rich_style)
        return strip

    def _line(self, y: int) -> Strip:
        base = self.rich_style
        if self.reason:
            words = self.reason.split()
            lines: list[str] = []
            for word in words:  # wrap at the pane's width
                if lines and len(lines[-1]) + 1 + len(word) <= self.size.width:
                    lines[-1] += " " + word
                else:
                    lines.append(word)
            return Strip([Segment(lines[y], base)] if y < len(lines) else [])
        pic = self.picture
        margin, cols, rows = self.plane_size()
        if cols < 4 or rows < 2:
            return Strip([Segment("too small here: z zooms" if y == 0 else "", base)])
        if pic is None:
            return Strip([Segment((self.failure or "evaluating the plane…") if y == 0 else "", base)])
        if y == 0:
            return self._legend()
        top, bottom, name = self._y_labels()
        if 1 <= y <= pic.rows:
            r = y - 1
            label = top if r == 0 else bottom if r == pic.rows - 1 else name if r == pic.rows // 2 else ""
            segs = [Segment(label.ljust(margin - 1) + " ", base)]
            for c in range(pic.cols):
                up = (int(pic.classes[2 * r, c]), int(pic.levels[2 * r, c]))
                down = (int(pic.classes[2 * r + 1, c]), int(pic.levels[2 * r + 1, c]))
                marker = pic.markers.get((r, c))
                if marker is not None:
                    cls, i = marker
                    ry, _ = pic.cell_of(*self.program.scenario.samples[i].x[:2])  # type: ignore[union-attr]
                    segs.append(Segment(GLYPHS[cls % len(GLYPHS)], _marker_style(*(up if ry == 2 * r else down))))
                else:
                    segs.append(Segment("▀", _half_style(*up, *down)))
            return Strip(segs)
        (x0, x1) = pic.x_range
        if y == pic.rows + 1:
            left, right = f"{x0:.3g}", f"{x1:.3g}"
            gap = max(1, pic.cols - len(left) - len(right))
            return Strip([Segment(" " * margin + left + " " * gap + right, base)])
        if y == pic.rows + 2:
            xname = "→ " + visible(self.program.inputs[0])  # type: ignore[union-attr]
            return Strip([Segment(" " * margin + xname.center(pic.cols).rstrip(), base)])
        return Strip([])

    def _legend(self) -> Strip:
        classes = self.kinds
        assert classes is not None
        base = self.rich_style
        segs: list[Segment] = []
        if classes.single:
            name = classes.names[0]
            lo, hi = classes.threshold - classes.half, classes.threshold + classes.half
            segs.append(Segment(f"{name} {lo:.3g} ", base))
            for cls, levels in ((0, range(LEVELS - 1, -1, -1)), (1, range(LEVELS))):
                for level in levels:
                    segs.append(Segment("█", Style(color=colour(cls, level))))
            segs.append(Segment(f" {hi:.3g}", base))
            labels = [f"target < {classes.threshold:.3g}", f"target ≥ {classes.threshold:.3g}"]
        else:
            for cls, name in enumerate(classes.names):
                segs.append(Segment("█", Style(color=colour(cls, LEVELS - 1))))
                segs.append(Segment(f" {name}  ", base))
            segs.append(Segment("(largest)", base))
            labels = [f"target {name}" for name in classes.names]
        for cls, label in enumerate(labels):
            segs.append(Segment("  " + GLYPHS[cls % len(GLYPHS)] + " " + label, base))
        if self.picture is not None and (self.picture.classes < 0).any():
            segs += [Segment("  "), Segment("█", Style(color=NOT_FINITE)), Segment(" not finite", base)]
        return Strip(segs)


@functools.cache
def _half_style(up_cls: int, up_level: int, down_cls: int, down_level: int) -> Style:
    return Style(color=colour(up_cls, up_level), bgcolor=colour(down_cls, down_level))


@functools.cache
def _marker_style(cls: int, level: int) -> Style:
    """A sample's glyph on the colour of the point it sits on, in black or white to stand out."""
    bg = colour(cls, level)
    r, g, b = bg.get_truecolor()
    ink = "#000000" if 0.299 * r + 0.587 * g + 0.114 * b > 110 else "#ffffff"
    return Style(color=Color.parse(ink), bgcolor=bg, bold=True)
