"""The matrix view (slot view ``matrix``, key ``m``): the current op's layer in matrix
form, ``s = W·x + b`` then ``h = f(s)`` forward, ``∂L/∂W = δ·xᵀ`` backward,
``W ← W − η·∂L/∂W`` in the update phase (:mod:`nnstep.matrix` says which name each
entry is).  Every entry is ``dbg.value`` of its name, ``·`` where this sample has not
computed it yet; the current op's entry is highlighted and the entries it reads are
underlined.  A layer too big for the pane shows the rows and columns around the
current entry, the others elided as ``…``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rich.style import Style
from rich.text import Text
from textual.widget import Widget

from nnstep.matrix import LayerForm, form_for, layer_forms, layer_of
from nnstep.text import visible

from ..fmt import fit
from .labels import ACT_SYMBOL, READ, WRITE

if TYPE_CHECKING:
    from nnstep.debugger import Debugger

#: Columns of a row or column label (a neuron's or input's name), at most.
LABEL_W = 8
ELIDED = None  # a cell standing for the elided rows or columns


@dataclass
class Block:
    """One matrix or vector of the form: ``cells[row][col]`` are names (None: ``…``)."""

    title: str
    cells: list[list[str | None]]
    col_labels: list[str] | None = None
    row_labels: list[str] | None = None


@dataclass
class Snapshot:
    """What the view shows, read from the debugger in :meth:`MatrixView.sync`."""

    forms: tuple[LayerForm, ...]
    layer: int
    phase: str
    op: str
    reads: frozenset[str]
    values: dict[str, float | None]
    layers: int
    learning_rate: float
    updated: frozenset[str] = field(default_factory=frozenset)


def window(n: int, k: int, at: int) -> list[int | None]:
    """``k`` of ``range(n)`` around ``at``, with None where indexes are left out."""
    if k >= n:
        return list(range(n))
    start = min(max(0, at - k // 2), n - k)
    out: list[int | None] = list(range(start, start + k))
    if start > 0:
        out.insert(0, None)
    if start + k < n:
        out.append(None)
    return out


def _label(name: str) -> str:
    text = visible(name)
    return text if len(text) <= LABEL_W else text[: LABEL_W - 1] + "…"


def blocks(form: LayerForm, kind: str, rows: list[int | None], cols: list[int | None],
           act: bool = True) -> tuple[list, str]:
    """The blocks and operators of one form, for the rows and columns shown."""
    def column(names: tuple[str, ...], idx: list[int | None]) -> list[list[str | None]]:
        return [[names[i] if i is not None else ELIDED] for i in idx]

    def matrix(m: tuple[tuple[str, ...], ...]) -> list[list[str | None]]:
        return [[m[i][j] if i is not None and j is not None else ELIDED for j in cols] for i in rows]

    row_labels = [_label(form.neurons[i]) if i is not None else "…" for i in rows]
    col_labels = [_label(form.inputs[j]) if j is not None else "…" for j in cols]
    sym = ACT_SYMBOL.get(form.activation, visible(form.activation))
    if kind == "forward":
        out: list = [Block("W", matrix(form.weights), col_labels, row_labels), " · ",
                     Block("x", column(form.inputs, cols)), " + " if form.biases else "",
                     Block("b", column(form.biases, rows)) if form.biases else None, " = ",
                     Block(f"s, {sym}(s)" if act else "s",
                           [([form.sums[i], form.outputs[i]] if act else [form.sums[i]]) if i is not None
                            else [ELIDED] * (1 + act) for i in rows])]
        return [x for x in out if x], f"forward: s = W·x{' + b' if form.biases else ''}, then {sym}(s)"
    if kind == "backward":
        if not form.deltas:
            return ([Block("∂L/∂W", matrix(form.gradients), col_labels, row_labels)],
                    "backward: ∂L/∂W (δ = ∂L/∂s has no op of its own in a layer without biases)")
        return ([Block("∂L/∂W", matrix(form.gradients), col_labels, row_labels), " = ",
                 Block("δ = ∂L/∂b", column(form.deltas, rows)), " · ",
                 Block("xᵀ", [[form.inputs[j] if j is not None else ELIDED for j in cols]], col_labels)],
                "backward: ∂L/∂W = δ·xᵀ, δ = ∂L/∂s (the program's ∂L/∂b)")
    out = [Block("W (now)", matrix(form.weights), col_labels, row_labels), "  ",
           Block("b (now)", column(form.biases, rows)) if form.biases else None, "   ",
           Block("∂L/∂W", matrix(form.gradients), col_labels)]
    return [x for x in out if x], "update: W ← W − η·∂L/∂W" + (", b ← b − η·∂L/∂b" if form.biases else "")


def render_form(snap: Snapshot, width: int, height: int, cell_w: int) -> tuple[list[Text], list[tuple[int, int, str]]]:
    """The lines, and where each entry is: (line, x, name)."""
    form = snap.forms[snap.layer]
    kind = form_for(snap.phase)
    names = [form.sums, form.outputs, form.biases, form.deltas]
    at_row = next((i for group in names for i, n in enumerate(group) if n == snap.op), 0)
    at_col = 0
    for m in (form.weights, form.gradients):
        for i, row in enumerate(m):
            if snap.op in row:
                at_row, at_col = i, row.index(snap.op)
    if snap.op in form.inputs:
        at_col = form.inputs.index(snap.op)
    n_out, n_in = len(form.neurons), len(form.inputs)
    k_rows, k_cols, act = n_out, n_in, True
    narrowest = 6  # numbers keep three significant digits at least (-0.123)
    while True:
        rows, cols = window(n_out, k_rows, at_row), window(n_in, k_cols, at_col)
        parts, what = blocks(form, kind, rows, cols, act)
        lines, cells = lay_out(parts, snap, cell_w)
        wide = max(len(t.plain) for t in lines) > width
        tall = len(lines) + 2 > height
        if not (wide or tall):
            break
        if wide and cell_w > narrowest:
            cell_w -= 1
        elif act and kind == "forward" and snap.op not in form.outputs:  # f(s) only named in the title
            act = False
        elif tall and kind == "forward" and k_cols > 1 and k_cols >= k_rows:
            k_cols -= 1  # x is as tall as W is wide
        elif tall and k_rows > 1:
            k_rows -= 1
        elif wide and k_cols > 1:
            k_cols -= 1
        else:
            break  # the smallest form: cropped (z zooms)
    title = (f"layer {form.index + 1} of {snap.layers} ({visible(form.activation)}, {n_out}×{n_in}) · {what}")
    if kind == "update":
        title += f", η = {fit(snap.learning_rate, 9)}"
    head = [Text(title, style="bold", no_wrap=True, overflow="ellipsis")]
    notes = []
    if snap.op and snap.op not in {c[2] for c in cells}:
        notes.append(f"current op {snap.op}: not an entry of this form")
    if len(rows) < n_out or len(cols) < n_in or None in rows or None in cols:
        notes.append("… rows/columns left out around the current entry (z zooms)")
    if kind == "update":
        notes.append("updated entries bold")
    if notes:
        head.append(Text(" · ".join(notes), style="dim", no_wrap=True, overflow="ellipsis"))
    shift = len(head)
    return head + lines, [(y + shift, x, n) for y, x, n in cells]


def lay_out(parts: list, snap: Snapshot, cell_w: int) -> tuple[list[Text], list[tuple[int, int, str]]]:
    """Blocks side by side (titles, column labels, rows), operators between them."""
    height = 2 + max(len(p.cells) for p in parts if isinstance(p, Block))
    lines = [Text(no_wrap=True, overflow="crop") for _ in range(height)]
    cells: list[tuple[int, int, str]] = []
    prev_rows = 0
    for k, part in enumerate(parts):
        if isinstance(part, str):
            nxt = next((p for p in parts[k + 1:] if isinstance(p, Block)), None)
            rows = min(prev_rows, len(nxt.cells) if nxt else prev_rows)
            at = 2 + max(0, rows - 1) // 2
            for y, line in enumerate(lines):
                line.append(part if y == at else " " * len(part))
            continue
        label_w = max(len(s) for s in part.row_labels) + 1 if part.row_labels else 0
        ncols = max(len(r) for r in part.cells)
        inner = ncols * (cell_w + 1) + 1
        w = label_w + inner + 2
        lines[0].append(f"{' ' * label_w} {visible(part.title)}"[:w].ljust(w), Style(bold=True))
        if part.col_labels:
            labels = "".join(s.rjust(cell_w + 1) for s in part.col_labels)
            lines[1].append((" " * (label_w + 1) + labels).ljust(w), "dim")
        else:
            lines[1].append(" " * w)
        n = len(part.cells)
        for r in range(height - 2):
            line = lines[2 + r]
            if r >= n:
                line.append(" " * w)
                continue
            line.append((part.row_labels[r].ljust(label_w) if part.row_labels else ""), "dim")
            line.append(_bracket(r, n, True))
            for name in part.cells[r]:
                line.append(" ")
                if name is None:
                    line.append("…".rjust(cell_w), "dim")
                    continue
                v = snap.values.get(name)
                text = fit(v, cell_w, least=3).rjust(cell_w)
                cells.append((2 + r, len(line.plain), name))
                line.append(text, _style(snap, name, v))
            line.append(" " + _bracket(r, n, False))
        prev_rows = n
    return lines, cells


def _bracket(r: int, n: int, left: bool) -> str:
    if n == 1:
        return "[" if left else "]"
    if r == 0:
        return "⎡" if left else "⎤"
    if r == n - 1:
        return "⎣" if left else "⎦"
    return "⎢" if left else "⎥"


def _style(snap: Snapshot, name: str, v: float | None) -> Style | None:
    if name == snap.op:
        return WRITE
    if name in snap.reads:
        return READ
    if v is None:
        return Style(dim=True)
    if name in snap.updated:
        return Style(bold=True)
    return None


class MatrixView(Widget, can_focus=True):
    """The current layer in matrix form (a slot view; focusable, so z zooms it)."""

    ALLOW_MAXIMIZE = True

    DEFAULT_CSS = """
    MatrixView { height: 1fr; }
    """

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.snapshot: Snapshot | None = None
        self._forms: tuple[LayerForm, ...] = ()
        self._program = None
        self.cells: list[tuple[int, int, str]] = []  # where each entry was drawn: (line, x, name)
        self._lines: list[Text] = []

    def sync(self, dbg: Debugger) -> None:
        if dbg.program is not self._program:
            self._program = dbg.program
            self._forms = layer_forms(dbg.program)
        if not self._forms:
            self.snapshot = None
            self.refresh()
            return
        op = dbg.current_op
        layer = layer_of(self._forms, op)
        form = self._forms[layer]
        values = {n: dbg.value(n) for n in form.names()}
        updated = frozenset(n for n in (*(w for row in form.weights for w in row), *form.biases)
                            if op is not None and op.phase == "update" and dbg.program.by_name[n].index <= op.index)
        self.snapshot = Snapshot(self._forms, layer, dbg.phase, op.name if op else "",
                                 frozenset(op.reads if op else ()), values, len(self._forms),
                                 dbg.scenario.learning_rate, updated)
        self.refresh()

    def sync_run(self, losses: list[float], params: dict[str, float]) -> None:
        """Long runs: nothing to follow (the layer's numbers are redrawn when the run stops)."""

    def lines(self, width: int, height: int) -> list[Text]:
        snap = self.snapshot
        if snap is None:
            self.cells = []
            return [Text("the matrix view is for layered networks; a formula graph is drawn as a circuit "
                         "in the network pane", style="dim")]
        cell_w = 11 if self.is_maximized else 8
        lines, self.cells = render_form(snap, width, height, cell_w)
        return lines

    def render(self) -> Text:
        self._lines = self.lines(self.size.width, self.size.height)
        out = Text(no_wrap=True, overflow="crop")
        for i, line in enumerate(self._lines):
            if i:
                out.append("\n")
            out.append_text(line)
        return out

    def plain(self) -> str:
        return "\n".join(t.plain.rstrip() for t in self.lines(self.size.width, self.size.height))
