"""The predictions view (``y``, in the bottom-left slot): every sample's inputs, target,
the network's prediction under the current parameters, its loss and, for
classification, whether it is right; the accuracy and the mean loss; and the
predictions for new inputs (``i`` adds one).  It follows training: after every move
the parameters at the debugger's position, during a long run the run's."""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, Label, Static

from nnstep.errors import NNStepError
from nnstep.predict import (
    RULE_WORDS,
    SOFTMAX,
    THRESHOLD,
    Prediction,
    Predictions,
    parse_input,
    predict_new,
    predictions,
)
from nnstep.text import visible
from nnstep.vector import VectorNetwork

from ..fmt import num
from .computed import ComputedView, parameters_where
from .dialog import Dialog
from .rows import style_of

if TYPE_CHECKING:
    from nnstep.debugger import Debugger
    from nnstep.program import Program

#: Samples x forward ops up to which the table is computed on the UI thread.
CHEAP = 20_000
#: New inputs the view keeps (the oldest goes first).
MAX_NEW = 20


def cheap(program: Program) -> bool:
    """Whether one table is quick enough to compute between two keys."""
    n = len(program.scenario.samples)
    return VectorNetwork.supports(program) and n <= 2_000 or n * program.loss_end <= CHEAP


def columns(table: Predictions, targets: tuple[str, ...]) -> list[str]:
    """The table's column heads, by its rule."""
    head = ["sample", *table.inputs]
    if table.rule == THRESHOLD:
        head += ["target", *table.outputs, "class", "loss", ""]
    elif table.rule == SOFTMAX:
        head += ["target", "class", "p(class)", "loss", ""]
    else:
        head += [*targets, *table.outputs, "loss"]
    return [visible(h) for h in head]


def cells(table: Predictions, number: str, row: Prediction) -> list[str]:
    """One row's cells (file text made visible), under :func:`columns`."""
    out = [visible(f"{number} {row.name}".strip()), *(num(x) for x in row.x)]
    loss = num(row.loss) if row.loss is not None else ""
    mark = "" if row.right is None else ("✓ right" if row.right else "✗ wrong")
    if table.rule == THRESHOLD:
        target = num(row.y[0]) if row.y else ""
        return [*out, target, *(num(o) for o in row.outputs), row.predicted or "-", loss, mark]
    if table.rule == SOFTMAX:
        names = table.outputs
        p = row.outputs[names.index(row.predicted)] if row.predicted in names else float("nan")
        return [*out, visible(row.expected or ""), visible(row.predicted or "-"), num(p), loss, mark]
    return [*out, *(num(y) for y in row.y or ()), *(num(o) for o in row.outputs), loss]


class PredictionsView(ComputedView):
    """The samples' predictions, the accuracy and the mean loss."""

    COMPONENT_CLASSES = {"predictions--heading", "predictions--muted", "predictions--right",
                         "predictions--wrong", "predictions--head"}
    DEFAULT_CSS = """
    PredictionsView > .predictions--heading { color: $text-accent; text-style: bold; }
    PredictionsView > .predictions--muted { color: $text-muted; }
    PredictionsView > .predictions--head { text-style: bold underline; }
    PredictionsView > .predictions--right { color: $text-success; }
    PredictionsView > .predictions--wrong { color: $text-error; text-style: bold; }
    """
    BINDINGS = [*ComputedView.BINDINGS, Binding("i", "new_input", "new input", show=False)]

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.program: Program | None = None
        self.where = ""
        self.table: Predictions | None = None
        self.new_x: list[tuple[float, ...]] = []
        self.new_rows: list[Prediction] = []
        self.params: list[float] = []
        self.widths: list[int] = []
        self.key: tuple = ()  # what the table was computed from

    # ------------------------------------------------------------------ SlotView

    def sync(self, dbg: Debugger) -> None:
        if dbg.program is not self.program:
            if self.program is None or self.program.inputs != dbg.program.inputs:
                self.new_x = []
            self.program = dbg.program
        self._update(list(dbg.parameters().values()), parameters_where(dbg))

    # ------------------------------------------------------------------ computing

    def _update(self, params: list[float], where: str) -> None:
        program = self.program
        assert program is not None
        new_x = list(self.new_x)
        key = (id(program), tuple(params), tuple(new_x))
        if key == self.key and self.table is not None and not self.pending:
            self.where = where  # the same parameters: the same table
            self._rows()
            return
        self.key = key

        def work() -> tuple[Predictions, list[Prediction], str, list[float]]:
            return predictions(program, params), predict_new(program, params, new_x), where, params

        self.compute(work, cheap(program))

    def show_result(self, result: Any, error: BaseException | None) -> None:
        if error is not None:
            self.table = None
            self.set_rows([("muted", f"cannot compute the predictions: {visible(error)}")])
            return
        self.table, self.new_rows, self.where, self.params = result
        self._rows()

    def _rows(self) -> None:
        table = self.table
        program = self.program
        if table is None or program is None:
            return
        grid = [columns(table, program.targets)]
        grid += [cells(table, f"{i + 1}", r) for i, r in enumerate(table.rows)]
        grid += [cells(table, f"#{i + 1}", r) for i, r in enumerate(self.new_rows)]
        self.widths = [max(len(row[k]) for row in grid) for k in range(len(grid[0]))]
        rows: list[tuple[str, object]] = [("heading", table.summary()), ("muted", self.where)]
        rows += [("muted", line) for line in textwrap.wrap(RULE_WORDS[table.rule], 60)]
        rows.append(("head", grid[0]))
        rows += [("row", (c, r.right)) for c, r in zip(grid[1:], table.rows)]
        rows.append(("heading", f"new inputs ({len(self.new_rows)}): i adds one, e.g. "
                                + ",".join(f"{n}=0" for n in program.inputs)))
        rows += [("row", (c, None)) for c in grid[1 + len(table.rows):]]
        width = sum(self.widths) + 2 * len(self.widths)
        self.set_rows(rows, width)

    def row_text(self, index: int, width: int) -> Text:
        kind, what = self.rows[index]
        if kind in ("heading", "muted"):
            return Text(str(what), style=style_of(self, f"predictions--{kind}"))
        if kind == "head":
            t = Text(no_wrap=True)
            for c, w in zip(what, self.widths):  # type: ignore[call-overload]
                t.append(c.ljust(w), style_of(self, "predictions--head"))
                t.append("  ")
            return t
        row, right = what  # type: ignore[misc]
        t = Text(no_wrap=True)
        t.append("  ".join(c.ljust(w) for c, w in zip(row, self.widths)))
        if right is not None:
            t.stylize(style_of(self, "predictions--right" if right else "predictions--wrong"),
                      len(t) - self.widths[-1], len(t))
        return t

    def plain(self) -> str:
        """The view as plain text (for tests)."""
        return "\n".join(self.text_lines(max(20, self.virtual_width)))

    # ------------------------------------------------------------------ new inputs

    def action_new_input(self) -> None:
        program = self.program
        if program is None:
            return

        def done(x: tuple[float, ...] | None) -> None:
            if x is not None:
                self.add_input(x)

        self.app.push_screen(NewInputScreen(program), done)

    def add_input(self, x: tuple[float, ...]) -> None:
        """Predict ``x`` too (with the parameters the table shows)."""
        program = self.program
        if program is None:
            return
        self.new_x = [*self.new_x, x][-MAX_NEW:]
        if self.table is not None:
            self.new_rows = predict_new(program, self.params, self.new_x)
            self._rows()


class NewInputScreen(Dialog["tuple[float, ...] | None"]):
    """Ask for a new input, ``x1=-7,x2=-3``; a wrong one is explained under the field."""

    DEFAULT_CSS = """
    NewInputScreen > Vertical { max-width: 80; }
    NewInputScreen #new-input-error { color: $text-error; }
    """
    BINDINGS = [Binding("escape", "dismiss(None)", "cancel", show=False)]

    def __init__(self, program: Program) -> None:
        super().__init__()
        self.program = program

    def compose(self) -> ComposeResult:
        names = self.program.inputs
        with Vertical() as box:
            box.border_title = "Predict a new input"
            yield Label(Text(visible("every input NAME=VALUE, separated by commas; values may be arithmetic "
                                     f"(x=128-135). Inputs: {', '.join(names)}")))
            yield Input(placeholder=",".join(f"{n}=0" for n in names), id="new-input")
            yield Static("", id="new-input-error")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        try:
            x = parse_input(self.program, event.value)
        except NNStepError as exc:
            self.query_one("#new-input-error", Static).update(Text(str(exc)))
            return
        self.dismiss(x)

