"""The health view (``h``, in the bottom-left slot): per layer, the mean |∂L/∂w| and
its ratio to the next layer's, with how many neurons are saturated or dead; then the
flagged neurons and what each flag means (see :mod:`nnstep.health`).  Also the marks
the values pane and the drawing put on flagged neurons (:class:`Marks`)."""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING, Any

from rich.text import Text

from nnstep.health import EPS, WORDS, Health, applies, flags, health
from nnstep.text import visible

from ..fmt import num
from .computed import ComputedView, parameters_where
from .rows import style_of

if TYPE_CHECKING:
    from nnstep.debugger import Debugger
    from nnstep.program import Program

#: Samples x ops (up to the updates) up to which the view is computed on the UI thread.
CHEAP = 50_000

#: How the values pane and the drawing mark a flagged neuron.
MARK = {"saturated": "saturated", "dead": "dead"}


class Marks:
    """The flagged neurons under the debugger's current parameters, recomputed only when
    the parameters change (once per sample's updates, not on every op)."""

    def __init__(self) -> None:
        self.key: tuple = ()
        self.flags: dict[str, str] = {}

    def of(self, dbg: Debugger) -> dict[str, str]:
        params = tuple(dbg.parameters().values())
        key = (id(dbg.program), params)
        if key != self.key:
            self.key = key
            try:
                self.flags = flags(dbg.program, params)
            except Exception:  # noqa: BLE001 - a hint; never in the way of stepping
                self.flags = {}
        return self.flags


#: One cache for the app's panes (the values pane and the drawing ask for the same position).
MARKS = Marks()


class HealthView(ComputedView):
    """Saturated and dead neurons, vanishing and exploding gradients."""

    COMPONENT_CLASSES = {"health--heading", "health--muted", "health--flag"}
    DEFAULT_CSS = """
    HealthView > .health--heading { color: $text-accent; text-style: bold; }
    HealthView > .health--muted { color: $text-muted; }
    HealthView > .health--flag { color: $text-error; text-style: bold; }
    """

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.program: Program | None = None
        self.result: Health | None = None
        self.where = ""
        self.key: tuple = ()  # what the hints were computed from

    def sync(self, dbg: Debugger) -> None:
        self.program = dbg.program
        self._update(list(dbg.parameters().values()), parameters_where(dbg))

    def _update(self, params: list[float], where: str) -> None:
        program = self.program
        assert program is not None
        if not applies(program):
            self.result = None
            self.set_rows([("muted", "health hints are for layered networks; a formula graph has no neurons")])
            return
        key = (id(program), tuple(params))
        if key == self.key and self.result is not None and not self.pending:
            self.show_result((self.result, where), None)  # the same parameters: the same hints
            return
        self.key = key
        update = program.phase_range("update")
        cost = len(program.scenario.samples) * (update.start if update else len(program.ops))

        def work() -> tuple[Health, str]:
            return health(program, params), where

        self.compute(work, cost <= CHEAP)

    def show_result(self, result: Any, error: BaseException | None) -> None:
        if error is not None:
            self.result = None
            self.set_rows([("muted", f"cannot compute the health hints: {visible(error)}")])
            return
        self.result, self.where = result
        lines = rows(self.result, self.where)
        self.set_rows(lines, max(len(str(text)) for _, text in lines))

    def row_text(self, index: int, width: int) -> Text:
        kind, what = self.rows[index]
        style = {"heading": "health--heading", "muted": "health--muted", "flag": "health--flag"}.get(kind)
        return Text(str(what), style=style_of(self, style) if style else "")

    def plain(self) -> str:
        return "\n".join(self.text_lines(max(20, self.virtual_width)))


def rows(h: Health, where: str) -> list[tuple[str, object]]:
    """The view's lines for ``h``."""
    out: list[tuple[str, object]] = [("muted", where)]
    grads = "all samples" if h.grad_samples == h.samples else f"the first {h.grad_samples} of {h.samples} samples"
    out.append(("heading", f"per layer: mean |∂L/∂w| over its weights and {grads}; ratio to the next layer"))
    by_layer: dict[int, list] = {}
    for n in h.neurons:
        by_layer.setdefault(n.layer, []).append(n)
    width = 0
    for layer in h.layers:
        ns = by_layer.get(layer.index, [])
        sat = sum(1 for n in ns if n.flag == "saturated")
        dead = sum(1 for n in ns if n.flag == "dead")
        ratio = "" if layer.ratio is None else f"  ratio {num(layer.ratio, 3)}"
        parts = [f"layer {layer.index + 1} {visible(layer.activation)} ({len(ns)})",
                 f"mean |∂L/∂w| {num(layer.mean_grad, 4)}{ratio}"]
        if sat:
            parts.append(f"{sat} saturated")
        if dead:
            parts.append(f"{dead} dead")
        if layer.flag:
            parts.append(layer.flag.upper())
        line = "  " + " · ".join(parts)
        width = max(width, len(line))
        out.append(("flag" if layer.flag or sat or dead else "", line))
    flagged = [n for n in h.neurons if n.flag]
    out.append(("heading", f"flagged neurons ({len(flagged)})" if flagged else "no neuron flagged"))
    for n in flagged:
        if n.flag == "dead":
            detail = f"output 0 on all {n.samples} samples"
        else:
            detail = f"within {EPS:g} of a bound on all {n.samples} samples"
        out.append(("flag", f"  {visible(n.name)} ({visible(n.activation)}, layer {n.layer + 1}): {n.flag}, {detail}"))
    partly = [n for n in h.neurons if not n.flag and n.saturated]
    if partly:
        out.append(("muted", "saturated on some samples: " + ", ".join(
            f"{visible(n.name)} {n.saturated}/{n.samples}" for n in partly[:24])
            + (" …" if len(partly) > 24 else "")))
    out.append(("heading", "what the flags mean"))
    for flag in ("saturated", "dead", "vanishing", "exploding"):
        out += [("muted", line) for line in textwrap.wrap(WORDS[flag], 72, initial_indent="  ",
                                                          subsequent_indent="    ")]
    return out
